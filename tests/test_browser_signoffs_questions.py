"""Real Chromium: on a standard with questions the signing fields appear only once every
question has a choice (and show at once without JavaScript); the sign page and the
editor's questions section pass axe."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kb.extensions import db
from tests.browser import VIEWPORT, LiveServer, serious_violations, sign_in
from tests.conftest import build_app, write_article

pytestmark = pytest.mark.browser

QUESTIONS = ("\n  - question: How soon do we answer?\n    choices: [20 seconds, 2 minutes]"
             "\n    answer: 20 seconds"
             "\n  - question: What do you give first?\n    choices: [Your name, The time]"
             "\n    answer: Your name")


@pytest.fixture(scope="module")
def quiz_live(tmp_path_factory):
    """An app with one standard asking two questions, served."""
    base = tmp_path_factory.mktemp("signoff-quiz")
    app = build_app(base)
    with app.app_context():
        from kb.articles.services import import_articles
        from kb.auth.services import seed_demo_accounts
        from kb.search.services import sync_index

        seed_demo_accounts()
        db.session.commit()
        write_article(base / "articles", "greeting", title="Greeting standard",
                      requires_signoff="true", body="Answer within 20 seconds; your name.",
                      questions=QUESTIONS)
        assert import_articles(base / "articles").ok
        db.session.commit()
        sync_index()
    with LiveServer(app) as server:
        yield server.url
    with app.app_context():
        db.engine.dispose()


SIGN = "/signoffs/articles/greeting/sign"


def test_the_signing_fields_appear_once_each_question_has_a_choice(page, quiz_live):
    sign_in(page, quiz_live, "agent")
    page.goto(f"{quiz_live}{SIGN}")
    button = page.get_by_role("button", name="Sign version 1")
    tick = page.get_by_label("I have read and understood this standard")
    status = page.get_by_role("status").filter(has_text="answered")
    assert not button.is_visible() and not tick.is_visible()
    assert "0 of 2 answered" in status.inner_text()
    page.get_by_label("20 seconds").check()  # the keyboard can do this too (space)
    assert not button.is_visible()
    assert "1 of 2 answered" in status.inner_text()
    page.get_by_label("Your name").focus()
    page.keyboard.press("Space")
    button.wait_for(state="visible")
    assert tick.is_visible()
    expect(page.get_by_role("status").filter(has_text="you can sign")).to_have_text(
        "All questions answered: you can sign now.")
    tick.check()
    page.get_by_label("Your full name").fill("Alex Agent")
    page.get_by_label("Your password").fill("demo")
    button.click()
    assert "Signed: version 1 of Greeting standard." in page.locator(".flashes").inner_text()


def test_without_javascript_the_signing_fields_show_at_once(browser, quiz_live):
    context = browser.new_context(viewport=VIEWPORT, java_script_enabled=False)
    page = context.new_page()
    sign_in_without_script(page, quiz_live, "newstarter")
    page.goto(f"{quiz_live}{SIGN}")
    assert page.get_by_role("button", name="Sign version 1").is_visible()
    # A wrong answer is still refused by the server, naming the question.
    page.get_by_label("2 minutes").check()
    page.get_by_label("Your name").check()
    page.get_by_label("I have read and understood this standard").check()
    page.get_by_label("Your full name").fill("Nina Newstarter")
    page.get_by_label("Your password").fill("demo")
    page.get_by_role("button", name="Sign version 1").click()
    assert "Question 1 is not right" in page.locator(".flashes").inner_text()
    context.close()


def sign_in_without_script(page, base_url: str, username: str) -> None:
    """Sign in through the form (a page without JavaScript still posts it)."""
    page.goto(f"{base_url}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/")


def test_the_sign_page_passes_axe_before_and_after_answering(axe_page, quiz_live):
    sign_in(axe_page, quiz_live, "newstarter")  # an agent who has not signed
    axe_page.goto(f"{quiz_live}{SIGN}")
    serious = serious_violations(axe_page)
    assert not serious, serious
    axe_page.get_by_label("20 seconds").check()
    axe_page.get_by_label("Your name").check()
    axe_page.get_by_role("button", name="Sign version 1").wait_for(state="visible")
    serious = serious_violations(axe_page)
    assert not serious, serious


def test_the_editor_questions_section_passes_axe_and_shows_a_refusal(axe_page, quiz_live):
    sign_in(axe_page, quiz_live, "manager")
    axe_page.goto(f"{quiz_live}/publishing/articles/greeting/edit")
    questions = axe_page.get_by_label("Comprehension questions (optional)")
    assert "Q: How soon do we answer?\n* 20 seconds\n- 2 minutes" in questions.input_value()
    assert axe_page.get_by_label("Team that signs").is_visible()
    serious = serious_violations(axe_page)
    assert not serious, serious
    questions.fill("Q: How soon do we answer?\n- 20 seconds\n- 2 minutes")
    axe_page.get_by_label("Change summary (required to publish)").fill("Quiz")
    axe_page.get_by_role("button", name="Publish").click()
    summary = axe_page.locator(".error-summary")
    assert "Question 1 has no right answer" in summary.inner_text()
    summary.get_by_role("link").click()
    assert axe_page.evaluate("document.activeElement.id") == "signoff_questions"
    serious = serious_violations(axe_page)
    assert not serious, serious
