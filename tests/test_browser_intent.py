"""Real Chromium: a crisis phrasing typed mid-call brings up the banner and the protocol."""

from __future__ import annotations

import pytest

from tests.browser import serious_violations, sign_in

pytestmark = pytest.mark.browser

BANNER = "Caller at risk? Open the crisis protocol"


def test_header_typeahead_shows_the_banner_and_the_protocol_first(page, live):
    sign_in(page, live)
    page.goto(f"{live}/articles/hold-etiquette")
    page.locator("body").press("/")
    page.keyboard.type("took a load of tablets", delay=30)
    banner = page.locator("#header-banner [data-crisis-banner]")
    banner.wait_for()
    assert banner.inner_text() == BANNER
    assert banner.get_attribute("href") == "/crisis/"
    assert "Alt+Shift+C" in page.locator("#header-banner").inner_text()
    first = page.locator("#header-results .result__link").first
    assert first.get_attribute("href").split("?")[0] == "/articles/crisis-self-harm"
    # A repairs call clears it: no banner for a dead radiator.
    page.locator("#header-q").fill("")
    page.keyboard.type("radiator stone dead", delay=30)
    page.locator("#header-results .result__link").first.wait_for()
    banner.wait_for(state="detached")
    page.keyboard.press("Escape")
    assert page.locator("[data-typeahead-panel]").is_hidden()


def test_home_typeahead_shows_the_banner_and_it_opens_the_protocol(page, live):
    sign_in(page, live)
    page.locator("#q").press_sequentially("doesnt want to live", delay=30)
    banner = page.locator("#search-banner [data-crisis-banner]")
    banner.wait_for()
    assert page.locator("#search-results .result__link").first.get_attribute(
        "href").split("?")[0] == "/articles/crisis-self-harm"
    banner.click()
    page.wait_for_url(f"{live}/crisis/")


def test_the_banner_is_there_without_javascript(browser, live):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in(page, live)
    page.locator("#q").fill("standing on a bridge")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=standing+on+a+bridge**")
    assert page.locator("[data-crisis-banner]").inner_text() == BANNER
    assert page.locator(".result__link").first.get_attribute(
        "href").split("?")[0] == "/articles/crisis-self-harm"
    context.close()


def test_vocabulary_editor_and_banner_have_no_serious_accessibility_violations(axe_page, live):
    sign_in(axe_page, live, "manager")
    axe_page.goto(f"{live}/admin/vocabularies/crisis")
    assert not serious_violations(axe_page)
    axe_page.goto(f"{live}/search?q=wants+to+kill+herself")
    assert axe_page.locator("[data-crisis-banner]").count() == 1
    assert not serious_violations(axe_page)
