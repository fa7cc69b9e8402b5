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
        assert import_articles(base / "articles").ok
        db.session.commit()
        sync_index()
    with LiveServer(app) as server:
        yield server.url
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("path", ["/signoffs/", "/signoffs/articles/greeting/sign"])
def test_signoff_pages_have_no_serious_accessibility_violations(axe_page, signoff_live, path):
    sign_in(axe_page, signoff_live, "newstarter")
    axe_page.goto(f"{signoff_live}{path}")
    serious = serious_violations(axe_page)
    assert not serious, serious


def test_an_agent_follows_the_banner_and_signs(page, signoff_live):
    sign_in(page, signoff_live, "agent")
    banner = page.locator(".signoff-banner")
    assert banner.inner_text() == "1 sign-off to do"
    banner.get_by_role("link").click()
    assert page.get_by_role("heading", name="My sign-offs").is_visible()
    assert "Not signed yet" in page.locator(".signoff-item").inner_text()
    page.get_by_role("link", name="Read and sign Greeting callers").click()
    assert "Answer within 20 seconds" in page.locator(".signoff-text").inner_text()
    page.get_by_label("I have read and understood this standard").check()
    page.get_by_label("Your full name").fill("alex agent")
    page.get_by_label("Your password").fill("demo")
    page.get_by_label("Your password").press("Enter")  # the keyboard submits the form
    assert "Signed: version 1 of Greeting callers." in page.locator(".flashes").inner_text()
    assert page.locator(".signoff-banner").count() == 0
    assert "Nothing to sign" in page.locator("main").inner_text()
    assert "Greeting callers" in page.locator(".signoff-table").inner_text()
