"""Real Chromium: the phonetic speller and the hold timer with the keyboard, and axe-core."""

from __future__ import annotations

import re

import pytest

from tests.browser import serious_violations, sign_in

pytestmark = pytest.mark.browser


def _expect():
    return pytest.importorskip("playwright.sync_api").expect


# --- phonetic speller ----------------------------------------------------------------------


def test_phonetic_spells_as_you_type_and_copies(page, live):
    expect = _expect()
    sign_in(page, live)
    page.goto(f"{live}/tools/phonetic")
    box = page.locator("#text")
    assert box.evaluate("el => el === document.activeElement")  # ready to type on arrival
    box.press_sequentially("sw1a 1aa", delay=30)
    line = "Sierra Whiskey One Alfa — One Alfa Alfa"
    expect(page.locator("#ph-spoken")).to_have_value(line)
    expect(page.locator(".ph-group")).to_have_count(2)  # the postcode's halves
    expect(page.locator(".ph-group").first).to_contain_text("First half")
    expect(page.locator(".ph-note")).to_contain_text("SW1A 1AA")
    assert "text=sw1a+1aa" in page.url  # the address can be shared or reloaded

    copy = page.get_by_role("button", name="Copy", exact=True)
    copy.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#phonetic-status")).to_contain_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == line


def test_phonetic_reads_nato_words_back_and_flags_unknowns(page, live):
    expect = _expect()
    sign_in(page, live)
    page.goto(f"{live}/tools/phonetic")
    page.locator("#text").fill("Sierra Echo One Space One Alfa Alfa")
    expect(page.locator("#ph-decoded")).to_have_value("SE1 1AA")
    page.get_by_label("Spell it out").check()
    expect(page.locator("#ph-spoken")).to_have_value(re.compile(r"^Sierra India Echo Romeo"))
    page.get_by_label("Work it out").check()
    page.locator("#text").fill("Zoë")
    unknown = page.locator(".ph-entry.is-unknown")
    expect(unknown).to_have_count(1)
    expect(unknown).to_contain_text("Not in the alphabet")
    page.locator("#text").fill("A" * 499 + "é")
    expect(page.locator("#ph-spoken")).to_have_value(re.compile("é$"))


def test_phonetic_page_without_javascript(browser, live):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in(page, live)
    page.goto(f"{live}/tools/phonetic")
    page.locator("#text").fill("SE1 7PB")
    page.keyboard.press("Enter")
    page.wait_for_url("**/tools/phonetic?text=SE1+7PB**")
    assert page.locator("#ph-spoken").input_value() == "Sierra Echo One — Seven Papa Bravo"
    assert page.locator("[data-copy]").first.is_hidden()  # Copy needs JavaScript
    context.close()


def test_reference_card_prints_on_one_page(page, live):
    sign_in(page, live)
    page.goto(f"{live}/tools/phonetic/card")
    assert page.get_by_role("button", name="Print this card").is_visible()
    pdf = page.pdf(format="A4")
    assert pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") == 1


# --- hold timer ----------------------------------------------------------------------------


def test_hold_timer_with_the_keyboard(page, live):
    expect = _expect()
    page.clock.install()
    sign_in(page, live)
    page.goto(f"{live}/tools/hold?interval=2")  # clamped to the 5-second minimum
    expect(page.locator("[data-hold-nojs]")).to_be_hidden()
    live_region = page.locator("#hold-live")
    assert live_region.get_attribute("aria-live") == "assertive"

    # Typing an S in a box does not start a hold.
    page.locator("#header-q").press("s")
    expect(page.locator("#hold-count")).to_have_text("0")
    page.locator("#header-q").fill("")
    page.locator("#main").focus()  # out of the box: now the keys work

    page.keyboard.press("s")
    expect(page.locator("#hold-state")).to_have_text("On hold")
    expect(page.locator("#hold-count")).to_have_text("1")
    expect(page.locator("#hold-prompt")).to_be_hidden()

    page.clock.fast_forward(6000)
    expect(page.locator("#hold-prompt")).to_be_visible()
    expect(page.locator("#hold-prompt")).to_contain_text("Check back with the caller now")
    expect(live_region).to_contain_text("Check back with the caller now")
    expect(live_region).to_contain_text("Are you happy to hold a little longer")

    page.keyboard.press("c")  # checked back; the caller keeps holding
    expect(page.locator("#hold-prompt")).to_be_hidden()
    expect(page.locator("#hold-checkins")).to_have_text("1")

    page.keyboard.press("s")  # return from hold
    thanks = page.locator("#hold-thanks")
    expect(thanks).to_be_visible()
    expect(thanks).to_contain_text("Thank you for holding")
    expect(live_region).to_contain_text("Thank the caller")
    expect(page.locator("#hold-count")).to_have_text("1")
    expect(page.locator("#hold-state")).to_have_text("Not on hold")

    page.get_by_role("button", name=re.compile("Start hold")).focus()
    page.keyboard.press("Enter")  # a second hold, from the button itself
    expect(page.locator("#hold-count")).to_have_text("2")
    expect(thanks).to_be_hidden()
    page.clock.fast_forward(3000)
    page.reload()  # opening something else in the tab does not lose the hold
    expect(page.locator("#hold-count")).to_have_text("2")
    expect(page.locator("#hold-state")).to_have_text(re.compile("^On hold"))
    page.keyboard.press("s")
    expect(page.locator("#hold-total")).to_have_text(re.compile(r"^00:(09|1\d)$"))

    page.keyboard.press("n")  # new call
    expect(page.locator("#hold-count")).to_have_text("0")
    expect(page.locator("#hold-total")).to_have_text("00:00")


def test_hold_page_without_javascript_is_a_script_card(browser, live):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in(page, live)
    page.goto(f"{live}/tools/hold")
    assert page.locator("[data-hold-nojs]").is_visible()
    assert page.locator("[data-hold-timer]").is_hidden()
    assert page.get_by_text("Is it all right if I put you").is_visible()
    assert page.get_by_role("link", name=re.compile("Putting callers on hold")).is_visible()
    context.close()


# --- accessibility -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/tools/phonetic",
        "/tools/phonetic?text=SW1A+1AA+Zo%C3%AB",
        "/tools/phonetic?text=Sierra+Echo+Kiwi",
        "/tools/phonetic/card",
        "/tools/hold",
    ],
)
def test_no_serious_accessibility_violations(axe_page, live, path):
    sign_in(axe_page, live)
    axe_page.goto(f"{live}{path}")
    serious = serious_violations(axe_page)
    assert not serious, serious


def test_hold_prompt_and_thanks_states_are_accessible(axe_page, live):
    axe_page.clock.install()
    sign_in(axe_page, live)
    axe_page.goto(f"{live}/tools/hold?interval=5")
    axe_page.keyboard.press("s")
    axe_page.clock.fast_forward(6000)
    axe_page.locator("#hold-prompt").wait_for(state="visible")
    due = serious_violations(axe_page)
    axe_page.keyboard.press("s")
    axe_page.locator("#hold-thanks").wait_for(state="visible")
    after = serious_violations(axe_page)
    assert not due and not after, due + after
