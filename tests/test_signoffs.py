"""Sign-offs: who must sign, the status rules, signing and every refusal, My sign-offs and
the banner."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kb.extensions import db
from kb.models import Article, AuditLog, utcnow
from kb.signoffs import status
from kb.signoffs.models import SignOff
from kb.signoffs.services import AlreadySigned, Submission, sign
from tests.conftest import csrf_token, login
from tests.signoff_helpers import new_version, standard, user

TEXT = "## Greeting\n\nAnswer within 20 seconds and give your name.\n"


def _sign(slug: str, who, **changes):
    """Sign the current version of ``slug`` as ``who`` through the service."""
    article = db.session.scalar(db.select(Article).filter_by(slug=slug))
    values = dict(user_id=str(who.id), version_number=str(article.current_version.number),
                  content_sha256=article.current_version.sha256,
                  typed_name=who.display_name, password="demo", understood=True)
    values.update(changes)
    return sign(slug, who, Submission(**values), address="10.0.0.7", user_agent="pytest")


def _state(who, slug: str, now=None) -> status.Status:
    return next(s for s in status.for_user(who, now) if s.document.slug == slug)


def test_never_signed_is_missing_and_due_after_the_window(app):
    with app.app_context():
        article = standard("greeting", TEXT)
        db.session.commit()
        agent = user("agent")
        state = _state(agent, "greeting")
        assert state.state == "missing"
        start = max(article.current_version.created_at, agent.created_at)
        assert state.due == start + timedelta(days=14)


def test_signing_makes_it_current_and_a_minor_change_keeps_it_current(app):
    with app.app_context():
        article = standard("greeting", TEXT)
        _sign("greeting", user("agent"))
        db.session.commit()
        assert _state(user("agent"), "greeting").state == "current"
        new_version(article, TEXT + "\nTypo fixed.\n", material=False)
        db.session.commit()
        state = _state(user("agent"), "greeting")
        assert (state.state, state.signed_number, state.document.current_number) == (
            "current", 1, 2)


def test_a_material_change_makes_it_outdated_then_overdue_after_the_window(app):
    with app.app_context():
        article = standard("greeting", TEXT, signoff_window_days=3)
        _sign("greeting", user("agent"))
        version = new_version(article, TEXT.replace("20", "15"), material=True)
        db.session.commit()
        state = _state(user("agent"), "greeting")
        assert (state.state, state.signed_number) == ("outdated", 1)
        assert state.due == version.created_at + timedelta(days=3)
        later = version.created_at + timedelta(days=3, minutes=1)
        assert _state(user("agent"), "greeting", later).state == "overdue"
        _sign("greeting", user("agent"))
        db.session.commit()
        assert _state(user("agent"), "greeting", later).state == "current"


def test_never_signed_becomes_overdue(app):
    with app.app_context():
        standard("greeting", TEXT)
        db.session.commit()
        assert _state(user("agent"), "greeting", utcnow() + timedelta(days=15)).state == "overdue"


def test_audience_by_role_and_team_and_only_active_people(app, make_user):
    with app.app_context():
        team = user("agent").team_id
        standard("for-agents", TEXT)  # the default: every agent
        standard("for-everyone", TEXT, signoff_role="all")
        standard("for-one-team", TEXT, signoff_role="all", signoff_team_id=team)
        standard("not-a-standard", TEXT, requires=False)
        db.session.commit()
        slugs = {u: {s.document.slug for s in status.for_user(user(u))}
                 for u in ("agent", "manager", "admin")}
        assert slugs["agent"] == {"for-agents", "for-everyone", "for-one-team"}
        assert slugs["manager"] == {"for-everyone", "for-one-team"}  # same team as agent
        assert slugs["admin"] == {"for-everyone"}
        user("newstarter").active = False
        db.session.commit()
        assert status.matrix([user("newstarter")])[user("newstarter").id] == []


def test_the_matrix_takes_two_queries_however_many_people_and_documents(app, make_user):
    from sqlalchemy import event

    for n in range(40):
        make_user(f"agent{n}")
    with app.app_context():
        for n in range(8):
            standard(f"standard-{n}", TEXT)
        db.session.commit()
        people = list(db.session.scalars(status.audience(status.documents())))
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            cells = status.matrix(people)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        assert sum(len(row) for row in cells.values()) == len(people) * 8
        assert len(statements) == 2


@pytest.mark.parametrize("change, field", [
    ({"user_id": "OTHER"}, "user_id"),
    ({"version_number": "0"}, "version_number"),
    ({"content_sha256": "0" * 64}, "content_sha256"),
    ({"understood": False}, "understood"),
    ({"typed_name": "Alex Someone"}, "typed_name"),
    ({"password": "wrong"}, "password"),
])
def test_every_refusal_records_nothing(app, change, field):
    from kb.core.errors import Invalid

    with app.app_context():
        standard("greeting", TEXT)
        db.session.commit()
        agent = user("agent")
        if change.get("user_id") == "OTHER":
            change = {"user_id": str(user("manager").id)}
        with pytest.raises(Invalid) as refused:
            _sign("greeting", agent, **change)
        db.session.rollback()
        assert refused.value.field == field
        assert "nothing was recorded" in refused.value.message or field in (
            "understood", "typed_name")
        assert db.session.scalar(db.select(db.func.count(SignOff.id))) == 0
        assert db.session.scalar(db.select(db.func.count(AuditLog.id)).filter_by(
            action="signoff.recorded")) == 0


def test_the_name_matches_case_and_spacing_aside(app):
    with app.app_context():
        standard("greeting", TEXT)
        record = _sign("greeting", user("agent"), typed_name="  alex   AGENT ")
        db.session.commit()
        assert record.typed_name == "alex AGENT"
        assert (record.meaning, record.client_address, record.user_agent) == (
            "read and understood", "10.0.0.7", "pytest")


def test_a_second_signature_on_the_same_version_is_already_signed(app):
    with app.app_context():
        standard("greeting", TEXT)
        _sign("greeting", user("agent"))
        db.session.commit()
        with pytest.raises(AlreadySigned):
            _sign("greeting", user("agent"))
        db.session.rollback()
        assert db.session.scalar(db.select(db.func.count(SignOff.id))) == 1


# --- through the pages ----------------------------------------------------------------


@pytest.fixture
def greeting(app):
    with app.app_context():
        article = standard("greeting", TEXT)
        db.session.commit()
        return article.current_version.sha256


def _post(client, slug="greeting", **changes):
    page = client.get(f"/signoffs/articles/{slug}/sign")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    import re

    hidden = dict(re.findall(r'name="(user_id|version_number|content_sha256)"'
                             r' type="hidden" value="([^"]*)"', html))
    data = {"csrf_token": csrf_token(page), **hidden, "understood": "y",
            "typed_name": "Alex Agent", "password": "demo"}
    data.update(changes)
    data = {k: v for k, v in data.items() if v is not None}
    return client.post(f"/signoffs/articles/{slug}/sign", data=data,
                       headers={"User-Agent": "Pytest browser 1.0"},
                       environ_base={"REMOTE_ADDR": "192.0.2.44"})


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count(SignOff.id)))


def test_the_sign_page_shows_the_text_and_signing_records_it(app, client, greeting):
    login(client, "agent")
    page = client.get("/signoffs/articles/greeting/sign").get_data(as_text=True)
    assert "Answer within 20 seconds" in page
    assert "I have read and understood this standard" in page
    assert greeting in page
    response = _post(client)
    assert response.status_code == 302
    assert "Signed: version 1" in client.get(response.location).get_data(as_text=True)
    with app.app_context():
        record = db.session.scalar(db.select(SignOff))
        assert (record.version_number, record.content_sha256) == (1, greeting)
        assert (record.client_address, record.user_agent) == ("192.0.2.44", "Pytest browser 1.0")
        assert record.user_id == user("agent").id
        audit = db.session.scalar(db.select(AuditLog).filter_by(action="signoff.recorded"))
        assert audit.user_id == record.user_id and audit.detail["version"] == 1


@pytest.mark.parametrize("change, message", [
    ({"understood": None}, "Tick the box"),
    ({"typed_name": "Someone Else"}, "Type your full name"),
    ({"password": "nope"}, "That password is not right"),
    ({"version_number": "2"}, "has changed since you opened it"),
    ({"content_sha256": "a" * 64}, "does not match the current version"),
    ({"user_id": "999"}, "This form was for another person"),
    ({"csrf_token": "forged"}, "try again"),
])
def test_a_refused_post_says_why_and_records_nothing(app, client, greeting, change, message):
    login(client, "agent")
    response = _post(client, **change)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _count(app) == 0


def test_wrong_passwords_are_rate_limited_per_account(app, client, greeting):
    app.config["KB_LOGIN_ACCOUNT_LIMIT"] = "3 per 5 minutes"
    login(client, "agent")
    for _ in range(3):
        assert _post(client, password="nope").status_code == 400
    response = _post(client)  # even the right password waits now
    assert response.status_code == 429
    assert "Too many wrong passwords" in response.get_data(as_text=True)
    assert _count(app) == 0


def test_a_double_submit_records_one(app, client, greeting):
    login(client, "agent")
    page = client.get("/signoffs/articles/greeting/sign")
    assert _post(client).status_code == 302
    # The same form posted again (the back button, a double click).
    data = {"csrf_token": csrf_token(page), "user_id": "", "understood": "y",
            "typed_name": "Alex Agent", "password": "demo", "version_number": "1",
            "content_sha256": greeting}
    with app.app_context():
        data["user_id"] = str(user("agent").id)
    again = client.post("/signoffs/articles/greeting/sign", data=data)
    assert again.status_code == 302
    assert "already signed version 1" in client.get(again.location).get_data(as_text=True)
    assert _count(app) == 1


def test_no_sign_page_without_a_signoff_and_no_signing_outside_the_audience(app, client):
    with app.app_context():
        standard("plain", TEXT, requires=False)
        standard("managers-only", TEXT, signoff_role="manager")
        db.session.commit()
    login(client, "agent")
    assert client.get("/signoffs/articles/plain/sign").status_code == 404
    assert client.get("/signoffs/articles/nothing-here/sign").status_code == 404
    page = client.get("/signoffs/articles/managers-only/sign").get_data(as_text=True)
    assert "does not ask you for a sign-off" in page and 'name="password"' not in page
    response = _post(client, slug="managers-only")
    assert response.status_code == 400
    assert "does not ask you for a sign-off; nothing was recorded" in response.get_data(
        as_text=True)
    assert _count(app) == 0


def test_banner_counts_outstanding_and_overdue_and_links_to_my_signoffs(app, client):
    with app.app_context():
        standard("first", TEXT)
        old = standard("second", TEXT)
        # Published long ago, for an agent who has been here as long: overdue.
        old.current_version.created_at = utcnow() - timedelta(days=30)
        user("agent").created_at = utcnow() - timedelta(days=60)
        db.session.commit()
    login(client, "agent")
    page = client.get("/articles/").get_data(as_text=True)
    assert '2 sign-offs to do (1 overdue)' in page
    assert 'href="/signoffs/"' in page
    assert _post(client, slug="first").status_code == 302
    page = client.get("/articles/").get_data(as_text=True)
    assert "1 sign-off to do (1 overdue)" in page


def test_no_banner_when_nothing_is_owed(app, client):
    with app.app_context():
        standard("first", TEXT, signoff_role="admin")
        db.session.commit()
    login(client, "agent")
    page = client.get("/articles/").get_data(as_text=True)
    assert "signoff-banner" not in page and "to do · next due" not in page


def test_my_signoffs_shows_the_change_since_the_signed_version(app, client, greeting):
    login(client, "agent")
    assert _post(client).status_code == 302
    with app.app_context():
        article = db.session.scalar(db.select(Article).filter_by(slug="greeting"))
        new_version(article, TEXT.replace("20 seconds", "15 seconds"), material=True)
        db.session.commit()
    page = client.get("/signoffs/").get_data(as_text=True)
    assert "Changed since you signed" in page
    assert "you signed version 1; version 2 is current" in page
    assert "[inserted: </span>15" in page and "[deleted: </span>20" in page
    assert "Signed</h2>" in page and ">1</td>" in page


def test_agents_see_only_their_own_signoffs(app, client, greeting, make_user):
    make_user("bea", display_name="Bea Other")
    login(client, "agent")
    assert _post(client).status_code == 302
    other = app.test_client()
    login(other, "bea", "pw-bea")
    page = other.get("/signoffs/").get_data(as_text=True)
    assert "Not signed yet" in page
    assert "You have not signed anything yet." in page
    # Bea cannot sign as Alex, even with Alex's id in the form.
    with app.app_context():
        alex = str(user("agent").id)
    page = other.get("/signoffs/articles/greeting/sign")
    response = other.post("/signoffs/articles/greeting/sign", data={
        "csrf_token": csrf_token(page), "user_id": alex, "version_number": "1",
        "content_sha256": greeting, "understood": "y", "typed_name": "Alex Agent",
        "password": "demo"})
    assert "This form was for another person" in response.get_data(as_text=True)
    assert _count(app) == 1


def test_signing_needs_a_signed_in_user(client, greeting):
    response = client.get("/signoffs/")
    assert response.status_code == 302 and "/login" in response.location


def test_sign_posts_are_limited_per_address_like_sign_in(tmp_path):
    from kb.auth.services import seed_demo_accounts
    from tests.conftest import build_app

    app = build_app(tmp_path, KB_LOGIN_RATE_LIMIT="2 per minute")
    with app.app_context():
        seed_demo_accounts()
        standard("greeting", TEXT)
        db.session.commit()
    client = app.test_client()
    login(client, "agent")
    assert [_post(client, password="nope").status_code for _ in range(2)] == [400, 400]
    assert _post(client).status_code == 429
    assert _count(app) == 0
    with app.app_context():
        db.engine.dispose()


def test_a_standards_page_links_to_its_sign_page(client, greeting):
    login(client, "agent")
    page = client.get("/articles/greeting").get_data(as_text=True)
    assert 'href="/signoffs/articles/greeting/sign">Sign it</a>' in page
