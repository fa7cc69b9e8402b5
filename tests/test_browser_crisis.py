"""Real Chromium: the crisis shortcut, the page without JavaScript, copying, accessibility."""

from __future__ import annotations

import pytest

from tests.browser import VIEWPORT, serious_violations, sign_in, watch_errors

pytestmark = pytest.mark.browser


def _on_crisis_page(page, live: str) -> None:
    page.wait_for_url(f"{live}/crisis/")
    assert page.locator("h1").first.inner_text() == "Caller in crisis: suicide or self-harm"


@pytest.mark.parametrize("path", ["/", "/articles/crisis-self-harm", "/search?q=repair"])
def test_shortcut_opens_the_crisis_page(page, live, path):
    sign_in(page, live)
    page.goto(f"{live}{path}")
    page.locator("h1").first.wait_for(state="attached")
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("Alt+Shift+KeyC")
    _on_crisis_page(page, live)


@pytest.mark.parametrize(("path", "box"), [("/", "#q"), ("/search?q=repair", "#q"),
                                           ("/articles/hold-etiquette", "#header-q")])
def test_shortcut_works_while_typing_in_the_search_box(page, live, path, box):
    sign_in(page, live)
    page.goto(f"{live}{path}")
    field = page.locator(box)
    field.focus()
    field.press_sequentially("caller says", delay=20)
    assert field.evaluate("el => el === document.activeElement")
    page.keyboard.press("Alt+Shift+KeyC")
    _on_crisis_page(page, live)


def test_crisis_page_works_without_javascript(browser, live):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in(page, live)
    page.goto(f"{live}/crisis/")
    assert page.get_by_text("Do not put the caller on hold.").first.is_visible()
    samaritans = page.locator("#helplines .helpline", has_text="Samaritans")
    assert samaritans.locator("input[readonly]").input_value() == "116 123"
    assert samaritans.get_by_role("link", name="Call Samaritans on 116 123").get_attribute(
        "href") == "tel:116123"
    assert not samaritans.locator("button.helpline__copy").is_visible()  # needs JS
    assert page.locator("#helplines .helpline").count() >= 9
    page.get_by_role("link", name="Record this call").first.click()
    page.wait_for_url(f"{live}/crisis/incidents/new")
    context.close()


def test_copy_button_copies_a_number(browser, live):
    context = browser.new_context(viewport=VIEWPORT)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live)
    page = context.new_page()
    errors = watch_errors(page)
    sign_in(page, live)
    page.goto(f"{live}/crisis/")
    assert page.get_by_role("button", name="Copy Samaritans number").is_visible()
    button = page.locator("#helplines .helpline", has_text="Samaritans").locator("button")
    button.focus()
    page.keyboard.press("Enter")
    expect = pytest.importorskip("playwright.sync_api").expect
    expect(page.locator("#copy-status")).to_have_text("Copied 116 123")
    expect(button).to_contain_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == "116 123"
    context.close()
    assert not errors, errors


def test_record_a_call_with_the_keyboard(page, live):
    sign_in(page, live)
    page.goto(f"{live}/crisis/incidents/new")
    page.get_by_label("What the caller said").fill("Said they wanted to end their life.")
    page.keyboard.press("Tab")
    page.keyboard.type("Bus stop on the high street")
    page.keyboard.press("Tab")
    page.keyboard.type("Priya")
    page.get_by_label("Yes").check()
    page.get_by_label("Samaritans: 116 123").check()
    page.get_by_role("button", name="Submit the record").press("Enter")
    page.wait_for_url(f"{live}/crisis/incidents/*")
    assert "Your record has been saved" in page.content()
    assert "Samaritans: 116 123" in page.content()


def test_a_refused_record_focuses_the_error_summary(page, live):
    sign_in(page, live)
    page.goto(f"{live}/crisis/incidents/new")
    page.get_by_role("button", name="Submit the record").press("Enter")
    page.wait_for_load_state()
    summary = page.locator(".error-summary")
    assert summary.is_visible()
    assert summary.evaluate("el => el === document.activeElement")
    summary.get_by_role("link", name="What the caller said – Write down what the caller said.") \
        .press("Enter")
    assert page.evaluate("location.hash") == "#what_was_said"


@pytest.mark.parametrize(
    ("user", "path"),
    [
        ("agent", "/crisis/"),
        ("agent", "/crisis/incidents/new"),
        ("manager", "/crisis/"),
        ("manager", "/crisis/helplines"),
        ("manager", "/crisis/helplines/1/edit"),
        ("manager", "/crisis/helplines/new"),
        ("manager", "/crisis/incidents"),
        ("manager", "/crisis/incidents/1"),
    ],
)
def test_no_serious_accessibility_violations(axe_page, live, shipped_app, user, path):
    _ensure_an_incident(shipped_app)
    sign_in(axe_page, live, user)
    axe_page.goto(f"{live}{path}")
    assert axe_page.locator("h1").count() == 1
    serious = serious_violations(axe_page)
    assert not serious, serious


def test_incident_form_with_errors_has_no_serious_violations(axe_page, live):
    sign_in(axe_page, live)
    axe_page.goto(f"{live}/crisis/incidents/new")
    axe_page.get_by_label("Time of the call").fill("")
    axe_page.get_by_role("button", name="Submit the record").click()
    axe_page.locator(".error-summary").wait_for()
    serious = serious_violations(axe_page)
    assert not serious, serious


def _ensure_an_incident(app) -> None:
    """Incident record 1 exists, so its review page can be checked."""
    from datetime import datetime

    from kb.crisis import incidents, services
    from kb.extensions import db
    from kb.models import CrisisIncident, User

    with app.app_context():
        if db.session.get(CrisisIncident, 1) is None:
            services.seed_helplines()
            db.session.commit()
            agent = db.session.scalar(db.select(User).filter_by(username="agent"))
            incidents.record_incident(
                incidents.IncidentData(datetime(2026, 1, 15, 10), "Said they felt hopeless.",
                                       emergency_services_called=False, helpline_ids=(4,)),
                agent,
            )
            db.session.commit()
