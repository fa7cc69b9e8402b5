"""The home page as each person sees it: their pinned articles and what they opened lately,
what changed lately (by the date the content says it changed), what needs a manager, and a
new starter's induction first. Also the ``updated:`` front-matter key behind "Recently
updated": parsed, stored, shown, ordered, exported, and refused when wrong."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest

from kb.extensions import db
from tests.conftest import build_app, csrf_token, login, user_named
from tests.induction_helpers import SCRIPT


def _section(html: str, heading_id: str) -> str:
    """The HTML of the home page section whose heading has this id."""
    start = html.index(f'id="{heading_id}"')
    end = html.find("</section>", start)
    return html[start:end]


def _titles(section: str) -> list[str]:
    """The linked titles of a list, in order."""
    return re.findall(r'class="line-list__title" href="[^"]+">([^<]+)</a>', section)


def _pinned(client) -> list[str]:
    return _titles(_section(client.get("/").get_data(as_text=True), "pinned-heading"))


def _viewed(client) -> list[str]:
    return _titles(_section(client.get("/").get_data(as_text=True), "viewed-heading"))


def _recent(client) -> str:
    return _section(client.get("/").get_data(as_text=True), "recent-heading")


def _pin(client, slug: str, action: str = "pin", **data):
    """Press a pin button as the page offers it (with the page's CSRF token)."""
    token = csrf_token(client.get(f"/articles/{slug}"))
    return client.post(f"/articles/{slug}/{action}", data={"csrf_token": token, **data})


def _pin_rows(app) -> int:
    from kb.articles.models import PinnedArticle

    with app.app_context():
        return db.session.scalar(db.select(db.func.count(PinnedArticle.id)))


@pytest.fixture
def desk(app, make_article, scripts_dir, runner):
    """Four articles and a call script, imported."""
    for slug, title in (("bins", "Bin collections"), ("swipe-cards", "Swipe cards"),
                        ("parking", "Parking permits"), ("pets", "Pets in flats")):
        make_article(slug, title=title)
    (scripts_dir / "lost-fob.md").write_text(SCRIPT, encoding="utf-8")
    result = runner.invoke(args=["import-content"])
    assert result.exit_code == 0, result.output
    return app


# --- Pins ------------------------------------------------------------------------------


def test_an_agent_pins_an_article_and_finds_it_on_their_home_page(desk):
    client = desk.test_client()
    login(client, "agent")
    home = client.get("/").get_data(as_text=True)
    assert "Pin articles you use often: use the “Pin to my home page” button" in home
    page = client.get("/articles/bins").get_data(as_text=True)
    assert ">Pin to my home page</button>" in page

    response = _pin(client, "bins")
    assert response.status_code == 302 and response.location.endswith("/articles/bins")
    page = client.get("/articles/bins").get_data(as_text=True)
    assert "Pinned “Bin collections” to your home page." in page
    assert ">Unpin from my home page</button>" in page
    assert 'action="/articles/bins/unpin"' in page
    assert _pinned(client) == ["Bin collections"]

    _pin(client, "swipe-cards")
    assert _pinned(client) == ["Bin collections", "Swipe cards"]  # newest pin last
    _pin(client, "bins")  # pinned twice: still once
    assert _pinned(client) == ["Bin collections", "Swipe cards"]

    response = _pin(client, "bins", "unpin", back="home")
    assert response.location.endswith("/#pinned-heading")
    home = client.get("/").get_data(as_text=True)
    assert "Unpinned “Bin collections” from your home page." in home
    assert _titles(_section(home, "pinned-heading")) == ["Swipe cards"]


def test_the_pin_button_answers_in_place_for_javascript(desk):
    client = desk.test_client()
    login(client, "agent")
    token = csrf_token(client.get("/articles/pets"))
    answer = client.post("/articles/pets/pin", data={"csrf_token": token},
                         headers={"X-Requested-With": "fetch"})
    assert answer.status_code == 200
    assert answer.json == {"ok": True, "pinned": True,
                           "message": "Pinned “Pets in flats” to your home page."}
    answer = client.post("/articles/pets/unpin", data={"csrf_token": token},
                         headers={"X-Requested-With": "fetch"})
    assert answer.json["pinned"] is False and _pinned(client) == []


def test_a_pin_without_the_forms_token_changes_nothing(desk):
    client = desk.test_client()
    login(client, "agent")
    assert client.post("/articles/bins/pin", data={}).status_code == 400
    assert client.post("/articles/bins/pin",
                       data={"csrf_token": "forged-by-another-site"}).status_code == 400
    assert _pin_rows(desk) == 0
    _pin(client, "bins")
    assert client.post("/articles/bins/unpin", data={}).status_code == 400
    assert client.post("/articles/bins/pin/down", data={}).status_code == 400
    assert _pinned(client) == ["Bin collections"]


def test_signed_out_nobody_can_pin(desk):
    client = desk.test_client()
    response = client.post("/articles/bins/pin", data={})
    assert response.status_code in (302, 400)
    assert _pin_rows(desk) == 0


def test_pinning_an_unknown_article_is_a_404(desk):
    client = desk.test_client()
    login(client, "agent")
    assert _pin(client, "bins").status_code == 302
    token = csrf_token(client.get("/"))
    assert client.post("/articles/no-such-thing/pin",
                       data={"csrf_token": token}).status_code == 404
    assert client.post("/articles/bins/pin/sideways",
                       data={"csrf_token": token}).status_code == 404


def test_the_home_page_keeps_at_most_twelve_pins_and_says_so(app, make_article, runner):
    for number in range(13):
        make_article(f"topic-{number:02}", title=f"Topic {number:02}")
    assert runner.invoke(args=["import-content"]).exit_code == 0
    client = app.test_client()
    login(client, "agent")
    for number in range(12):
        assert _pin(client, f"topic-{number:02}").status_code == 302
    home = client.get("/").get_data(as_text=True)
    assert len(_titles(_section(home, "pinned-heading"))) == 12
    assert "That is 12 pinned articles, the most the home page keeps" in home

    _pin(client, "topic-12")
    page = client.get("/articles/topic-12").get_data(as_text=True)
    assert ("You already have 12 pinned articles, the most the home page keeps. Unpin one "
            "you use less, then pin this one.") in page
    assert ">Pin to my home page</button>" in page
    assert _pin_rows(app) == 12
    token = csrf_token(client.get("/"))
    answer = client.post("/articles/topic-12/pin", data={"csrf_token": token},
                         headers={"X-Requested-With": "fetch"})
    assert answer.status_code == 400
    assert answer.json["ok"] is False and answer.json["pinned"] is False
    assert "12 pinned articles" in answer.json["message"]

    _pin(client, "topic-00", "unpin")  # room again
    _pin(client, "topic-12")
    assert _pinned(client)[-1] == "Topic 12"


def test_pins_move_up_and_down(desk):
    client = desk.test_client()
    login(client, "agent")
    for slug in ("bins", "swipe-cards", "parking"):
        _pin(client, slug)
    home = client.get("/").get_data(as_text=True)
    pinned = _section(home, "pinned-heading")
    # The first cannot go up, the last cannot go down; every button names its article.
    assert 'action="/articles/bins/pin/up"' not in pinned
    assert 'action="/articles/parking/pin/down"' not in pinned
    assert "Up<span class=\"visually-hidden\"> (move “Swipe cards” up one place)" in pinned

    _pin(client, "parking", "pin/up", back="home")
    assert _pinned(client) == ["Bin collections", "Parking permits", "Swipe cards"]
    _pin(client, "bins", "pin/down", back="home")
    assert _pinned(client) == ["Parking permits", "Bin collections", "Swipe cards"]
    response = _pin(client, "parking", "pin/up", back="home")  # first already
    assert response.status_code == 302
    assert "“Parking permits” is already first." in client.get("/").get_data(as_text=True)
    assert _pinned(client) == ["Parking permits", "Bin collections", "Swipe cards"]


def test_another_persons_pins_and_views_are_not_shown(desk):
    agent = desk.test_client()
    login(agent, "agent")
    _pin(agent, "bins")
    agent.get("/articles/parking")
    manager = desk.test_client()
    login(manager, "manager")
    assert _pinned(manager) == []
    assert _viewed(manager) == []
    assert ">Pin to my home page</button>" in manager.get("/articles/bins").get_data(
        as_text=True)


def test_an_archived_article_leaves_pins_and_recently_viewed(desk):
    from kb.models import Article
    from kb.publishing.archive import archive, restore

    client = desk.test_client()
    login(client, "agent")
    _pin(client, "bins")
    _pin(client, "pets")
    client.get("/articles/bins")
    client.get("/articles/pets")
    with desk.app_context():
        article = db.session.scalar(db.select(Article).filter_by(slug="bins"))
        archive(user_named("manager"), article)
        db.session.commit()
    assert _pinned(client) == ["Pets in flats"]
    assert "Bin collections" not in _viewed(client)
    token = csrf_token(client.get("/"))
    assert client.post("/articles/bins/pin", data={"csrf_token": token}).status_code == 404
    with desk.app_context():
        article = db.session.scalar(db.select(Article).filter_by(slug="bins"))
        restore(user_named("manager"), article)
        db.session.commit()
    assert _pinned(client) == ["Bin collections", "Pets in flats"]  # back where it was


# --- Recently viewed -------------------------------------------------------------------


def test_recently_viewed_is_newest_first_each_once_with_call_scripts(desk):
    client = desk.test_client()
    login(client, "agent")
    assert ("The articles and call scripts you open will be listed here"
            in client.get("/").get_data(as_text=True))
    for path in ("/articles/bins", "/articles/parking", "/articles/bins",
                 "/scripts/lost-fob/", "/articles/pets", "/articles/bins"):
        assert client.get(path).status_code == 200
    viewed = _section(client.get("/").get_data(as_text=True), "viewed-heading")
    assert _titles(viewed) == ["Bin collections", "Pets in flats", "Lost key fob",
                               "Parking permits"]
    assert 'href="/scripts/lost-fob/">Lost key fob</a>' in viewed
    assert '<span class="line-list__aside">call script</span>' in viewed


def test_recently_viewed_keeps_the_last_eight(app, make_article, runner):
    for number in range(10):
        make_article(f"note-{number}", title=f"Note {number}")
    assert runner.invoke(args=["import-content"]).exit_code == 0
    client = app.test_client()
    login(client, "agent")
    for number in range(10):
        client.get(f"/articles/note-{number}")
    assert _viewed(client) == [f"Note {number}" for number in range(9, 1, -1)]


# --- "updated:" and Recently updated ---------------------------------------------------


def _import(runner):
    result = runner.invoke(args=["import-content"])
    return result.exit_code, result.output


def _version(app, slug: str):
    from kb.models import Article

    with app.app_context():
        article = db.session.scalar(db.select(Article).filter_by(slug=slug))
        return [(v.number, v.content_date) for v in article.versions]


def test_updated_is_stored_and_recently_updated_shows_and_orders_by_it(app, make_article,
                                                                       runner):
    make_article("old-news", title="Old news", updated="2024-01-05")
    make_article("newer-news", title="Newer news", updated="2025-06-01")
    make_article("undated", title="Undated")
    code, output = _import(runner)
    assert code == 0, output
    assert _version(app, "old-news") == [(1, date(2024, 1, 5))]
    assert _version(app, "undated") == [(1, None)]

    client = app.test_client()
    login(client, "agent")
    recent = _recent(client)
    # Undated content counts from its version (made today): it comes first.
    assert _titles(recent) == ["Undated", "Newer news", "Old news"]
    assert '<time class="line-list__aside" datetime="2025-06-01">1 June 2025</time>' in recent
    assert '<time class="line-list__aside" datetime="2024-01-05">5 January 2024</time>' in recent
    # One line each: a title and a date, nothing about the import or the category.
    items = re.findall(r"<li class=\"line-list__item\">(.*?)</li>", recent, re.S)
    assert len(items) == 3
    assert all(item.count("<a ") == 1 and item.count("<time") == 1 for item in items)
    assert "Call handling" not in recent


def test_a_corrected_updated_date_moves_the_article_without_a_new_version(app, make_article,
                                                                          runner):
    make_article("old-news", title="Old news", updated="2024-01-05")
    make_article("newer-news", title="Newer news", updated="2025-06-01")
    assert _import(runner)[0] == 0
    make_article("old-news", title="Old news", updated="2025-09-30")  # same text
    code, output = _import(runner)
    assert code == 0 and "0 updated, 2 unchanged" in output
    assert _version(app, "old-news") == [(1, date(2025, 9, 30))]  # nobody signs it again
    from kb.models import AuditLog

    with app.app_context():
        row = db.session.scalar(db.select(AuditLog).filter_by(action="article.content_date"))
        assert row is not None and "2024-01-05" in str(row.detail)
    client = app.test_client()
    login(client, "agent")
    assert _titles(_recent(client)) == ["Old news", "Newer news"]


def test_changing_an_articles_details_does_not_move_it_up_recently_updated(
        app, make_article, runner):
    make_article("old-news", title="Old news", updated="2024-01-05")
    make_article("newer-news", title="Newer news", updated="2025-06-01")
    assert _import(runner)[0] == 0
    make_article("old-news", title="Old news", updated="2024-01-05", owner="Someone else",
                 tags="[moved]")
    assert _import(runner)[0] == 0
    client = app.test_client()
    login(client, "agent")
    assert _titles(_recent(client)) == ["Newer news", "Old news"]


def test_the_article_page_and_the_api_give_when_the_content_changed(app, make_article, runner):
    """Not when it was imported: an import months after the content's date, and a later
    change of the details only, leave "Last updated" and content_date alone."""
    from kb.core.clock import local_today

    make_article("old-news", title="Old news", updated="2024-01-05")
    make_article("undated", title="Undated")
    assert _import(runner)[0] == 0
    make_article("old-news", title="Old news", updated="2024-01-05", owner="Someone else")
    assert _import(runner)[0] == 0  # the record changes today; the content does not

    client = app.test_client()
    login(client, "agent")
    page = client.get("/articles/old-news").get_data(as_text=True)
    assert ('<dt>Last updated</dt><dd><time datetime="2024-01-05">5 January 2024</time>'
            in page)
    data = client.get("/api/articles/old-news").get_json()
    assert data["content_date"] == "2024-01-05"
    # updated_at is the record's: changed by today's imports (UTC).
    assert data["updated_at"][:10] == datetime.now(UTC).date().isoformat()
    assert data["updated_at"].endswith("Z")
    # Without an "updated:" date, the day its version was published.
    with app.app_context():
        today = local_today()
    undated = client.get("/articles/undated").get_data(as_text=True)
    assert f'<dt>Last updated</dt><dd><time datetime="{today.isoformat()}">' in undated
    assert client.get("/api/articles/undated").get_json()["content_date"] == today.isoformat()


def test_a_version_made_in_the_editor_is_dated_the_day_it_was_made(app, make_article, runner):
    from kb.articles.services import content_date, recently_updated
    from kb.core.clock import local_today
    from kb.models import Article
    from kb.publishing.services import publish_change
    from kb.publishing.validation import clean_article_fields

    make_article("old-news", title="Old news", updated="2024-01-05")
    make_article("newer-news", title="Newer news", updated="2025-06-01")
    assert _import(runner)[0] == 0
    with app.test_request_context():
        article = db.session.scalar(db.select(Article).filter_by(slug="old-news"))
        fields = clean_article_fields({
            "title": "Old news", "slug": "old-news", "category": "Call handling",
            "tags": "", "summary": "Quick answer for old-news.",
            "owner": "Contact Centre Manager", "review_cycle_months": "12"}, article)
        publish_change(user_named("manager"), "article", article, fields,
                       article.current_version.markdown + "\nA new paragraph.\n", 1,
                       "Added a paragraph", True)
        db.session.commit()
        assert content_date(article.current_version) == local_today()
        assert [r.article.slug for r in recently_updated()] == ["old-news", "newer-news"]


@pytest.mark.parametrize(("value", "message"), [
    ("05/03/2025", "updated must be a date written YYYY-MM-DD, e.g. updated: 2026-03-05; "
                   "'05/03/2025' is not"),
    ("2025-02-30", "a date that does not exist"),
    ("'2025-02-30'", "updated: 2025-02-30 is not a date that exists"),
    ("yesterday", "updated must be a date written YYYY-MM-DD"),
    ("1999-12-31", "updated: 1999-12-31 is before 2000; check the year"),
    ("2025-03-05 10:00:00", "(a date without a time)"),
])
def test_a_bad_updated_date_is_refused_at_import(app, make_article, runner, value, message):
    make_article("bad-date", title="Bad date", updated=value)
    make_article("fine", title="Fine")
    code, output = _import(runner)
    assert code != 0
    assert "bad-date.md" in output and message in output
    assert "1 new" in output  # the good file still goes in
    from kb.models import Article

    with app.app_context():
        assert db.session.scalar(db.select(Article).filter_by(slug="bad-date")) is None


def test_an_updated_date_in_the_future_is_refused(app, make_article, runner):
    from kb.core.clock import local_today

    with app.app_context():
        tomorrow = local_today() + timedelta(days=1)
        today = local_today()
    make_article("ahead", title="Ahead", updated=tomorrow.isoformat())
    make_article("today", title="Today", updated=today.isoformat())
    code, output = _import(runner)
    assert code != 0
    assert (f"updated: {tomorrow.isoformat()} is in the future; give the date the content "
            f"last changed (today is {today.isoformat()} at the latest)") in output
    assert _version(app, "today") == [(1, today)]


def test_export_writes_updated_back_and_it_imports_the_same(app, make_article, runner,
                                                            tmp_path):
    make_article("dated", title="Dated", updated="2025-06-01")
    make_article("undated", title="Undated")
    assert _import(runner)[0] == 0
    out = tmp_path / "exported"
    assert runner.invoke(args=["export-content", str(out)]).exit_code == 0
    assert "\nupdated: 2025-06-01\n" in (out / "articles" / "dated.md").read_text()
    assert "updated:" not in (out / "articles" / "undated.md").read_text()
    # The exported files load back as they are: nothing new.
    result = runner.invoke(args=["import-content", "--articles", str(out / "articles")])
    assert result.exit_code == 0, result.output
    assert "0 new, 0 updated, 2 unchanged" in result.output


# --- What needs a manager, and a new starter's induction --------------------------------


def test_a_managers_home_shows_what_needs_them_above_the_search(desk):
    from kb.models import CrisisIncident, utcnow

    agent = desk.test_client()
    login(agent, "agent")
    token = csrf_token(agent.get("/articles/bins"))
    agent.post("/feedback/articles/bins", data={"csrf_token": token, "kind": "outdated",
                                               "version": "1", "comment": "Day changed."})
    with desk.app_context():
        db.session.add(CrisisIncident(recorded_by_id=user_named("agent").id,
                                      occurred_at=utcnow(), what_was_said="Test."))
        db.session.commit()
    manager = desk.test_client()
    login(manager, "manager")
    home = manager.get("/").get_data(as_text=True)
    needs = _section(home, "attention-heading")
    assert home.index('id="attention-heading"') < home.index('role="search"')
    assert ('<a href="/feedback/"><span class="attention__count">1</span> open feedback '
            'report</a>') in needs
    assert ('<a href="/crisis/incidents"><span class="attention__count">1</span> crisis '
            'incident to review</a>') in needs
    helplines = re.search(r'<a href="/crisis/helplines"><span class="attention__count">'
                          r'(\d+)</span> helplines? to verify</a>', needs)
    assert helplines and int(helplines.group(1)) >= 1  # the seeded numbers: never checked
    assert "Nothing needs you right now" not in home

    # An agent sees none of it.
    home = agent.get("/").get_data(as_text=True)
    assert "attention" not in home and "Nothing needs you" not in home


def test_a_manager_with_nothing_waiting_gets_one_line(tmp_path):
    app = build_app(tmp_path)  # no helplines, scripts, incidents or feedback
    with app.app_context():
        from kb.auth.services import create_user

        create_user("boss", "pw-boss-long-enough", role="manager")
        db.session.commit()
    client = app.test_client()
    login(client, "boss", "pw-boss-long-enough")
    home = client.get("/").get_data(as_text=True)
    assert '<p class="attention attention--none">Nothing needs you right now.</p>' in home
    assert 'id="attention-heading"' not in home
    with app.app_context():
        db.engine.dispose()


def test_a_new_starters_induction_comes_before_their_pins(desk):
    from tests.induction_helpers import enrol, programme_with, user

    with desk.app_context():
        enrol(programme_with(("task", "Shadow three calls", 5)), user("newstarter"),
              date.today())
        db.session.commit()
    client = desk.test_client()
    login(client, "newstarter")
    _pin(client, "bins")
    home = client.get("/").get_data(as_text=True)
    assert "Your induction: Test induction" in home
    assert home.index("Your induction") < home.index('id="pinned-heading"')
    assert home.index("Your induction") < home.index('role="search"')
    assert _pinned(client) == ["Bin collections"]
