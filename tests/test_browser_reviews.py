"""Real Chromium: the review dashboard and the audit log pass axe; "Reviewed, no change"
works from the keyboard."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from kb.extensions import db
from tests.browser import LiveServer, serious_violations, sign_in
from tests.conftest import build_app, write_article

pytestmark = pytest.mark.browser
# The dashboard's button for the "Repairs" article (its title is visually hidden text).
REPAIRS_BUTTON = re.compile(r"^Reviewed, no change\W+Repairs$")


@pytest.fixture(scope="module")
def review_live(tmp_path_factory):
    """A served app with two overdue articles and one due soon (its own database, so the
    shared shipped app is left alone)."""
    base = tmp_path_factory.mktemp("reviews-live")
    app = build_app(base)
    for slug, owner in (("bins", "Waste Manager"), ("fly-tipping", "Waste Manager"),
                        ("repairs", "Repairs Manager")):
        write_article(base / "articles", slug, owner=owner)
    with app.app_context():
        from kb.articles.services import import_articles
        from kb.auth.services import seed_demo_accounts
        from kb.models import Article, utcnow
        from kb.reviews.services import next_review_on

        seed_demo_accounts()
        assert import_articles(base / "articles").ok
        for slug, days in (("bins", 400), ("fly-tipping", 350), ("repairs", 380)):
            item = db.session.scalar(db.select(Article).filter_by(slug=slug))
            item.last_reviewed_at = utcnow() - timedelta(days=days)
            item.next_review_date = next_review_on(item.last_reviewed_at, 12)
        db.session.commit()
    with LiveServer(app) as server:
        yield server.url
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("path", ["/reviews/", "/admin/audit", "/admin/audit?from=nonsense",
                                  "/articles/repairs"])
def test_no_serious_accessibility_violations(axe_page, review_live, path):
    sign_in(axe_page, review_live, "manager")
    axe_page.goto(f"{review_live}{path}")
    assert axe_page.locator("h1").count() == 1
    serious = serious_violations(axe_page)
    assert not serious, serious


def test_reviewed_no_change_by_keyboard(page, review_live):
    sign_in(page, review_live, "manager")
    page.goto(f"{review_live}/articles/bins")
    assert page.get_by_text("Overdue for review").is_visible()
    page.keyboard.press("Tab")
    for _ in range(60):  # Tab through the page to the note, type, then on to the button
        if page.evaluate("document.activeElement.name") == "note":
            break
        page.keyboard.press("Tab")
    page.keyboard.type("Checked with the waste team")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").startswith(
        "Reviewed, no change")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_by_text("recorded as reviewed with no change").is_visible()
    assert page.get_by_text("Overdue for review").count() == 0

    page.goto(f"{review_live}/admin/audit?action=article.reviewed")
    assert page.get_by_text("note: Checked with the waste team").is_visible()
    # The dashboard's own button, by keyboard too: focus it and press Space.
    page.goto(f"{review_live}/reviews/")
    button = page.get_by_role("button", name=REPAIRS_BUTTON)
    button.focus()
    with page.expect_navigation():
        page.keyboard.press("Space")
    assert page.url.endswith("/reviews/")
    assert page.get_by_role("button", name=REPAIRS_BUTTON).count() == 0
