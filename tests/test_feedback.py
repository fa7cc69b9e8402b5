"""Article feedback: agents say an article answered them or is out of date; managers
resolve reports (audited) in a queue."""

from __future__ import annotations

import pytest

from kb.core.errors import Invalid, NotAllowed
from kb.extensions import db
from kb.feedback import services
from kb.models import ArticleFeedback, AuditLog
from tests.conftest import csrf_token, login, user_named


def _rows(app) -> list[ArticleFeedback]:
    with app.app_context():
        rows = db.session.scalars(db.select(ArticleFeedback).order_by(ArticleFeedback.id)).all()
        db.session.expunge_all()
        return rows


def _send(client, slug: str, kind: str, comment: str = "", **headers):
    """Post the article page's own feedback form, pressing the button for ``kind``."""
    page = client.get(f"/articles/{slug}")
    return client.post(f"/feedback/articles/{slug}", headers=headers, data={
        "csrf_token": csrf_token(page), "version": "1", "kind": kind, "comment": comment})


def test_answered_counts_once_per_version_and_reports_can_be_several(two_articles, make_article,
                                                                     runner):
    with two_articles.app_context():
        agent = user_named("agent")
        first = services.send_feedback("swipe-cards", "answered", "1", "", agent)
        db.session.commit()
        again = services.send_feedback("swipe-cards", "answered", "1", "still good", agent)
        db.session.commit()
        assert first.created and not again.created
        assert again.feedback.id == first.feedback.id
        assert "already" in again.message
        for text in ("Fob price is wrong", "Also the form link is dead"):
            assert services.send_feedback("swipe-cards", "outdated", "1", text, agent).created
        db.session.commit()
    # A new version is a new question: "answered" counts again.
    make_article("swipe-cards", title="Swipe cards", body="Order a replacement fob online.")
    assert runner.invoke(args=["import-content"]).exit_code == 0
    with two_articles.app_context():
        agent = user_named("agent")
        assert services.send_feedback("swipe-cards", "answered", "2", "", agent).created
        db.session.commit()
    rows = _rows(two_articles)
    assert [(r.kind, r.version_number) for r in rows] == [
        ("answered", 1), ("outdated", 1), ("outdated", 1), ("answered", 2)]
    assert rows[1].comment == "Fob price is wrong"


def test_bad_feedback_is_refused_with_the_field_named(two_articles):
    with two_articles.app_context():
        agent = user_named("agent")
        for kind, version, comment, field in (
            ("liked", "1", "", "kind"),
            ("answered", "7", "", "version"),
            ("answered", "abc", "", "version"),
            ("outdated", "1", "x" * 1001, "comment"),
        ):
            with pytest.raises(Invalid) as error:
                services.send_feedback("swipe-cards", kind, version, comment, agent)
            assert error.value.field == field
        with pytest.raises(NotAllowed):
            services.send_feedback("swipe-cards", "answered", "1", "", None)
    assert _rows(two_articles) == []


def test_an_agent_sends_feedback_from_the_article_page_without_javascript(two_articles):
    client = two_articles.test_client()
    login(client, "agent")
    page = client.get("/articles/swipe-cards").get_data(as_text=True)
    assert 'action="/feedback/articles/swipe-cards"' in page
    assert 'name="version" value="1"' in page
    response = _send(client, "swipe-cards", "outdated", "The fob now costs £10.")
    assert response.status_code == 302 and response.location.endswith("/articles/swipe-cards")
    assert "your report is with the managers" in client.get(
        response.location).get_data(as_text=True)
    assert _send(client, "swipe-cards", "answered").status_code == 302
    repeat = _send(client, "swipe-cards", "answered")
    assert "already said this version answered" in client.get(
        repeat.location).get_data(as_text=True)
    rows = _rows(two_articles)
    assert [(r.kind, r.comment) for r in rows] == [
        ("outdated", "The fob now costs £10."), ("answered", "")]


def test_the_in_place_submit_gets_json(two_articles):
    client = two_articles.test_client()
    login(client, "agent")
    answer = _send(client, "bins", "answered", **{"X-Requested-With": "fetch"})
    assert answer.status_code == 200
    assert answer.get_json() == {"ok": True, "created": True,
                                 "message": "Thank you: you said this answered your question."}
    refused = _send(client, "bins", "outdated", "y" * 1500, **{"X-Requested-With": "fetch"})
    assert refused.status_code == 400
    assert refused.get_json()["field"] == "comment"
    assert "limit is 1,000" in refused.get_json()["message"]


def test_an_overlong_comment_says_so_keeps_the_text_and_saves_nothing(two_articles):
    client = two_articles.test_client()
    login(client, "agent")
    words = "The fob form has moved." + " It is on the portal now." * 48  # 1,223 characters
    response = _send(client, "swipe-cards", "outdated", words)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "1,223 characters long; the limit is 1,000. Nothing was sent" in page
    assert words in page  # still there, to shorten and send again
    assert _rows(two_articles) == []


def test_a_forged_post_without_the_csrf_token_is_refused(two_articles):
    client = two_articles.test_client()
    login(client, "agent")
    response = client.post("/feedback/articles/swipe-cards",
                           data={"version": "1", "kind": "outdated", "comment": "forged"})
    assert response.status_code == 400
    assert _rows(two_articles) == []


def test_feedback_on_a_missing_article_is_404(two_articles):
    client = two_articles.test_client()
    login(client, "agent")
    token = csrf_token(client.get("/articles/bins"))
    response = client.post("/feedback/articles/nope", data={
        "csrf_token": token, "version": "1", "kind": "answered"})
    assert response.status_code == 404


def _open_report(app, slug="swipe-cards", text="Wrong price") -> int:
    with app.app_context():
        sent = services.send_feedback(slug, "outdated", "1", text, user_named("agent"))
        db.session.commit()
        return sent.feedback.id


def test_agents_get_403_on_the_queue_and_on_resolve(two_articles):
    report = _open_report(two_articles)
    client = two_articles.test_client()
    login(client, "agent")
    assert client.get("/feedback/").status_code == 403
    token = csrf_token(client.get("/articles/bins"))
    response = client.post(f"/feedback/{report}/resolve", data={"csrf_token": token})
    assert response.status_code == 403
    assert _rows(two_articles)[0].resolved_at is None
    with two_articles.app_context(), pytest.raises(NotAllowed):
        services.resolve(report, "", user_named("agent"))


def test_a_manager_resolves_a_report_and_it_is_audited(two_articles):
    report = _open_report(two_articles)
    client = two_articles.test_client()
    login(client, "manager")
    queue = client.get("/feedback/")
    assert "Open report" in queue.get_data(as_text=True)
    response = client.post(f"/feedback/{report}/resolve", data={
        "csrf_token": csrf_token(queue), "note": "Price corrected in version 2."})
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "Report resolved." in page and "Price corrected in version 2." in page
    row = _rows(two_articles)[0]
    assert row.resolved_at is not None and row.resolution_note == "Price corrected in version 2."
    with two_articles.app_context():
        audit = db.session.scalars(db.select(AuditLog).filter_by(action="feedback.resolved")).all()
        assert len(audit) == 1
        assert (audit[0].target_type, audit[0].target_id) == ("article_feedback", str(report))
        assert audit[0].detail["note"] == "Price corrected in version 2."
        assert audit[0].user_id == user_named("manager").id
    # Resolving it again changes nothing and says so.
    again = client.post(f"/feedback/{report}/resolve", data={
        "csrf_token": csrf_token(queue), "note": "twice"})
    assert again.status_code == 400
    assert "already resolved" in again.get_data(as_text=True)
    with two_articles.app_context():
        assert db.session.scalar(db.select(db.func.count(AuditLog.id)).filter_by(
            action="feedback.resolved")) == 1


def test_an_overlong_resolve_note_changes_nothing(two_articles):
    report = _open_report(two_articles)
    client = two_articles.test_client()
    login(client, "manager")
    queue = client.get("/feedback/")
    response = client.post(f"/feedback/{report}/resolve", data={
        "csrf_token": csrf_token(queue), "note": "n" * 1001})
    assert response.status_code == 400
    assert "limit is 1,000" in response.get_data(as_text=True)
    assert _rows(two_articles)[0].resolved_at is None


def test_the_queue_puts_open_reports_first_filters_and_pages(two_articles):
    with two_articles.app_context():
        agent, manager = user_named("agent"), user_named("manager")
        old = services.send_feedback("bins", "outdated", "1", "Old report", agent).feedback
        db.session.flush()
        services.resolve(old.id, "", manager)
        services.send_feedback("bins", "answered", "1", "", agent)
        for n in range(services.PER_PAGE + 2):
            services.send_feedback("swipe-cards", "outdated", "1", f"report {n}", agent)
        db.session.commit()
        first = services.feedback_queue(manager)
        assert all(item.is_open for item in first.items)
        assert first.pages == 2
        last = services.feedback_queue(manager, page=2).items
        assert [i.kind for i in last][-2:] == ["answered", "outdated"]  # closed ones after
        assert [i.comment for i in services.feedback_queue(
            manager, state="resolved").items] == ["Old report"]
        assert [i.kind for i in services.feedback_queue(
            manager, article="bins", kind="answered").items] == ["answered"]
        counts = {c.slug: c for c in services.counts_by_article(manager)}
        assert (counts["bins"].answered, counts["bins"].open_reports, counts["bins"].reports) == (
            1, 0, 1)
        assert counts["swipe-cards"].open_reports == services.PER_PAGE + 2
        assert services.open_count() == services.PER_PAGE + 2
    client = two_articles.test_client()
    login(client, "manager")
    page = client.get("/feedback/?article=bins&kind=answered").get_data(as_text=True)
    assert "Bin collections" in page and "Swipe cards</a>, version" not in page
    assert client.get("/feedback/?page=2").status_code == 200
    assert client.get("/feedback/?kind=bogus&state=bogus").status_code == 200
    manage = client.get("/admin/").get_data(as_text=True)
    assert f"{services.PER_PAGE + 2} open reports" in manage
    assert 'href="/feedback/"' in manage and 'href="/analytics/"' in manage
