"""Real Chromium: the sign-off dashboard and a person's page pass axe, and at 800 px the
wide grid scrolls inside its own box while the page itself does not scroll sideways."""

from __future__ import annotations

import pytest

from kb.extensions import db
from tests.browser import LiveServer, serious_violations, sign_in
from tests.conftest import build_app, write_article

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def dashboard_live(tmp_path_factory):
    """Twelve standards for agents (a grid wider than the screen), served."""
    base = tmp_path_factory.mktemp("dashboard")
    app = build_app(base)
    with app.app_context():
        from kb.articles.services import import_articles
        from kb.auth.services import seed_demo_accounts

        seed_demo_accounts()
        db.session.commit()
        for n in range(12):
            write_article(base / "articles", f"standard-{n}",
                          title=f"Standard number {n} on call handling",
                          body="Answer within 20 seconds.", requires_signoff="true")
        assert import_articles(base / "articles").ok
        db.session.commit()
        from kb.models import User

        agent_id = db.session.scalar(db.select(User.id).filter_by(username="agent"))
    with LiveServer(app) as server:
        yield server.url, agent_id
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("path", ["/signoffs/dashboard", "/signoffs/people/{agent}"])
def test_dashboard_pages_have_no_serious_accessibility_violations(axe_page, dashboard_live,
                                                                 path):
    base, agent = dashboard_live
    sign_in(axe_page, base, "manager")
    axe_page.goto(base + path.format(agent=agent))
    assert serious_violations(axe_page) == []


def test_at_800_px_the_grid_scrolls_inside_its_box(browser, dashboard_live):
    base, _agent = dashboard_live
    context = browser.new_context(viewport={"width": 800, "height": 700})
    page = context.new_page()
    try:
        sign_in(page, base, "manager")
        page.goto(base + "/signoffs/dashboard")
        assert page.get_by_text("Missing").first.is_visible()
        page_width = page.evaluate("document.documentElement.scrollWidth")
        assert page_width <= 800
        box = page.locator(".table-scroll")
        assert box.evaluate("el => el.scrollWidth > el.clientWidth")
        box.focus()  # keyboard users can scroll it: it takes focus
        assert page.evaluate("document.activeElement.classList.contains('table-scroll')")
    finally:
        context.close()
