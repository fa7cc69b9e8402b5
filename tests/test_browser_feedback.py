"""Real Chromium: an agent sends article feedback by keyboard (with and without
JavaScript); axe on the feedback queue and the search analytics."""

from __future__ import annotations

import pytest

from tests.browser import serious_violations, sign_in

pytestmark = pytest.mark.browser


def test_an_agent_reports_an_article_out_of_date_by_keyboard(page, live):
    sign_in(page, live)
    page.goto(f"{live}/articles/hold-etiquette")
    comment = page.get_by_label("Comment (optional)")
    comment.focus()
    page.keyboard.type("The check-in interval is now 45 seconds.")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "This answered my question"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "This is out of date or wrong"
    page.keyboard.press("Enter")
    status = page.locator("[data-feedback-status]")
    status.get_by_text("your report is with the managers").wait_for()
    assert page.url == f"{live}/articles/hold-etiquette"  # sent in place
    assert comment.input_value() == ""


def test_feedback_works_without_javascript(browser, live):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in(page, live)
    page.goto(f"{live}/articles/complaints")
    page.get_by_role("button", name="This answered my question").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live}/articles/complaints")
    assert page.locator(".flash").inner_text() in (
        "Thank you: you said this answered your question.",
        "You have already said this version answered your question. Thank you: it is "
        "counted once.")
    context.close()


@pytest.mark.parametrize("path", ["/feedback/", "/feedback/?state=open",
                                  "/analytics/?days=7", "/analytics/?days=90"])
def test_feedback_queue_and_analytics_have_no_serious_accessibility_violations(
        axe_page, live, path):
    # Something in the queue and in the reports: a report, a search and an opening.
    sign_in(axe_page, live)
    axe_page.goto(f"{live}/articles/repair-priorities")
    axe_page.get_by_label("Comment (optional)").fill("Timescales changed.")
    axe_page.get_by_role("button", name="This is out of date or wrong").click()
    axe_page.locator("[data-feedback-status]").get_by_text("with the managers").wait_for()
    axe_page.goto(f"{live}/search?q=gas+leak")
    axe_page.locator(".result__link").first.click()
    axe_page.wait_for_load_state()
    axe_page.context.clear_cookies()
    sign_in(axe_page, live, "manager")
    axe_page.goto(f"{live}{path}")
    assert axe_page.locator("h1").inner_text() in ("Article feedback", "Search analytics")
    serious = serious_violations(axe_page)
    assert not serious, serious
