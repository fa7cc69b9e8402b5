"""Real Chromium: "Tell the knowledge team" by keyboard when nothing matched, Copy on quick
answers, axe-core on the pages, and no sideways scrolling at 800 px."""

from __future__ import annotations

import secrets
import string

import pytest

from tests.browser import serious_violations, sign_in

pytestmark = pytest.mark.browser


def _expect():
    return pytest.importorskip("playwright.sync_api").expect


def _nonsense() -> str:
    """Made-up words, new each run (the live app's database lasts the session)."""
    word = "".join(secrets.choice("qxz" + string.ascii_lowercase[:3]) for _ in range(9))
    return f"zzqxv {word}"


def test_tell_the_knowledge_team_with_the_keyboard(page, live):
    expect = _expect()
    sign_in(page, live)
    query = _nonsense()
    page.goto(f"{live}/search?q={query}")
    expect(page.locator(".search-help__crisis a")).to_have_text(
        "Caller at risk? Open the crisis protocol")
    expect(page.get_by_role("heading", name="Nothing came close: start from one of these"))\
        .to_be_visible()
    note = page.get_by_label("What was the caller asking about? (optional)")
    note.focus()
    page.keyboard.type("Caller wanted the bulky waste charge")
    page.keyboard.press("Tab")
    button = page.get_by_role("button", name="Tell the knowledge team")
    expect(button).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_url("**/search/gaps/*")
    expect(page.get_by_role("status").filter(has_text="Thanks")).to_have_text(
        "Thanks: the knowledge team will see this.")
    expect(page.locator(".gap-summary")).to_contain_text("Caller wanted the bulky waste charge")
    # Back to the search: done once today, so no second button.
    page.goto(f"{live}/search?q={query}")
    expect(page.locator(".gap-reported")).to_contain_text("You told the knowledge team")
    expect(page.get_by_role("button", name="Tell the knowledge team")).to_have_count(0)


def test_the_help_steps_aside_while_other_words_are_typed(page, live):
    expect = _expect()
    sign_in(page, live)
    page.goto(f"{live}/search?q={_nonsense()}")
    help_box = page.locator("[data-search-help]")
    expect(help_box).to_be_visible()
    page.get_by_role("searchbox", name="Search procedures and standards").fill("hold")
    expect(help_box).to_be_hidden()


def test_copy_puts_the_quick_answer_on_the_clipboard(page, live):
    expect = _expect()
    sign_in(page, live)
    page.goto(f"{live}/articles/hold-etiquette")
    summary = page.locator(".quick-answer p").inner_text()
    copy = page.get_by_role("button", name="Copy the quick answer")
    copy.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".quick-answer [data-copy-status]")).to_have_text("Copied")
    expect(page.locator(".quick-answer__copy")).to_contain_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == summary
    assert summary.startswith("Always ask the caller's permission")


def test_copy_a_quick_answer_from_the_search_results(page, live):
    expect = _expect()
    sign_in(page, live)
    page.goto(f"{live}/search?q=put a caller on hold")
    first = page.locator(".result").first
    summary = first.locator(".result__summary").inner_text()
    first.locator(".result__copy").click()
    expect(page.locator("#quick-answer-status")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == summary


def test_without_javascript_there_is_no_copy_button_to_press(browser, live):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in(page, live)
    page.goto(f"{live}/articles/hold-etiquette")
    assert page.get_by_role("button", name="Copy the quick answer").count() == 0
    context.close()


@pytest.mark.parametrize("what", ["empty", "confirmation"])
def test_no_serious_accessibility_violations(axe_page, live, what):
    sign_in(axe_page, live)
    axe_page.goto(f"{live}/search?q={_nonsense()}")
    if what == "confirmation":
        axe_page.get_by_role("button", name="Tell the knowledge team").click()
        axe_page.wait_for_url("**/search/gaps/*")
    serious = serious_violations(axe_page)
    assert not serious, serious


def test_no_sideways_scrolling_at_800_pixels(page, live):
    page.set_viewport_size({"width": 800, "height": 700})
    sign_in(page, live, "manager")
    query = _nonsense()
    page.goto(f"{live}/search?q={query}")
    pages = {"empty state": page.evaluate("document.documentElement.scrollWidth")}
    page.get_by_label("What was the caller asking about? (optional)").fill("x" * 300)
    page.get_by_role("button", name="Tell the knowledge team").click()
    page.wait_for_url("**/search/gaps/*")
    pages["confirmation"] = page.evaluate("document.documentElement.scrollWidth")
    page.goto(f"{live}/analytics/")
    pages["analytics"] = page.evaluate("document.documentElement.scrollWidth")
    assert all(wide <= 800 for wide in pages.values()), pages
