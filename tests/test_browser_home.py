"""Real Chromium, the home page: an agent pins an article by keyboard (in place, and without
JavaScript) and finds it at the top of their home page; axe on the home page as an agent,
a manager and a new starter; at 800 px nothing scrolls sideways and Recently updated keeps
one line per article; at 1280x720 what needs a manager and the search are on screen."""

from __future__ import annotations

from datetime import date

import pytest

from kb.extensions import db
from tests.browser import LiveServer, serious_violations, sign_in
from tests.conftest import build_app, write_article

pytestmark = pytest.mark.browser

LONG_TITLE = ("What to tell a caller whose communal heating has failed overnight in "
              "sheltered housing")


@pytest.fixture(scope="module")
def home_site(tmp_path_factory):
    """Served: a few articles (one with a long title), the demo accounts, a new starter on
    an induction programme, and things waiting for a manager (helplines never checked, an
    unreviewed crisis incident)."""
    base = tmp_path_factory.mktemp("home")
    app = build_app(base, seeded=True)
    folder = base / "articles"
    write_article(folder, "bins", title="Bin collections", updated="2025-06-01",
                  body="## Days\n\nBins go out on Tuesday.\n")
    write_article(folder, "heating", title=LONG_TITLE, updated="2025-09-12",
                  body="## First\n\nCheck the boiler room alarm.\n")
    write_article(folder, "parking", title="Parking permits", updated="2024-11-30",
                  body="## Permits\n\nOne permit per household.\n")
    with app.app_context():
        from kb.articles.services import import_articles
        from kb.models import CrisisIncident, utcnow
        from kb.search.services import sync_index
        from tests.induction_helpers import enrol, programme_with, user

        assert import_articles(folder).ok
        db.session.add(CrisisIncident(recorded_by_id=user("agent").id, occurred_at=utcnow(),
                                      what_was_said="Browser test."))
        enrol(programme_with(("task", "Shadow three calls with a buddy", 5),
                             name="Contact centre induction"),
              user("newstarter"), date.today())
        db.session.commit()
        sync_index()
    with LiveServer(app) as server:
        yield server.url
    with app.app_context():
        db.engine.dispose()


def _tab_to(page, name: str, limit: int = 80) -> None:
    """Press Tab until the focused element's text is ``name``."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == name:
            return
    raise AssertionError(f"{name!r} never took the focus")


def test_an_agent_pins_an_article_by_keyboard_and_finds_it_at_home(page, home_site):
    sign_in(page, home_site)
    page.goto(f"{home_site}/articles/bins")
    _tab_to(page, "Pin to my home page")
    page.keyboard.press("Enter")
    status = page.locator("[data-pin-status]")
    status.get_by_text("Pinned “Bin collections” to your home page.").wait_for()
    assert page.url == f"{home_site}/articles/bins"  # in place
    button = page.locator("[data-pin-button]")
    assert button.inner_text() == "Unpin from my home page"
    assert page.evaluate("document.activeElement.textContent") == "Unpin from my home page"

    page.goto(f"{home_site}/")
    pinned = page.locator("section", has=page.locator("#pinned-heading"))
    assert pinned.get_by_role("link").all_inner_texts() == ["Bin collections"]
    viewed = page.locator("section", has=page.locator("#viewed-heading"))
    assert viewed.get_by_role("link").all_inner_texts() == ["Bin collections"]

    # Unpinned from the home page by keyboard: the page comes back without it.
    pinned.get_by_role("button", name="Unpin “Bin collections”").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{home_site}/#pinned-heading")
    assert page.get_by_text("Unpinned “Bin collections” from your home page.").is_visible()
    assert pinned.get_by_text("Pin articles you use often").is_visible()


def test_pinning_works_without_javascript(browser, home_site):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in(page, home_site, "newstarter")
    page.goto(f"{home_site}/articles/parking")
    page.get_by_role("button", name="Pin to my home page").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{home_site}/articles/parking")
    assert page.locator(".flash").inner_text() == "Pinned “Parking permits” to your home page."
    page.goto(f"{home_site}/")
    pinned = page.locator("section", has=page.locator("#pinned-heading"))
    assert pinned.get_by_role("link").all_inner_texts() == ["Parking permits"]
    pinned.get_by_role("button", name="Unpin “Parking permits”").click()
    page.wait_for_url(f"{home_site}/#pinned-heading")
    context.close()


@pytest.mark.parametrize("who", ["agent", "manager", "newstarter"])
def test_the_home_page_has_no_serious_accessibility_violations(axe_page, home_site, who):
    sign_in(axe_page, home_site, who)
    # Something in every section: pins (with up and down buttons) and recent views.
    pinned = []
    for slug in ("bins", "parking"):
        axe_page.goto(f"{home_site}/articles/{slug}")
        serious = serious_violations(axe_page)  # the article page with its pin button
        assert not serious, serious
        button = axe_page.get_by_role("button", name="Pin to my home page")
        if button.count():
            button.click()
            axe_page.locator("[data-pin-status]").get_by_text("Pinned").wait_for()
            pinned.append(slug)
    axe_page.goto(f"{home_site}/")
    if who == "manager":
        assert axe_page.get_by_role("heading", name="Needs you").is_visible()
    if who == "newstarter":
        assert axe_page.get_by_role("heading",
                                    name="Your induction: Contact centre induction").is_visible()
    assert axe_page.get_by_role("button", name="Down (move “Bin collections” down one place)")
    serious = serious_violations(axe_page)
    assert not serious, serious
    for slug in pinned:  # leave the person's home page as it was
        axe_page.goto(f"{home_site}/articles/{slug}")
        axe_page.get_by_role("button", name="Unpin from my home page").click()
        axe_page.locator("[data-pin-status]").get_by_text("Unpinned").wait_for()


@pytest.mark.parametrize("who", ["agent", "manager", "newstarter"])
def test_the_home_page_fits_800_px_and_keeps_one_line_per_update(browser, home_site, who):
    context = browser.new_context(viewport={"width": 800, "height": 720})
    page = context.new_page()
    sign_in(page, home_site, who)
    page.goto(f"{home_site}/articles/heating")  # the long title, recently viewed
    page.goto(f"{home_site}/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 800
    rows = page.locator("section", has=page.locator("#recent-heading")).locator("li")
    assert rows.count() == 3
    heights = {round(box["height"]) for box in (rows.nth(i).bounding_box()
                                                for i in range(rows.count()))}
    line = page.evaluate("parseFloat(getComputedStyle(document.body).lineHeight)")
    assert max(heights) < 2 * line, heights  # title and date side by side, one line each
    first = rows.first
    assert first.locator("time").inner_text() == "12 September 2025"
    # The long title is cut short on screen, never for a screen reader.
    assert first.get_by_role("link").get_attribute("href") == "/articles/heating"
    assert first.get_by_role("link").text_content() == LONG_TITLE
    page.goto(f"{home_site}/articles/heating")
    assert page.evaluate("document.documentElement.scrollWidth") <= 800
    context.close()


def test_at_1280_by_720_a_manager_sees_what_needs_them_and_the_search_first(browser,
                                                                            home_site):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    sign_in(page, home_site, "manager")
    needs = page.locator(".attention")
    assert needs.get_by_role("link", name="1 crisis incident to review").is_visible()
    search = page.locator("form[role=search]")
    for box in (needs.bounding_box(), search.bounding_box()):
        assert box["y"] + box["height"] <= 720  # above the fold
    assert needs.bounding_box()["y"] < search.bounding_box()["y"]
    context.close()
