"""Real Chromium: an agent follows the banner to My sign-offs, signs a standard, and the
banner goes; both pages pass axe."""

from __future__ import annotations

import pytest

from kb.extensions import db
from tests.browser import LiveServer, serious_violations, sign_in
from tests.conftest import build_app, write_article

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def signoff_live(tmp_path_factory):
    """An app with one standard every agent must sign, served."""
    base = tmp_path_factory.mktemp("signoffs")
    app = build_app(base)
    with app.app_context():
        from kb.articles.services import import_articles
        from kb.auth.services import seed_demo_accounts
        from kb.search.services import sync_index

        seed_demo_accounts()
        db.session.commit()
        write_article(base / "articles", "greeting", title="Greeting callers",
                      body="## Greeting\n\nAnswer within 20 seconds and give your name.\n",
                      requires_signoff="true")
        write_article(base / "articles", "quiz", title="Quiz standard", requires_signoff="true",
                      body="Answer within 20 seconds.",
                      questions="\n  - question: How soon?\n    choices: [20 seconds, 2 minutes]"
                                "\n    answer: 20 seconds")
        assert import_articles(base / "articles").ok
        db.session.commit()
        sync_index()
    with LiveServer(app) as server:
        yield server.url
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("path", ["/signoffs/", "/signoffs/articles/greeting/sign",
                                  "/signoffs/articles/quiz/sign"])
def test_signoff_pages_have_no_serious_accessibility_violations(axe_page, signoff_live, path):
    sign_in(axe_page, signoff_live, "newstarter")
    axe_page.goto(f"{signoff_live}{path}")
    serious = serious_violations(axe_page)
    assert not serious, serious


def test_an_agent_follows_the_banner_and_signs(page, signoff_live):
    sign_in(page, signoff_live, "agent")
    banner = page.locator(".signoff-banner")
    assert banner.inner_text().startswith("2 sign-offs to do · next due ")
    banner.get_by_role("link").click()
    assert page.get_by_role("heading", name="My sign-offs").is_visible()
    assert "Not signed yet" in page.locator(".signoff-item").first.inner_text()
    page.get_by_role("link", name="Read and sign Greeting callers").click()
    assert "Answer within 20 seconds" in page.locator(".signoff-text").inner_text()
    page.get_by_label("I have read and understood this standard").check()
    page.get_by_label("Your full name").fill("alex agent")
    page.get_by_label("Your password").fill("demo")
    page.get_by_label("Your password").press("Enter")  # the keyboard submits the form
    assert "Signed: version 1 of Greeting callers." in page.locator(".flashes").inner_text()
    assert page.locator(".signoff-banner").inner_text().startswith("1 sign-off to do · next due ")
    assert "Greeting callers" in page.locator(".signoff-table").inner_text()


def test_a_wrong_answer_is_refused_and_the_right_one_signs(browser, signoff_live):
    from tests.browser import VIEWPORT, watch_errors

    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    errors = watch_errors(page)
    sign_in(page, signoff_live, "agent")
    page.goto(f"{signoff_live}/signoffs/")
    page.get_by_role("link", name="Read and sign Quiz standard").click()
    page.get_by_label("2 minutes").check()
    page.get_by_label("I have read and understood this standard").check()
    page.get_by_label("Your full name").fill("Alex Agent")
    page.get_by_label("Your password").fill("demo")
    page.get_by_role("button", name="Sign version 1").click()
    assert "Question 1 is not right" in page.locator(".flashes").inner_text()
    page.get_by_label("20 seconds").check()
    page.get_by_label("I have read and understood this standard").check()
    page.get_by_label("Your full name").fill("Alex Agent")
    page.get_by_label("Your password").fill("demo")
    page.get_by_role("button", name="Sign version 1").click()
    assert "Signed: version 1 of Quiz standard." in page.locator(".flashes").inner_text()
    assert "Quiz standard" in page.locator(".signoff-table").inner_text()
    assert page.get_by_role("link", name="Read and sign Quiz standard").count() == 0
    context.close()
    # The refused post answers 400, which the browser logs; nothing else may go wrong.
    assert [e for e in errors if "status of 400" not in e] == [], errors
