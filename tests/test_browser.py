"""Real Chromium: what an agent does with the keyboard, and an accessibility check."""

from __future__ import annotations

import pytest

from tests.browser import CHROMIUM_ARGS, LiveServer, chromium_path, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    path = chromium_path()
    if path is None:
        pytest.skip("Chromium is not installed (apt-get install chromium); browser tests skipped")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def live(shipped_app):
    with LiveServer(shipped_app) as server:
        yield server.url


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    yield page
    context.close()
    assert not errors, f"JavaScript errors or CSP violations: {errors}"


def test_type_a_query_and_open_a_result_with_the_keyboard(page, live):
    sign_in(page, live)
    box = page.locator("#q")
    assert box.evaluate("el => el === document.activeElement")  # focused on arrival
    box.press_sequentially("samaritans numbr", delay=60)
    first = page.locator("#search-results .result__link").first
    first.wait_for()
    assert "crisis" in first.get_attribute("href")
    page.keyboard.press("ArrowDown")
    assert first.evaluate("el => el === document.activeElement")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live}/articles/crisis-self-harm")
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
    assert page.locator(".result__link").first.get_attribute("href") == "/articles/complaints"
    context.close()


@pytest.mark.parametrize("path", [
    "/login",
    "/",
    "/search?q=repair",
    "/articles/repair-priorities",
    "/tools/due-date?standard=email&from=2026-11-23T10:00",
])
def test_no_serious_accessibility_violations(browser, live, path):
    from axe_playwright_python.sync_playwright import Axe

    # axe is injected by the test, so this context lets it past our strict CSP.
    context = browser.new_context(viewport={"width": 1280, "height": 720}, bypass_csp=True)
    page = context.new_page()
    if path != "/login":
        sign_in(page, live)
    page.goto(f"{live}{path}")
    results = Axe().run(page)
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} -> {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    context.close()
    assert not serious, serious
