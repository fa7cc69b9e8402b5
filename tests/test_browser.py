"""Real Chromium: what an agent does with the keyboard, and an accessibility check."""

from __future__ import annotations

import pytest

from tests.browser import serious_violations, sign_in

pytestmark = pytest.mark.browser


def test_type_a_query_and_open_a_result_with_the_keyboard(page, live):
    sign_in(page, live)
    box = page.locator("#q")
    assert box.evaluate("el => el === document.activeElement")  # focused on arrival
    box.press_sequentially("samaritans numbr", delay=60)
    # On a busy machine a pause between keys searches a shorter prefix first; wait for the
    # last answer, or it replaces the list (and the focused link) after the arrow key.
    page.wait_for_load_state("networkidle")
    first = page.locator("#search-results .result__link").first
    first.wait_for()
    assert "crisis" in first.get_attribute("href")
    page.keyboard.press("ArrowDown")
    assert first.evaluate("el => el === document.activeElement")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live}/articles/crisis-self-harm?from=*")  # the click is logged
    assert "Samaritans" in page.content()


def test_slash_focuses_search_from_an_article(page, live):
    sign_in(page, live)
    page.goto(f"{live}/articles/hold-etiquette")
    page.locator("body").press("/")
    focused = page.evaluate("document.activeElement.getAttribute('name')")
    assert focused == "q"


def test_search_works_without_javascript(browser, live):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in(page, live)
    page.locator("#q").fill("stage 2 complaint")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=stage+2+complaint**")
    href = page.locator(".result__link").first.get_attribute("href")
    assert href.split("?")[0] == "/articles/complaints"
    context.close()


@pytest.mark.parametrize("path", [
    "/login",
    "/",
    "/search?q=repair",
    "/articles/repair-priorities",
    "/tools/due-date?standard=email&from=2026-11-23T10:00",
])
def test_no_serious_accessibility_violations(axe_page, live, path):
    if path != "/login":
        sign_in(axe_page, live)
    axe_page.goto(f"{live}{path}")
    serious = serious_violations(axe_page)
    assert not serious, serious


@pytest.mark.parametrize("path", ["/admin/", "/admin/vocabularies/",
                                  "/admin/vocabularies/synonyms", "/admin/vocabularies/crisis",
                                  "/tools/due-date/standards", "/tools/due-date/standards/1"])
def test_manager_pages_have_no_serious_accessibility_violations(axe_page, live, path):
    sign_in(axe_page, live, "manager")
    axe_page.goto(f"{live}{path}")
    serious = serious_violations(axe_page)
    assert not serious, serious
