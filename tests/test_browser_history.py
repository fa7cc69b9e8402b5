"""Real Chromium: history, version, compare and What's new pass axe; folds open by keyboard."""

from __future__ import annotations

import pytest

from kb.extensions import db
from tests.browser import LiveServer, serious_violations, sign_in
from tests.conftest import build_app, write_article

pytestmark = pytest.mark.browser

LINES = [f"Step {n}: this line stays the same in every version." for n in range(30)]


@pytest.fixture(scope="module")
def history_live(tmp_path_factory):
    """An app with one article in three versions (one long unchanged stretch), served."""
    base = tmp_path_factory.mktemp("history")
    app = build_app(base)
    articles = base / "articles"
    with app.app_context():
        from kb.articles.services import import_articles
        from kb.auth.services import seed_demo_accounts
        from kb.search.services import sync_index

        seed_demo_accounts()
        db.session.commit()
        for number, change in enumerate(("£10", "£15", "£15, paid by card")):
            lines = list(LINES)
            lines[15] = f"A replacement fob costs {change}."
            write_article(articles, "fobs", title="Fobs", body="\n\n".join(lines),
                          change_summary=f"Price update {number}")
            report = import_articles(articles)
            assert report.ok, [str(e) for e in report.errors]
            db.session.commit()
        sync_index()
    with LiveServer(app) as server:
        yield server.url
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("user, path", [
    ("agent", "/history/articles/fobs/"),
    ("manager", "/history/articles/fobs/v1"),
    ("agent", "/history/articles/fobs/compare?from=1&to=3"),
    ("agent", "/whats-new"),
])
def test_history_pages_have_no_serious_accessibility_violations(axe_page, history_live,
                                                                user, path):
    sign_in(axe_page, history_live, user)
    axe_page.goto(f"{history_live}{path}")
    serious = serious_violations(axe_page)
    assert not serious, serious


def test_a_folded_stretch_opens_with_enter(page, history_live):
    sign_in(page, history_live)
    page.goto(f"{history_live}/history/articles/fobs/compare")
    fold = page.locator("details.diff-fold").first
    assert fold.evaluate("d => d.open") is False
    summary = fold.locator("summary")
    assert "unchanged lines" in summary.inner_text()
    for _ in range(60):  # reach it the way a keyboard user would
        page.keyboard.press("Tab")
        if summary.evaluate("s => s === document.activeElement"):
            break
    else:
        pytest.fail("the fold's summary never took focus")
    page.keyboard.press("Enter")
    assert fold.evaluate("d => d.open") is True
    assert "Step 3: this line stays the same" in fold.inner_text()


def test_an_agent_sees_the_count_then_the_changes(page, history_live):
    sign_in(page, history_live, "newstarter")
    count = page.locator(".nav-count")
    assert count.inner_text().startswith("2")
    page.get_by_role("link", name="What's new").click()
    page.get_by_role("heading", name="What's new", level=1).wait_for()
    assert page.locator(".nav-count").count() == 0
    page.get_by_role("link", name="See what changed in Fobs, version 3").click()
    page.get_by_role("heading", name="As readers see it").wait_for()
    assert "paid by card" in " ".join(page.locator("ins").all_inner_texts())
