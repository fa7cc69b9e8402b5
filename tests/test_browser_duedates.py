"""Real Chromium: the response-time calculator with the keyboard, Copy, axe-core and 800 px."""

from __future__ import annotations

import re

import pytest

from kb.extensions import db
from tests.browser import serious_violations, sign_in

pytestmark = pytest.mark.browser

SATURDAY = "standard=complaint-acknowledge&from=2026-08-29T10:00"


def _expect():
    return pytest.importorskip("playwright.sync_api").expect


def test_work_it_out_and_copy_the_sentence_with_the_keyboard(page, live):
    expect = _expect()
    sign_in(page, live)
    page.goto(f"{live}/tools/due-date")
    standard = page.get_by_label("Standard", exact=True)
    standard.focus()
    standard.select_option("complaint-stage-2")  # what arrow keys in the list would do
    # The form follows the standard: stage 2 counts from the request to escalate.
    expect(page.locator("#from-label")).to_have_text("Escalation requested (UK time)")
    standard.select_option("complaint-acknowledge")
    expect(page.locator("#from-label")).to_have_text("Request received (UK time)")
    page.keyboard.press("Tab")  # to the date and time
    page.locator("#from").fill("2026-08-29T10:00")
    page.keyboard.press("Enter")
    page.wait_for_url("**/tools/due-date?standard=complaint-acknowledge*")

    expect(page.locator("#due-heading")).to_contain_text("Respond by Thursday 3 September 2026")
    expect(page.locator("#due-heading")).to_be_focused()  # the answer is where you land
    line = page.locator("#due-sentence")
    expect(line).to_have_value(
        re.compile(r"^We will acknowledge your complaint by Thursday 3 September"))
    page.keyboard.press("Tab")  # the sentence (selectable)
    page.keyboard.press("Tab")  # its Copy button
    copy = page.get_by_role("button", name="Copy: Read this to the caller")
    expect(copy).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#due-status")).to_contain_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == line.input_value()


@pytest.fixture
def code_set(shipped_app):
    """A two-step set in force on the live app for one test (acknowledge within 5 working
    days; reply within 10 of the acknowledgement, extendable by 10)."""
    from kb.tools.duedates.models import ResponseStandard, StandardSet
    from kb.tools.duedates.services import save_standard
    from tests.conftest import user_named

    with shipped_app.app_context():
        manager = user_named("manager")
        chosen = StandardSet(key="browser-code", label="Complaint code", position=5)
        db.session.add(chosen)
        db.session.flush()
        save_standard(None, user=manager, standard_set=chosen, key="browser-ack",
                      label="Acknowledge the complaint", channel="Complaints",
                      rule="working_days", amount=5, event="acknowledged",
                      promise="acknowledge your complaint")
        save_standard(None, user=manager, standard_set=chosen, key="browser-reply",
                      label="Stage 1 reply", channel="Complaints", rule="working_days",
                      amount=10, counts_from="browser-ack", extension_days=10,
                      extension_note="Only with a good reason", promise="reply to your complaint")
        db.session.commit()
    yield
    with shipped_app.app_context():
        for standard in db.session.scalars(db.select(ResponseStandard).filter(
                ResponseStandard.key.in_(["browser-reply", "browser-ack"]))):
            db.session.delete(standard)
        db.session.flush()
        db.session.delete(db.session.scalar(db.select(StandardSet).filter_by(key="browser-code")))
        db.session.commit()


def test_a_chain_asks_for_its_dates_as_the_standard_changes(page, live, code_set):
    expect = _expect()
    sign_in(page, live)
    page.goto(f"{live}/tools/due-date")
    acknowledged = page.get_by_label("Acknowledged (UK time)")
    reason = page.get_by_label("Reason for extension (optional)")
    expect(acknowledged).to_be_hidden()
    expect(reason).to_be_hidden()
    page.get_by_label("Standard", exact=True).select_option("browser-reply")
    expect(acknowledged).to_be_visible()
    expect(reason).to_be_visible()
    page.locator("#from").fill("2026-08-29T10:00")
    acknowledged.fill("2026-09-01T09:00")
    reason.fill("we are waiting for a surveyor's report")
    reason.press("Enter")
    expect(page.locator("#due-heading")).to_contain_text("Respond by Tuesday 15 September 2026")
    expect(page.locator(".due-step")).to_have_count(2)
    expect(page.locator("#due-extension-sentence")).to_have_value(re.compile(
        "because we are waiting for a surveyor's report. We will do so by Tuesday 29 Sep"))
    copy = page.get_by_role("button", name="Copy: If you extend it, read this instead")
    copy.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#due-status")).to_contain_text("Copied: We need more time")

    page.get_by_label("Standard", exact=True).select_option("email")  # no chain: the dates go away
    expect(acknowledged).to_be_hidden()
    assert acknowledged.is_disabled()  # and a hidden date is not sent with the form


def test_without_javascript_the_sentence_is_plain_text(browser, live):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in(page, live)
    page.goto(f"{live}/tools/due-date?{SATURDAY}")
    assert page.locator("#due-sentence").input_value().startswith(
        "We will acknowledge your complaint by Thursday 3 September")
    assert page.locator("[data-copy]").first.is_hidden()  # Copy needs JavaScript
    context.close()


@pytest.mark.parametrize("path", ["/tools/due-date", f"/tools/due-date?{SATURDAY}",
                                  "/tools/due-date?standard=email&from=garbage"])
def test_no_serious_accessibility_violations(axe_page, live, path):
    sign_in(axe_page, live)
    axe_page.goto(f"{live}{path}")
    serious = serious_violations(axe_page)
    assert not serious, serious


def test_no_sideways_scrolling_at_800_pixels(page, live):
    page.set_viewport_size({"width": 800, "height": 700})
    sign_in(page, live)
    for query in ("", SATURDAY, "standard=repair-emergency&from=2026-10-25T00:30"):
        page.goto(f"{live}/tools/due-date?{query}")
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= 800, (query, wide)


def test_without_javascript_a_chain_asks_for_its_dates_once_chosen(browser, live, code_set):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in(page, live)
    page.goto(f"{live}/tools/due-date")
    acknowledged = page.get_by_label("Acknowledged (UK time)")
    assert acknowledged.is_hidden()
    page.get_by_label("Standard", exact=True).select_option("browser-reply")
    page.get_by_role("button", name="Work it out").click()
    page.wait_for_url("**standard=browser-reply**")
    assert acknowledged.is_visible() and acknowledged.is_enabled()
    assert page.get_by_label("Reason for extension (optional)").is_visible()
    assert page.locator(".due-step").count() == 2
    context.close()


def test_a_chain_with_an_extension_is_accessible(axe_page, live, code_set):
    sign_in(axe_page, live)
    axe_page.goto(f"{live}/tools/due-date?standard=browser-reply&from=2026-08-29T10:00"
                  "&acknowledged=2026-09-08T09:00&reason=a+surveyor+is+away")
    assert axe_page.locator(".due-late").count() == 1
    serious = serious_violations(axe_page)
    assert not serious, serious
