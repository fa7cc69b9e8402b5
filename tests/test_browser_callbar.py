"""Real Chromium: the call bar follows the agent to every page and tab, and the header
stays on screen and fits 800 px.

The check-in interval is set by the hold page's address (?interval=5 is the shortest it
allows); the hold carries it to every tab, so these tests wait for the real clock, a few
seconds each.
"""

from __future__ import annotations

import re

import pytest

from tests.browser import serious_violations, sign_in, watch_errors

pytestmark = pytest.mark.browser

ARTICLE = "/articles/repair-priorities"
SEARCH = "/search?q=repairs"
TITLE_ON_HOLD = re.compile(r"^⏸ (Check back! )?\d\d:\d\d on hold · ")


def _expect():
    return pytest.importorskip("playwright.sync_api").expect


def _tab(context, url: str):
    """Another tab of the same browser, collecting its JavaScript errors."""
    tab = context.new_page()
    tab_errors = watch_errors(tab)
    tab.goto(url)
    return tab, tab_errors


def _start_hold(page, live: str, interval: int = 5) -> None:
    page.goto(f"{live}/tools/hold?interval={interval}")
    page.locator("#main").focus()
    page.keyboard.press("s")
    _expect()(page.locator("#hold-state")).to_have_text("On hold")


def test_a_hold_follows_the_agent_to_other_pages_and_tabs(page, live):
    expect = _expect()
    sign_in(page, live)
    _start_hold(page, live, interval=12)  # time to open the other tabs on a busy machine
    expect(page).to_have_title(TITLE_ON_HOLD)

    article, article_errors = _tab(page.context, f"{live}{ARTICLE}")
    search, search_errors = _tab(page.context, f"{live}{SEARCH}")
    for tab in (article, search):
        bar = tab.locator("[data-callbar-panel]")
        expect(bar).to_be_visible()
        expect(bar.locator("[data-callbar-state]")).to_have_text(re.compile("^On hold"))
        expect(bar.locator("[data-callbar-count]")).to_have_text("1")
        next_check = re.compile(r"^Check-in in 00:(0\d|1[0-2])$")
        expect(bar.locator("[data-callbar-next]")).to_have_text(next_check)
        expect(tab).to_have_title(TITLE_ON_HOLD)
    # The clock runs from the stored start, not from when the tab opened.
    clock = article.locator("[data-callbar-clock]")
    expect(clock).to_have_text(re.compile(r"^00:(0[2-9]|1\d)$"), timeout=4000)

    # The check-in falls due: the article tab shows and says what to say.
    prompt = article.locator("[data-callbar-prompt]")
    expect(prompt).to_be_visible(timeout=15000)
    expect(prompt).to_contain_text("Check back with the caller now")
    expect(prompt).to_contain_text("Are you happy to hold a little longer")
    spoken = article.locator("[data-callbar-live]")
    assert spoken.get_attribute("aria-live") == "assertive"
    expect(spoken).to_contain_text("Check back with the caller now")
    expect(spoken).to_contain_text("Are you happy to hold a little longer")
    expect(article).to_have_title(re.compile(r"^⏸ Check back! \d\d:\d\d on hold · "))
    expect(search.locator("[data-callbar-prompt]")).to_be_visible()

    # C on the article page records the check-in; the hold page in the first tab shows it.
    article.locator("#main").focus()
    article.keyboard.press("c")
    expect(prompt).to_be_hidden()
    expect(spoken).to_contain_text("Checked back")
    expect(page.locator("#hold-checkins")).to_have_text("1")
    expect(page.locator("#hold-prompt")).to_be_hidden()

    # Typing an S in the search box does not stop the hold.
    search.locator("#q").press("s")
    expect(search.locator("[data-callbar-state]")).to_have_text("On hold")

    # Off hold from the search tab: every tab follows, and the titles are restored.
    search.get_by_role("button", name=re.compile("^Off hold")).click()
    expect(search.locator("[data-callbar-thanks]")).to_contain_text("Thank you for holding")
    expect(article.locator("[data-callbar-state]")).to_have_text(re.compile("^Off hold"))
    expect(page.locator("#hold-state")).to_have_text("Not on hold")
    expect(page.locator("#hold-thanks")).to_be_visible()
    for tab in (page, article, search):
        expect(tab).not_to_have_title(re.compile("on hold"))
    assert article.title().endswith("Frontline KB")

    # N from any page starts a new call; the bar gets out of the way everywhere.
    article.keyboard.press("n")
    expect(article.locator("[data-callbar-panel]")).to_be_hidden()
    expect(search.locator("[data-callbar-panel]")).to_be_hidden()
    expect(page.locator("#hold-count")).to_have_text("0")

    # A hold started from an article page (S) shows on the hold page, and a reload keeps it.
    article.keyboard.press("s")
    expect(page.locator("#hold-state")).to_have_text("On hold")
    article.reload()
    expect(article.locator("[data-callbar-state]")).to_have_text("On hold")
    assert not article_errors and not search_errors, article_errors + search_errors


def test_the_beep_plays_once_per_check_in_and_can_be_switched_off(page, live):
    expect = _expect()
    # Count the notes played through the Web Audio API (the browser's own, not our code).
    page.context.add_init_script(
        "(() => { const make = AudioContext.prototype.createOscillator;"
        " AudioContext.prototype.createOscillator = function () {"
        " window.__notes = (window.__notes || 0) + 1; return make.call(this); }; })()"
    )
    sign_in(page, live)
    _start_hold(page, live)
    other, other_errors = _tab(page.context, f"{live}{ARTICLE}")
    other.locator("#main").focus()
    other.keyboard.press("Shift")  # the agent has used this tab: it may make a sound

    expect(page.locator("#hold-prompt")).to_be_visible(timeout=8000)
    notes = lambda: page.evaluate("window.__notes || 0") + other.evaluate("window.__notes || 0")  # noqa: E731
    page.wait_for_timeout(2000)  # a hidden tab would wait 1.5 s before it beeps
    assert notes() == 2  # one beep of two notes, from one tab, not one per tab

    # Switched off in the article tab's bar: the hold page's switch follows, and it is kept.
    other.get_by_label("Beep").uncheck()
    expect(page.locator("#hold-sound")).not_to_be_checked()
    page.locator("#main").focus()
    page.keyboard.press("c")
    expect(page.locator("#hold-prompt")).to_be_hidden()
    expect(page.locator("#hold-prompt")).to_be_visible(timeout=8000)
    page.wait_for_timeout(2000)
    assert notes() == 2
    other.reload()
    expect(other.get_by_label("Beep")).not_to_be_checked()
    assert not other_errors, other_errors


def test_the_header_stays_on_screen_and_clear_of_what_it_scrolls_to(page, live):
    expect = _expect()
    sign_in(page, live)
    page.goto(f"{live}{ARTICLE}")
    header = page.locator(".site-header")
    page.mouse.wheel(0, 4000)
    page.wait_for_function("window.scrollY > 500")
    box = header.bounding_box()
    assert box["y"] == 0
    expect(page.get_by_role("link", name=re.compile("^Crisis"))).to_be_in_viewport()
    expect(page.locator("#header-q")).to_be_in_viewport()

    # A contents link lands its heading below the header, not under it.
    link = page.locator(".toc a").nth(2)
    target = link.get_attribute("href")
    link.click()
    heading_top = page.locator(target).bounding_box()["y"]
    assert heading_top >= header.bounding_box()["height"]

    # Tabbing back up to a link near the top scrolls it clear of the header too.
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.locator(".breadcrumb a").first.focus()
    page.wait_for_timeout(200)
    focused = page.locator(".breadcrumb a").first.bounding_box()
    assert focused["y"] >= header.bounding_box()["height"]


# Rows of the header: its parts, and each link of the nav (which wraps inside itself).
ROWS_JS = """() => {
  const parts = [...document.querySelectorAll(
    '.site-header__inner > :not(.site-nav), .site-nav > *')];
  const items = parts.map(e => e.getBoundingClientRect()).filter(r => r.height > 0)
    .sort((a, b) => a.top - b.top);
  let rows = 0, bottom = -1;
  for (const r of items) {
    if (r.top >= bottom) { rows += 1; }
    bottom = Math.max(bottom, r.bottom);
  }
  return rows;
}"""


@pytest.mark.parametrize("user", ["agent", "manager"])
def test_header_is_two_rows_at_800px_and_nothing_scrolls_sideways(browser, live, user):
    context = browser.new_context(viewport={"width": 800, "height": 720})
    page = context.new_page()
    sign_in(page, live, user)
    for path in (ARTICLE, "/tools/hold", "/tools/due-date", "/scripts/", "/publishing/"):
        page.goto(f"{live}{path}")
        assert page.evaluate(ROWS_JS) <= 2, path
        assert page.evaluate("document.documentElement.scrollWidth") <= 800, path

    _start_hold(page, live)
    page.goto(f"{live}{ARTICLE}")
    panel = page.locator("[data-callbar-panel]")
    assert panel.is_visible()
    assert page.evaluate(ROWS_JS) <= 2
    row = page.locator(".callbar__row")
    assert row.bounding_box()["height"] < 50  # the bar itself is one line
    assert page.evaluate("document.documentElement.scrollWidth") <= 800
    _expect()(page.locator("[data-callbar-prompt]")).to_be_visible(timeout=8000)
    assert row.bounding_box()["height"] < 50  # still one line when the check-in is due
    assert page.evaluate("document.documentElement.scrollWidth") <= 800
    context.close()


def test_without_javascript_pages_work_and_the_bar_is_not_there(browser, live):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in(page, live)
    page.goto(f"{live}{ARTICLE}")
    assert page.locator("[data-callbar-panel]").is_hidden()
    assert page.locator(".site-nav").get_by_role("link", name="Hold timer").is_visible()
    context.close()


def test_no_serious_accessibility_violations_with_the_bar_running(axe_page, live):
    expect = _expect()
    sign_in(axe_page, live)
    _start_hold(axe_page, live)
    axe_page.goto(f"{live}{ARTICLE}")
    expect(axe_page.locator("[data-callbar-panel]")).to_be_visible()
    running = serious_violations(axe_page)
    expect(axe_page.locator("[data-callbar-prompt]")).to_be_visible(timeout=8000)
    due = serious_violations(axe_page)
    assert not running and not due, running + due


# --- the header's menus: Manage (managers) and the signed-in person's own pages ---------


def test_the_manage_menu_opens_by_keyboard_and_closes_on_escape_or_a_click_elsewhere(page, live):
    expect = _expect()
    sign_in(page, live, "manager")
    page.goto(f"{live}{ARTICLE}")
    menu = page.locator(".site-nav [data-nav-menu]")
    summary = menu.locator("summary")
    publishing = menu.get_by_role("link", name="Publishing")
    expect(publishing).to_be_hidden()
    summary.focus()
    page.keyboard.press("Enter")
    expect(publishing).to_be_visible()
    page.keyboard.press("Tab")
    expect(menu.get_by_role("link", name="All management pages")).to_be_focused()
    page.keyboard.press("Escape")
    expect(publishing).to_be_hidden()
    expect(summary).to_be_focused()
    page.keyboard.press("Space")
    expect(publishing).to_be_visible()
    page.locator("h1").click()
    expect(publishing).to_be_hidden()

    # Open, it fits the window, at 800 px and at 200% zoom, and its links lead somewhere.
    for width, height in ((800, 720), (640, 360)):
        page.set_viewport_size({"width": width, "height": height})
        summary.click()
        expect(menu.get_by_role("link", name="All management pages")).to_be_in_viewport()
        last = menu.get_by_role("link", name="Users and teams")
        last.focus()  # a short window scrolls the list
        expect(last).to_be_in_viewport()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.keyboard.press("Escape")
    summary.click()
    publishing.click()
    expect(page).to_have_url(f"{live}/publishing/")


def test_an_agent_has_no_manage_menu_and_finds_their_own_pages_under_their_name(page, live):
    expect = _expect()
    sign_in(page, live, "agent")
    page.goto(f"{live}{ARTICLE}")
    expect(page.locator(".site-nav [data-nav-menu]")).to_have_count(0)
    expect(page.locator(".site-nav")).not_to_contain_text("Publishing")
    page.locator(".user-menu summary").click()
    page.locator(".user-menu").get_by_role("link", name="My sign-offs").click()
    expect(page).to_have_url(f"{live}/signoffs/")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()  # never in a menu


def test_the_menus_work_without_javascript(browser, live):
    expect = _expect()
    context = browser.new_context(viewport={"width": 800, "height": 720},
                                  java_script_enabled=False)
    page = context.new_page()
    sign_in(page, live, "manager")
    page.goto(f"{live}{ARTICLE}")
    page.locator(".site-nav summary").click()
    page.get_by_role("link", name="Users and teams").click()
    expect(page).to_have_url(f"{live}/users/")
    context.close()


def test_no_serious_accessibility_violations_with_the_menus_open(axe_page, live):
    sign_in(axe_page, live, "manager")
    axe_page.goto(f"{live}{ARTICLE}")
    axe_page.locator(".site-nav summary").click()
    manage = serious_violations(axe_page)
    axe_page.locator(".user-menu summary").click()
    account = serious_violations(axe_page)
    assert not manage and not account, manage + account


# --- a shared desk: the call belongs to whoever is signed in ---------------------------


def test_signing_out_ends_the_call_so_the_next_person_sees_no_hold(page, live):
    expect = _expect()
    sign_in(page, live, "agent")
    _start_hold(page, live, interval=60)
    other, other_errors = _tab(page.context, f"{live}{ARTICLE}")
    expect(other.locator("[data-callbar-state]")).to_have_text("On hold")

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/login"))
    assert page.evaluate("window.localStorage.getItem('kb.call')") is None
    # The agent's other tab lets go of the hold at once (it is signed out too).
    expect(other).not_to_have_title(re.compile("on hold"))

    # The next person at the desk signs in: no hold, no bar, an ordinary title.
    sign_in(page, live, "newstarter")
    page.goto(f"{live}{ARTICLE}")
    expect(page.locator("[data-callbar-panel]")).to_be_hidden()
    expect(page).not_to_have_title(re.compile("on hold"))
    page.goto(f"{live}/tools/hold")
    expect(page.locator("#hold-state")).to_have_text("Not on hold")
    expect(page.locator("#hold-count")).to_have_text("0")
    assert not other_errors, other_errors


def test_a_call_left_behind_without_signing_out_is_not_shown_to_someone_else(page, live):
    expect = _expect()
    sign_in(page, live, "agent")
    _start_hold(page, live, interval=60)
    page.context.clear_cookies()  # the session ends some other way (expiry, another tab)

    sign_in(page, live, "manager")
    page.goto(f"{live}{ARTICLE}")
    expect(page.locator("[data-callbar-panel]")).to_be_hidden()
    expect(page).not_to_have_title(re.compile("on hold"))
    page.keyboard.press("n")  # nothing of the agent's call to reset
    page.goto(f"{live}/tools/hold")
    expect(page.locator("#hold-state")).to_have_text("Not on hold")
