"""Real Chromium: walk a call script with the keyboard, copy the summary, check accessibility."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.browser import serious_violations, sign_in

pytestmark = pytest.mark.browser


def at_step(url: str, where: str, path: str | None = None, **values: str) -> bool:
    """True when ``url`` is the step ``where`` with this path and these captured values."""
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    return (parts.path == where and (path is None or query.get("path", "") == path)
            and all(query.get(k) == v for k, v in values.items()))


def press_and_wait(page, key: str, where: str, path: str | None = None, **values) -> None:
    with page.expect_navigation(url=lambda url: at_step(url, where, path, **values)):
        page.keyboard.press(key)


def test_walk_a_script_with_number_keys_and_copy_the_summary(page, live):
    sign_in(page, live)
    page.goto(f"{live}/scripts/hold/")
    assert page.locator("h1").inner_text() == "Ask before you hold"
    assert page.evaluate("document.activeElement.id") == "step-title"  # ready for keys
    assert page.locator("[data-key-hints]").is_visible()

    press_and_wait(page, "1", "/scripts/hold/on-hold", "ask")
    press_and_wait(page, "1", "/scripts/hold/check-in", "ask,on-hold")
    assert [crumb.strip() for crumb in
            page.locator(".player__trail li > a").all_inner_texts()] == [
        "Ask before you hold", "While the caller is on hold"]
    press_and_wait(page, "b", "/scripts/hold/on-hold", "ask")  # Back
    press_and_wait(page, "1", "/scripts/hold/check-in", "ask,on-hold")
    press_and_wait(page, "2", "/scripts/hold/call-back", "ask,on-hold,check-in")
    assert "End of script" in page.locator("h1").inner_text()

    # Capture fields by keyboard: Tab into the first field, type, Enter saves.
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "caller_name":
            break
    page.keyboard.type("Jo Bloggs")
    page.keyboard.press("Tab")
    page.keyboard.type("07700 900123")
    press_and_wait(page, "Enter", "/scripts/hold/call-back", "ask,on-hold,check-in",
                   caller_name="Jo Bloggs")
    assert page.evaluate("document.activeElement.id") == "step-title"
    copy = page.get_by_role("button", name="Copy summary")
    assert copy.is_visible()

    page.keyboard.press("c")
    page.locator("[data-copy-status]").filter(has_text="Summary copied.").wait_for()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("Call script: Putting a caller on hold")
    assert "1. Ask before you hold -> The caller agrees to hold" in copied
    assert "3. Check back with the caller -> They would prefer a call-back" in copied
    assert "4. Offer a call-back instead" in copied
    assert "Caller's name: Jo Bloggs" in copied
    assert "Call-back number: 07700 900123" in copied


def test_escape_leaves_a_field_so_number_keys_choose_again(page, live):
    sign_in(page, live)
    page.goto(f"{live}/scripts/repair-report/")
    page.get_by_label("Caller's name").focus()
    page.keyboard.type("Sam 1")  # digits typed in a field stay in the field
    assert page.get_by_label("Caller's name").input_value() == "Sam 1"
    page.keyboard.press("Escape")
    press_and_wait(page, "1", "/scripts/repair-report/danger", "describe", caller_name="Sam 1")


def test_the_player_works_without_javascript(browser, live):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in(page, live)
    page.goto(f"{live}/scripts/call-closing/")
    assert not page.get_by_role("button", name="Copy summary").is_visible()
    page.get_by_role("button", name="The caller agrees").click()
    page.wait_for_url(lambda url: at_step(url, "/scripts/call-closing/anything-else", "recap"))
    page.get_by_role("button", name="No, that's everything").click()
    page.wait_for_url(lambda url: at_step(url, "/scripts/call-closing/goodbye",
                                          "recap,anything-else"))
    summary = page.get_by_label("Call summary text").input_value()
    assert "2. Anything else? -> No, that's everything" in summary
    context.close()


@pytest.mark.parametrize(
    ("path", "user"),
    [
        ("/scripts/", "agent"),
        ("/scripts/crisis-self-harm/", "agent"),
        ("/scripts/repair-report/priority?path=describe,danger,risk&caller_name=Jo", "agent"),
        ("/scripts/hold/call-back?path=ask&caller_name=Jo", "agent"),
        ("/scripts/review", "manager"),
        ("/search?q=hold&kind=script", "agent"),
    ],
)
def test_no_serious_accessibility_violations(axe_page, live, path, user):
    sign_in(axe_page, live, username=user)
    axe_page.goto(f"{live}{path}")
    serious = serious_violations(axe_page)
    assert not serious, serious
