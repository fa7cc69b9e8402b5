"""History pages as agents and managers see them: versions, compare, revert, What's new."""

from __future__ import annotations

import html
import re

import pytest

from kb.extensions import db
from kb.models import Article, AuditLog, User
from tests.conftest import csrf_token, login
from tests.test_callscripts import write_script
from tests.test_history import BODIES
from tests.test_readonly_db import read_only  # noqa: F401,F811  (a fixture)


@pytest.fixture
def fobs(app, make_article, runner):
    """Article "fobs" in three versions and "lifts" in one."""
    make_article("lifts", title="Lifts", body="Report a broken lift to the repairs line.")
    for body in BODIES:
        make_article("fobs", title="Fobs", body=body)
        result = runner.invoke(args=["import-content"])
        assert result.exit_code == 0, result.output
    return app


def signed_in(app, username: str):
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def current_number(app, slug: str = "fobs") -> int:
    with app.app_context():
        article = db.session.scalar(db.select(Article).filter_by(slug=slug))
        return article.current_version.number


def test_article_page_links_to_its_history(fobs):
    page = text(signed_in(fobs, "agent").get("/articles/fobs"))
    assert 'href="/history/articles/fobs/"' in page


def test_history_page_lists_versions_with_compare_form(fobs):
    page = text(signed_in(fobs, "agent").get("/history/articles/fobs/"))
    assert page.index("Version 3") < page.index("Version 2") < page.index("Version 1")
    assert "Content import" in page and "Material" in page
    # The compare form: previous against current by default, no JavaScript needed.
    assert re.search(r'id="compare-from" name="from">.*?<option value="2" selected', page, re.S)
    assert re.search(r'id="compare-to" name="to">\s*<option value="3" selected', page)
    assert "/history/articles/fobs/compare?from=2&to=3" in page  # "What changed" in v3


def test_old_version_is_marked_and_links_to_current(fobs):
    page = text(signed_in(fobs, "agent").get("/history/articles/fobs/v1"))
    assert "Version 1 of 3 — not the current version." in page
    assert 'href="/articles/fobs"' in page
    assert "£10" in page and "£15" not in page
    current = text(signed_in(fobs, "agent").get("/history/articles/fobs/v3"))
    assert "the current version" in current and "not the current version" not in current


def test_compare_marks_insertions_and_deletions_in_both_views(fobs):
    page = signed_in(fobs, "agent").get("/history/articles/fobs/compare?from=1&to=3")
    body = text(page)
    assert page.status_code == 200
    assert "<del><span class=\"visually-hidden\">[deleted: </span>10" in body
    assert "[inserted: </span>15 and takes two days" in body
    assert "As readers see it" in body and "Markdown" in body
    # Only the rendered view lacks the Markdown heading marks.
    rendered = body.split("As readers see it")[1].split("<h2")[0]
    assert "## Keys" not in rendered and "## Keys" in body.split('id="compare-source"')[1]


def test_long_unchanged_stretches_are_folded(app, make_article, runner):
    lines = [f"Line {n} stays the same." for n in range(30)]
    make_article("long", title="Long", body="\n\n".join(lines))
    assert runner.invoke(args=["import-content"]).exit_code == 0
    lines[15] = "Line 15 has changed."
    make_article("long", title="Long", body="\n\n".join(lines))
    assert runner.invoke(args=["import-content"]).exit_code == 0
    page = text(signed_in(app, "agent").get("/history/articles/long/compare"))
    assert re.search(r"<details class=\"diff-fold\"><summary>\d+ unchanged lines</summary>", page)


@pytest.mark.parametrize("url", [
    "/history/articles/fobs/v0",
    "/history/articles/fobs/v4",
    "/history/articles/fobs/v99999999999",
    "/history/articles/fobs/compare?from=0&to=3",
    "/history/articles/fobs/compare?from=1&to=4",
    "/history/articles/fobs/compare?from=one&to=3",
    "/history/articles/nope/",
    "/history/pages/fobs/",
    "/history/scripts/fobs/",  # an article's slug is not a script
])
def test_out_of_range_or_unknown_is_404(fobs, url):
    assert signed_in(fobs, "agent").get(url).status_code == 404


def test_versions_of_another_document_cannot_be_compared(fobs):
    # Numbers belong to the document in the address: lifts has only version 1, so its
    # comparison cannot reach fobs' version 3.
    client = signed_in(fobs, "manager")
    assert client.get("/history/articles/lifts/compare?from=1&to=3").status_code == 404
    page = text(client.get("/history/articles/lifts/compare?from=1&to=1"))
    assert "No differences" in page and "fob" not in page.split("As readers see it")[1]


def test_agents_see_no_restore_control_and_get_403(fobs):
    client = signed_in(fobs, "agent")
    page = client.get("/history/articles/fobs/v1")
    assert "Restore this version" not in text(page)
    response = client.post("/history/articles/fobs/v1/restore",
                           data={"csrf_token": csrf_token(page), "material": "y"})
    assert response.status_code == 403
    assert current_number(fobs) == 3


def test_manager_restores_an_old_version(fobs):
    client = signed_in(fobs, "manager")
    page = client.get("/history/articles/fobs/v1")
    assert "Restore this version" in text(page)
    response = client.post("/history/articles/fobs/v1/restore", data={
        "csrf_token": csrf_token(page), "reason": "price rise withdrawn", "material": "y"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/history/articles/fobs/")
    history = text(client.get("/history/articles/fobs/"))
    assert "Version 1 restored as version 4." in history
    assert "Reverted to version 1: price rise withdrawn" in history
    assert "£10" in text(client.get("/articles/fobs"))
    with fobs.app_context():
        assert db.session.scalar(db.select(AuditLog).filter_by(action="article.revert"))
    # The index follows: searching finds the restored wording.
    found = client.get("/api/search?q=fob+costs").get_json()
    assert [r["slug"] for r in found["results"]][:1] == ["fobs"]


def test_restore_without_csrf_or_of_the_current_version_changes_nothing(fobs):
    client = signed_in(fobs, "manager")
    assert client.post("/history/articles/fobs/v1/restore", data={}).status_code == 400
    page = client.get("/history/articles/fobs/v3")
    assert "Restore this version" not in text(page)  # it is the current one
    response = client.post("/history/articles/fobs/v3/restore",
                           data={"csrf_token": csrf_token(page)}, follow_redirects=True)
    assert "is the same as the current version" in text(response)
    response = client.post("/history/articles/fobs/v1/restore",
                           data={"csrf_token": csrf_token(page), "reason": "x" * 401},
                           follow_redirects=True)
    assert "400 characters" in text(response)
    assert current_number(fobs) == 3


def test_script_history_shows_source_and_diff(app, runner, make_article, scripts_dir):
    make_article("swipe-cards", title="Swipe cards", body="Cancel, then order.")
    write_script(scripts_dir)
    assert runner.invoke(args=["import-content"]).exit_code == 0
    write_script(scripts_dir, extra="It takes two days.")
    assert runner.invoke(args=["import-content"]).exit_code == 0
    client = signed_in(app, "manager")
    assert 'href="/history/scripts/lost-fob/"' in text(client.get("/scripts/lost-fob/"))
    history = text(client.get("/history/scripts/lost-fob/"))
    assert "Version 2" in history and "Version 1" in history
    old = text(client.get("/history/scripts/lost-fob/v1"))
    assert "Version 1 of 2 — not the current version." in old
    assert "Script source" in old and "{#ask}" in old
    # A script is restored through the editor, which checks it like any edit.
    assert "/history/scripts/lost-fob/v1/restore" not in old
    assert "/publishing/scripts/lost-fob/edit?from_version=1" in old
    diff = text(client.get("/history/scripts/lost-fob/compare"))
    assert re.search(r"\[inserted: </span>\s*It takes two days\.", diff)


def test_whats_new_lists_changes_and_the_header_count_clears(fobs):
    client = signed_in(fobs, "agent")
    home = text(client.get("/"))
    assert re.search(r'What\'s new <span class="nav-count">2<span class="visually-hidden"> '
                     r"unseen material updates", home)
    page = text(client.get("/whats-new"))
    assert page.count('class="whats-new__item"') == 2  # lifts' first version is no change
    assert "/history/articles/fobs/compare?from=2&to=3" in page
    assert "New since you last looked" in page
    assert 'class="nav-count"' not in page  # opening the page is looking
    assert 'class="nav-count"' not in text(client.get("/"))
    again = text(client.get("/whats-new"))
    assert again.count('class="whats-new__item"') == 2 and "New since you last looked" not in again


def test_whats_new_answers_on_a_read_only_database(read_only, caplog):  # noqa: F811
    """The last look is a best-effort note: a database refusing writes still shows the page."""
    app, _writable = read_only
    client = signed_in(app, "agent")
    response = client.get("/whats-new")
    assert response.status_code == 200 and "What's new" in text(response)
    assert "last look not saved" in caplog.text
    assert client.get("/history/articles/swipe-cards/").status_code == 200


def test_an_archived_article_leaves_whats_new_and_its_history_is_for_managers(fobs):
    from kb.publishing.archive import archive
    from kb.reviews.services import overdue_count, review_board

    with fobs.app_context():
        manager = db.session.scalar(db.select(User).filter_by(username="manager"))
        fob = db.session.scalar(db.select(Article).filter_by(slug="fobs"))
        fob.next_review_date = fob.next_review_date.replace(year=2000)  # long overdue
        db.session.commit()
        assert overdue_count() == 1
        archive(manager, fob)
        db.session.commit()
        # Out of use: no longer news, and no longer due for review.
        assert overdue_count() == 0 and review_board() == []
    agent = signed_in(fobs, "agent")
    assert 'class="whats-new__item"' not in text(agent.get("/whats-new"))
    assert 'class="nav-count"' not in text(agent.get("/"))
    for url in ("/history/articles/fobs/", "/history/articles/fobs/v1",
                "/history/articles/fobs/compare?from=1&to=2"):
        assert agent.get(url).status_code == 404, url
        assert signed_in(fobs, "manager").get(url).status_code == 200, url
