"""Publishing pages: roles, the editor, conflicts, approval, archive, redirects, the index."""

from __future__ import annotations

import subprocess
import sys
from textwrap import dedent

import pytest

from kb.callscripts.format import parse_script_text
from kb.extensions import db
from kb.models import Article, AuditLog, Draft
from tests.conftest import ROOT, build_app, csrf_token, login
from tests.test_callscripts import SCRIPT
from tests.test_index_faults import _env, _with_read_only, instance  # noqa: F401

FORM = {"title": "Leaks and water", "slug": "leaks", "category": "Repairs", "tags": "leak",
        "summary": "Turn off the stopcock.", "owner": "Repairs", "review_cycle_months": "12"}


@pytest.fixture
def site(app, make_article, runner, make_user):
    """One imported article, the demo users and a second manager."""
    make_article("leaks", title="Leaks and water", category="Repairs",
                 body="A leak from the flat above.")
    assert runner.invoke(args=["import-content"]).exit_code == 0
    make_user("second", role="manager")
    return app


def signed_in(app, username: str):
    """A fresh test client signed in as ``username`` (a demo user, or one from make_user)."""
    password = "pw-second" if username == "second" else "demo"
    client = app.test_client()
    assert login(client, username, password).status_code == 302
    return client


def edit(client, at: str = "leaks", **changes):
    """Open the editor of article ``at``, then post it with ``changes``."""
    page = client.get(f"/publishing/articles/{at}/edit")
    assert page.status_code == 200
    data = dict(FORM, slug=at, markdown="A leak from the flat above.\n",
                base_version=_base(page), csrf_token=csrf_token(page), action="publish",
                change_summary="Stopcock first")
    data.update(changes)
    return client.post(f"/publishing/articles/{at}/edit", data=data)


def _base(page) -> str:
    import re

    return re.search(r'name="base_version" type="hidden" value="(\d+)"',
                     page.get_data(as_text=True)).group(1)


def _rule_urls(app) -> list[tuple[str, str]]:
    """(method, url) for every publishing route, with its placeholders filled in."""
    values = {"kinds": "articles", "slug": "leaks", "draft_id": "1"}
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("publishing."):
            continue
        url = rule.rule
        for name in rule.arguments:
            url = url.replace(f"<{name}>", values[name]).replace(f"<int:{name}>", values[name])
        found += [(method, url) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return found


def test_agents_get_403_on_every_editing_route(site):
    client = signed_in(site, "agent")
    token = csrf_token(client.get("/"))
    routes = _rule_urls(site)
    assert len(routes) >= 15
    for method, url in routes:
        response = client.open(url, method=method, data={"csrf_token": token})
        assert response.status_code == 403, (method, url)
    for method, url in [("POST", "/api/articles"), ("PUT", "/api/articles/leaks")]:
        response = client.open(url, method=method, json={}, headers={"X-CSRFToken": token})
        assert response.status_code == 403, (method, url)
    with site.app_context():
        assert db.session.scalar(db.select(db.func.count(Draft.id))) == 0


def test_agents_see_no_edit_controls_and_managers_do(site):
    agent, manager = signed_in(site, "agent"), signed_in(site, "manager")
    for url in ["/articles/leaks", "/articles/", "/scripts/"]:
        assert "/publishing/" not in agent.get(url).get_data(as_text=True), url
    page = manager.get("/articles/leaks").get_data(as_text=True)
    assert 'href="/publishing/articles/leaks/edit">Edit</a>' in page and "Archive" in page
    assert "New article" in manager.get("/articles/").get_data(as_text=True)
    assert "New call script" in manager.get("/scripts/").get_data(as_text=True)


def test_publishing_from_the_editor_is_searchable_at_once(site):
    manager = signed_in(site, "manager")
    response = edit(manager, markdown="Turn off the zorbster valve first.\n", material="y")
    assert response.status_code == 302 and response.headers["Location"] == "/articles/leaks"
    page = manager.get("/articles/leaks").get_data(as_text=True)
    assert "zorbster" in page and "Published version 2." in page
    agent = signed_in(site, "agent")
    assert agent.get("/api/search?q=zorbster").get_json()["total"] == 1
    with site.app_context():
        version = db.session.scalar(db.select(Article)).current_version
        assert version.change_summary == "Stopcock first" and version.material is True


def test_bad_input_gets_a_clear_message_and_changes_nothing(site):
    manager = signed_in(site, "manager")
    cases = [({"change_summary": ""}, "Say in a few words what changed"),
             ({"slug": "Leaks!"}, "lower-case letters"),
             ({"title": ""}, "Enter the title"),
             ({"markdown": "   "}, "The text is empty"),
             ({"review_cycle_months": "ninety"}, "whole number of months"),
             ({"base_version": "x"}, "reload the editor")]
    for changes, message in cases:
        response = edit(manager, **{"markdown": "Changed text.\n", **changes})
        assert response.status_code == 400, changes
        assert message in response.get_data(as_text=True), changes
    with site.app_context():
        assert db.session.scalar(db.select(Article)).current_version.number == 1


def test_a_forged_post_without_csrf_is_rejected(site):
    manager = signed_in(site, "manager")
    data = dict(FORM, markdown="Forged\n", base_version="1", action="publish",
                change_summary="Forged")
    for url in ["/publishing/articles/leaks/edit", "/publishing/articles/leaks/archive",
                "/publishing/preview", "/api/articles"]:
        response = manager.post(url, data=data)
        assert response.status_code == 400, url
    with site.app_context():
        article = db.session.scalar(db.select(Article))
        assert article.current_version.number == 1 and article.archived_at is None


def test_preview_renders_with_the_sanitising_renderer(site):
    manager = signed_in(site, "manager")
    page = manager.get("/publishing/articles/leaks/edit")
    token = csrf_token(page)
    response = manager.post("/publishing/preview", headers={"X-CSRFToken": token},
                            data={"markdown": "## Hello\n\n<script>alert(1)</script>\n\n"
                                              "!!! warning\n    Careful"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<h2" in html and "<script>" not in html
    assert 'class="admonition warning"' in html
    # Without JavaScript the Preview button re-renders the page with the preview.
    response = edit(manager, action="preview", markdown="**Bold new words**")
    assert response.status_code == 200
    assert "<strong>Bold new words</strong>" in response.get_data(as_text=True)


def test_two_managers_conflict_and_the_second_keeps_their_text(site):
    first, second = signed_in(site, "manager"), signed_in(site, "second")
    page_one = first.get("/publishing/articles/leaks/edit")
    page_two = second.get("/publishing/articles/leaks/edit")
    data = dict(FORM, base_version=_base(page_one), action="publish",
                change_summary="Mine")
    ok = first.post("/publishing/articles/leaks/edit",
                    data=dict(data, markdown="First manager's words.\n",
                              csrf_token=csrf_token(page_one)))
    assert ok.status_code == 302
    clash = second.post("/publishing/articles/leaks/edit",
                        data=dict(data, markdown="Second manager's words.\n",
                                  csrf_token=csrf_token(page_two)))
    html = clash.get_data(as_text=True)
    assert clash.status_code == 409
    assert "Someone published a newer version" in html and "<ins>" in html
    assert "Keep editing my text on top of version 2" in html
    with site.app_context():
        article = db.session.scalar(db.select(Article))
        assert article.current_version.markdown == "First manager's words.\n"
    rebase = second.post("/publishing/articles/leaks/edit",
                         data=dict(data, markdown="Second manager's words.\n", base_version="2",
                                   action="rebase", csrf_token=csrf_token(page_two)))
    assert rebase.status_code == 302
    editor = second.get("/publishing/articles/leaks/edit")
    assert "Second manager&#39;s words." in editor.get_data(as_text=True)
    assert _base(editor) == "2"
    assert edit(second, markdown="Second manager's words.\n", base_version="2"
                ).status_code == 302


def test_save_draft_then_discard(site):
    manager = signed_in(site, "manager")
    assert edit(manager, action="save", markdown="Half-written\n").status_code == 302
    page = manager.get("/publishing/articles/leaks/edit").get_data(as_text=True)
    assert "Half-written" in page and "Discard this draft" in page
    assert "Half-written" not in signed_in(site, "agent").get("/articles/leaks").get_data(
        as_text=True)
    with site.app_context():
        draft_id = db.session.scalar(db.select(Draft.id))
    token = csrf_token(manager.get("/publishing/"))
    assert manager.post(f"/publishing/drafts/{draft_id}/discard",
                        data={"csrf_token": token}).status_code == 302
    with site.app_context():
        assert db.session.scalar(db.select(db.func.count(Draft.id))) == 0
        assert db.session.scalar(db.select(AuditLog).filter_by(action="draft.discarded"))


def test_new_article_and_renamed_slugs_redirect(site):
    manager = signed_in(site, "manager")
    page = manager.get("/publishing/articles/new")
    response = manager.post("/publishing/articles/new", data=dict(
        FORM, slug="bins", title="Bins", markdown="Bins go out on Tuesday.\n", base_version="0",
        action="publish", change_summary="New", csrf_token=csrf_token(page)))
    assert response.status_code == 302 and response.headers["Location"] == "/articles/bins"
    assert edit(manager, "bins", slug="bin-day", title="Bins").status_code == 302
    assert edit(manager, "bin-day", slug="bin-collections", title="Bins").status_code == 302
    for old in ("bins", "bin-day"):
        moved = manager.get(f"/articles/{old}")
        assert moved.status_code == 301 and moved.headers["Location"] == "/articles/bin-collections"
    duplicate = edit(manager, "bin-collections", slug="leaks")
    assert duplicate.status_code == 400 and "already uses" in duplicate.get_data(as_text=True)


def test_archive_hides_from_agents_and_restore_brings_it_back(site):
    manager, agent = signed_in(site, "manager"), signed_in(site, "agent")
    assert agent.get("/api/search?q=leak").get_json()["total"] == 1
    token = csrf_token(manager.get("/articles/leaks"))
    assert manager.post("/publishing/articles/leaks/archive",
                        data={"csrf_token": token}).status_code == 302
    assert agent.get("/articles/leaks").status_code == 404
    assert agent.get("/api/articles/leaks").status_code == 404
    assert agent.get("/api/search?q=leak").get_json()["total"] == 0
    for url in ["/", "/articles/", "/categories/repairs"]:
        assert "Leaks and water" not in agent.get(url).get_data(as_text=True), url
    page = manager.get("/articles/leaks").get_data(as_text=True)
    assert "Archived" in page and "Restore" in page
    assert "Leaks and water" in manager.get("/publishing/archived").get_data(as_text=True)
    assert manager.post("/publishing/articles/leaks/restore",
                        data={"csrf_token": token}).status_code == 302
    assert agent.get("/articles/leaks").status_code == 200
    assert agent.get("/api/search?q=leak").get_json()["total"] == 1


def test_approval_by_category_needs_a_second_manager(site):
    author, approver = signed_in(site, "manager"), signed_in(site, "second")
    token = csrf_token(author.get("/publishing/categories"))
    author.post("/publishing/categories", data={"csrf_token": token, "category": "Repairs",
                                                "requires_approval": "1"})
    page = author.get("/publishing/articles/leaks/edit").get_data(as_text=True)
    assert "Submit for approval" in page
    assert edit(author, markdown="Needs approving.\n").status_code == 302
    with site.app_context():
        draft_id = db.session.scalar(db.select(Draft.id))
        assert db.session.scalar(db.select(Article)).current_version.number == 1
    own = author.get(f"/publishing/approvals/{draft_id}").get_data(as_text=True)
    assert "another manager must approve" in own and "Approve and publish" not in own
    forged = author.post(f"/publishing/approvals/{draft_id}/approve",
                         data={"csrf_token": token})
    assert forged.status_code == 403
    listing = approver.get("/publishing/approvals").get_data(as_text=True)
    assert "Stopcock first" in listing
    review = approver.get(f"/publishing/approvals/{draft_id}").get_data(as_text=True)
    assert "<ins>" in review and "Approve and publish" in review
    token2 = csrf_token(approver.get(f"/publishing/approvals/{draft_id}"))
    assert approver.post(f"/publishing/approvals/{draft_id}/approve",
                         data={"csrf_token": token2}).status_code == 302
    with site.app_context():
        version = db.session.scalar(db.select(Article)).current_version
        assert version.markdown == "Needs approving.\n" and version.approved_by_id is not None


def test_send_back_shows_the_comment_to_the_author(site):
    author, approver = signed_in(site, "manager"), signed_in(site, "second")
    assert edit(author, markdown="Please check.\n", requires_approval="y").status_code == 302
    with site.app_context():
        draft_id = db.session.scalar(db.select(Draft.id))
    token = csrf_token(approver.get(f"/publishing/approvals/{draft_id}"))
    empty = approver.post(f"/publishing/approvals/{draft_id}/send-back",
                          data={"csrf_token": token, "comment": ""})
    assert empty.status_code == 400 and "Say what needs changing" in empty.get_data(as_text=True)
    assert approver.post(f"/publishing/approvals/{draft_id}/send-back",
                         data={"csrf_token": token, "comment": "Add the out-of-hours number."}
                         ).status_code == 302
    page = author.get("/publishing/articles/leaks/edit").get_data(as_text=True)
    assert "Sent back by" in page and "Add the out-of-hours number." in page


def test_script_editor_lists_each_problem_beside_its_step(site, runner, scripts_dir):
    manager = signed_in(site, "manager")
    page = manager.get("/publishing/scripts/new")
    broken = SCRIPT.format(extra="").replace("(#lost)", "(#nowhere)")
    response = manager.post("/publishing/scripts/new", data={
        "slug": "lost-fob", "markdown": broken, "base_version": "0", "action": "publish",
        "change_summary": "New", "csrf_token": csrf_token(page)})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Step <code>ask</code>" in html and 'data-goto-line="' in html and "nowhere" in html
    with site.app_context():
        assert db.session.scalar(db.select(db.func.count(Draft.id))) == 0
    response = manager.post("/publishing/scripts/new", data={
        "slug": "lost-fob", "markdown": broken.replace("(#nowhere)", "(#lost)")
        .replace("swipe-cards", "leaks"), "base_version": "0", "action": "publish",
        "change_summary": "New", "csrf_token": csrf_token(page)})
    assert response.status_code == 302 and response.headers["Location"] == "/scripts/lost-fob/"
    assert "Edit" in manager.get("/scripts/lost-fob/").get_data(as_text=True)


PUBLISH_WITH_READ_ONLY_INDEX = dedent("""
    from kb import create_app
    from tests.conftest import csrf_token, login
    app = create_app("testing")
    client = app.test_client()
    login(client, "manager")
    page = client.get("/publishing/articles/leaks/edit")
    response = client.post("/publishing/articles/leaks/edit", data={
        "title": "Leaks and water", "slug": "leaks", "category": "Call handling",
        "markdown": "Call the quillbeast hotline.", "base_version": "1",
        "action": "publish", "change_summary": "Hotline", "csrf_token": csrf_token(page)},
        follow_redirects=True)
    print(response.status_code)
    print(response.get_data(as_text=True))
""")


def test_publish_with_an_unwritable_index_still_publishes_and_search_catches_up(instance):  # noqa: F811
    base, _token = instance
    index_dir = base / "index"
    argv = [sys.executable, "-c", PUBLISH_WITH_READ_ONLY_INDEX]
    try:
        result = subprocess.run(_with_read_only(index_dir, argv), cwd=ROOT, env=_env(base),
                                capture_output=True, text=True, timeout=120)
    finally:
        index_dir.chmod(0o755)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("200")
    assert "Published version 2." in result.stdout and "will catch up" in result.stdout
    app = build_app(base)
    with app.app_context():
        article = db.session.scalar(db.select(Article).filter_by(slug="leaks"))
        assert "quillbeast" in article.current_version.markdown
    # Writable again: the next process's first search catches the index up.
    client = app.test_client()
    login(client, "agent")
    assert client.get("/api/search?q=quillbeast").get_json()["total"] == 1


def test_a_new_article_draft_is_one_draft_until_approved_and_then_gone(site):
    author, approver = signed_in(site, "manager"), signed_in(site, "second")
    page = author.get("/publishing/articles/new")
    data = dict(FORM, slug="bins", title="Bins", markdown="Bins go out on Tuesday.\n",
                base_version="0", action="save", change_summary="New",
                requires_approval="y", csrf_token=csrf_token(page))
    saved = author.post("/publishing/articles/new", data=data)
    assert saved.status_code == 302
    reopened = author.get(saved.headers["Location"])
    html = reopened.get_data(as_text=True)
    assert "Bins go out on Tuesday." in html and 'action="/publishing/articles/new"' in html
    with site.app_context():
        draft_id = db.session.scalar(db.select(Draft.id))
    assert f'name="draft_id" value="{draft_id}"' in html
    again = author.post("/publishing/articles/new",
                        data=dict(data, draft_id=str(draft_id), action="publish"))
    assert again.status_code == 302  # submitted for approval (the box is ticked)
    with site.app_context():
        assert db.session.scalars(db.select(Draft.state)).all() == ["pending"]
        assert db.session.scalar(db.select(Article).filter_by(slug="bins")) is None
    token = csrf_token(approver.get(f"/publishing/approvals/{draft_id}"))
    approved = approver.post(f"/publishing/approvals/{draft_id}/approve",
                             data={"csrf_token": token})
    assert approved.status_code == 302 and approved.headers["Location"] == "/articles/bins"
    with site.app_context():
        assert db.session.scalar(db.select(db.func.count(Draft.id))) == 0
        assert db.session.scalar(db.select(Article).filter_by(slug="bins")).requires_approval



def test_an_old_script_version_is_restored_through_the_editor(site, runner, make_article,
                                                               scripts_dir):
    from kb.models import CallScript
    from tests.test_callscripts import write_script

    make_article("swipe-cards", title="Swipe cards", body="Cancel, then order.")
    write_script(scripts_dir)
    assert runner.invoke(args=["import-content"]).exit_code == 0
    write_script(scripts_dir, extra="It takes two days.")
    assert runner.invoke(args=["import-content"]).exit_code == 0
    manager = signed_in(site, "manager")
    old = manager.get("/history/scripts/lost-fob/v1").get_data(as_text=True)
    link = "/publishing/scripts/lost-fob/edit?from_version=1"
    assert link in old
    assert link not in signed_in(site, "agent").get("/history/scripts/lost-fob/v1").get_data(
        as_text=True)
    page = manager.get(link)
    html = page.get_data(as_text=True)
    assert "The editor holds version 1." in html and "It takes two days." not in html
    with site.app_context():
        script = db.session.scalar(db.select(CallScript).filter_by(slug="lost-fob"))
        first = script.versions[0].markdown
    response = manager.post("/publishing/scripts/lost-fob/edit", data={
        "slug": "lost-fob", "markdown": first, "base_version": _base(page),
        "action": "publish", "change_summary": "Reverted to version 1",
        "csrf_token": csrf_token(page)})
    assert response.status_code == 302
    with site.app_context():
        script = db.session.scalar(db.select(CallScript).filter_by(slug="lost-fob"))
        assert [v.number for v in script.versions] == [1, 2, 3]  # history kept
        assert script.current_version.markdown == first
    # A number that is not an earlier version leaves the current text in the editor.
    again = manager.get("/publishing/scripts/lost-fob/edit?from_version=3").get_data(
        as_text=True)
    assert "There is no earlier version with that number" in again


LATE_FIELD = dedent("""\
    ---
    title: Booking
    start: a
    ---

    ## A {#a}

    > Booked for [appointment]. It is [speed].

    - [Book](#b)

    ## B {#b .end}

    > Thank you.

    Capture: appointment
    Set: speed = quick
    """)


def test_script_editor_shows_the_imports_warnings_and_still_publishes(site):
    """A placeholder that no route to its step fills (a field asked for later, a "Set:" value
    given later) is shown as a warning, in the page and in the live preview; it is no
    problem: the script saves and publishes."""
    manager = signed_in(site, "manager")
    page = manager.get("/publishing/scripts/new")
    token = csrf_token(page)
    form = {"slug": "booking", "markdown": LATE_FIELD, "base_version": "0",
            "change_summary": "New", "csrf_token": token}
    shown = manager.post("/publishing/scripts/new", data=dict(form, action="preview"))
    html = shown.get_data(as_text=True)
    assert shown.status_code == 200
    assert "2 warnings: the script can be published" in html
    assert "placeholder [appointment] names &#39;appointment&#39;, which no route" in html
    assert "placeholder [speed] names &#39;speed&#39;" in html
    assert 'data-goto-line="6"' in html and 'class="problems"' not in html

    live = manager.post("/publishing/preview", data={
        "markdown": LATE_FIELD, "kind": "script", "csrf_token": token})
    assert "2 warnings" in live.get_data(as_text=True)
    fixed = LATE_FIELD.replace("Capture: appointment\nSet: speed = quick\n", "").replace(
        "- [Book](#b)", "Capture: appointment\nSet: speed = quick\n\n- [Book](#b)")
    assert parse_script_text(fixed, "booking.md").warnings == []  # valid, and nothing to say
    live = manager.post("/publishing/preview", data={
        "markdown": fixed, "kind": "script", "csrf_token": token})
    assert "warning" not in live.get_data(as_text=True)
    article = manager.post("/publishing/preview", data={
        "markdown": "Booked for [appointment].", "kind": "article", "csrf_token": token})
    assert "warning" not in article.get_data(as_text=True)  # an article has no placeholders

    published = manager.post("/publishing/scripts/new", data=dict(form, action="publish"))
    assert published.status_code == 302 and published.headers["Location"] == "/scripts/booking/"
    again = manager.get("/publishing/scripts/booking/edit").get_data(as_text=True)
    assert "2 warnings" in again  # the editor says so whenever it opens the script
