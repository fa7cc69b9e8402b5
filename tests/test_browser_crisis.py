"""Real Chromium: the crisis shortcut, the page without JavaScript, copying, accessibility;
signed out, printed on A4, and at 800 px."""

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


# --- signed out, printing, 800 px ----------------------------------------------------


def test_signed_out_the_login_page_shortcut_opens_the_crisis_page(page, live):
    page.goto(f"{live}/login")
    assert page.get_by_label("Username").evaluate("el => el === document.activeElement")
    page.keyboard.press("Alt+Shift+KeyC")
    _on_crisis_page(page, live)
    page.goto(f"{live}/login")
    page.get_by_role("link", name="Crisis").click()
    _on_crisis_page(page, live)


def test_signed_out_without_javascript_then_sign_in_to_record(browser, live):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live}/crisis/")
    assert page.get_by_text("Do not put the caller on hold.").first.is_visible()
    samaritans = page.locator("#helplines .helpline", has_text="Samaritans")
    assert samaritans.get_by_role("link", name="Call Samaritans on 116 123").is_visible()
    assert "Free to call" in samaritans.inner_text()
    assert page.locator("#helplines .helpline").count() >= 9
    assert page.get_by_role("link", name="Record this call").count() == 0
    page.get_by_role("link", name="Sign in to record the incident").first.click()
    page.get_by_label("Username").fill("agent")
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live}/crisis/incidents/new")
    assert page.get_by_label("What the caller said").is_visible()
    context.close()


@pytest.mark.parametrize("path", ["/crisis/", "/login"])
def test_signed_out_pages_have_no_serious_accessibility_violations(axe_page, live, path):
    axe_page.goto(f"{live}{path}")
    assert axe_page.locator("h1").count() == 1
    serious = serious_violations(axe_page)
    assert not serious, serious


def _pages_printed(page) -> int:
    pdf = page.pdf(format="A4")
    return pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")


@pytest.mark.parametrize("user", [None, "manager"])
def test_crisis_page_prints_on_one_a4_page_without_its_buttons(page, live, user):
    if user:
        sign_in(page, live, user)
    page.goto(f"{live}/crisis/")
    buttons = page.locator(".crisis-actions, .crisis-record, .helpline__call")
    assert buttons.first.is_visible()
    assert _pages_printed(page) == 1
    page.emulate_media(media="print")
    for index in range(buttons.count()):
        assert not buttons.nth(index).is_visible()
    assert page.locator(".helpline__value").first.is_visible()  # the numbers are printed
    assert page.get_by_text("Take it seriously").is_visible()


# Everything a signed-out visitor, an agent and a manager open in the crisis area.
CRISIS_PAGES = [
    (None, "/crisis/"), (None, "/login"),
    ("agent", "/crisis/"), ("agent", "/crisis/incidents/new"),
    ("manager", "/crisis/"), ("manager", "/crisis/helplines"),
    ("manager", "/crisis/helplines/new"), ("manager", "/crisis/helplines/1/edit"),
    ("manager", "/crisis/incidents"), ("manager", "/crisis/incidents/1"),
]


# 800 px: a browser beside a softphone; 640 px: 1280x720 zoomed to 200%.
@pytest.mark.parametrize("width", [800, 640])
def test_crisis_pages_fit_without_sideways_scrolling(browser, live, shipped_app, width):
    _ensure_an_incident(shipped_app)
    context = browser.new_context(viewport={"width": width, "height": 720})
    page = context.new_page()
    signed_in_as, problems = None, []
    for user, path in CRISIS_PAGES:
        if user != signed_in_as:
            context.clear_cookies()
            if user:
                sign_in(page, live, user)
            signed_in_as = user
        page.goto(f"{live}{path}")
        widths = page.evaluate("""() => ({
            page: document.documentElement.scrollWidth,
            window: window.innerWidth,
            regions: [...document.querySelectorAll('main *')]
              .filter(el => el.scrollWidth > el.clientWidth + 1
                            && ['auto', 'scroll'].includes(getComputedStyle(el).overflowX))
              .map(el => el.className)
        })""")
        if widths["page"] > widths["window"] or widths["regions"]:
            problems.append(f"{user or 'signed out'} {path}: {widths}")
    context.close()
    assert not problems, problems


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
