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


def tab_to(page, name: str) -> None:
    """Tab forward until the field called ``name`` has the focus."""
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == name:
            return
    raise AssertionError(f"no field {name!r} reached by Tab")


def test_finish_the_repair_script_by_keyboard_with_nothing_left_to_fill(page, live):
    sign_in(page, live)
    page.goto(f"{live}/scripts/repair-report/")
    tab_to(page, "caller_name")
    page.keyboard.type("Jo Bloggs")
    page.keyboard.press("Tab")
    page.keyboard.type("1 High Street")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # no property reference
    page.keyboard.type("Water through the kitchen ceiling")
    page.keyboard.press("Escape")  # leave the field so the number keys choose
    press_and_wait(page, "1", "/scripts/repair-report/danger", "describe",
                   address="1 High Street")
    press_and_wait(page, "2", "/scripts/repair-report/risk", "describe,danger")
    press_and_wait(page, "1", "/scripts/repair-report/priority", "describe,danger,risk")
    press_and_wait(page, "3", "/scripts/repair-report/urgent", "describe,danger,risk,priority")
    press_and_wait(page, "1", "/scripts/repair-report/appointment",
                   "describe,danger,risk,priority,urgent")
    tab_to(page, "appointment")
    page.keyboard.type("Tuesday morning")
    page.keyboard.press("Escape")
    press_and_wait(page, "1", "/scripts/repair-report/confirm",
                   "describe,danger,risk,priority,urgent,appointment",
                   appointment="Tuesday morning", caller_name="Jo Bloggs")

    words = " ".join(page.locator(".say__words").inner_text().split())
    assert ("I've raised a repair for Water through the kitchen ceiling at 1 High Street. "
            "Its priority is Urgent: it will be done within 5 working days, and your "
            "appointment is Tuesday morning.") in words
    for placeholder in ("[the problem]", "[address]", "[priority]", "[timescale]",
                        "[appointment]"):
        assert placeholder not in words
    assert page.locator(".say__words .say__blank").count() == 0

    # The end step's field comes before Copy, and the summary takes what is typed there
    # without pressing "Update the summary" first.
    assert page.get_by_role("button", name="Update the summary").is_visible()
    tab_to(page, "callback_number")
    page.keyboard.type("07700 900123")
    page.keyboard.press("Tab")  # Update the summary
    page.keyboard.press("Tab")  # the summary text
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Copy summary"
    page.keyboard.press("Enter")
    page.locator("[data-copy-status]").filter(has_text="Summary copied.").wait_for()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("Call script: Reporting a repair (script version 1)\n")
    assert "\nAgent: Alex Agent\n" in copied
    assert "\nDate and time: " in copied
    assert "Call-back number: 07700 900123" in copied
    assert "Priority: Urgent" in copied
    assert "The problem, in the caller's words: Water through the kitchen ceiling" in copied


def test_the_words_fill_in_as_a_field_is_typed(page, live):
    sign_in(page, live)
    page.goto(f"{live}/scripts/warm-transfer/call-back?path=resolve-first,explain")
    words = page.locator(".say__words")
    assert words.inner_text().startswith("[Colleague] isn't able")
    field = page.get_by_label("Passed to (name or team)")
    field.focus()
    page.keyboard.type("Priya")
    assert words.inner_text().startswith("Priya isn't able")
    field.fill("")
    assert words.inner_text().startswith("[Colleague] isn't able")


@pytest.mark.parametrize(
    ("path", "user"),
    [
        ("/scripts/", "agent"),
        ("/scripts/crisis-self-harm/", "agent"),
        ("/scripts/repair-report/priority?path=describe,danger,risk&caller_name=Jo", "agent"),
        ("/scripts/hold/call-back?path=ask&caller_name=Jo", "agent"),
        ("/scripts/repair-report/confirm?path=describe,danger,risk,priority,urgent,appointment"
         "&caller_name=Jo&address=1+High+Street", "agent"),
        ("/scripts/review", "manager"),
        ("/search?q=hold&kind=script", "agent"),
    ],
)
def test_no_serious_accessibility_violations(axe_page, live, path, user):
    sign_in(axe_page, live, username=user)
    axe_page.goto(f"{live}{path}")
    serious = serious_violations(axe_page)
    assert not serious, serious
