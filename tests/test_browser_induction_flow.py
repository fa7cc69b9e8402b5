"""Real Chromium, the new starter's first week end to end: Nina signs in and sees her
programme, signs a standard from her checklist, her manager countersigns it from the
queue, and Nina's progress bar has moved and her record names the countersigner. axe runs
on every page of the journey."""

from __future__ import annotations

from datetime import date

import pytest

from kb.extensions import db
from tests.browser import LiveServer, serious_violations, sign_in
from tests.conftest import build_app, write_article

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def first_week(tmp_path_factory):
    """Served: one standard to sign and a programme of it and a manager's task, with the
    demo new starter enrolled from today."""
    base = tmp_path_factory.mktemp("first-week")
    app = build_app(base)
    with app.app_context():
        from kb.articles.services import import_articles
        from kb.auth.services import seed_demo_accounts
        from kb.search.services import sync_index
        from tests.induction_helpers import enrol, programme_with, user

        seed_demo_accounts()
        db.session.commit()
        write_article(base / "articles", "greeting", title="Greeting callers",
                      body="## Greeting\n\nAnswer within 20 seconds and give your name.\n",
                      requires_signoff="true")
        assert import_articles(base / "articles").ok
        db.session.commit()
        sync_index()
        from kb.models import Article

        article = db.session.scalar(db.select(Article).filter_by(slug="greeting"))
        programme = programme_with(("article", article, 3),
                                   ("task", "Shadow three calls with a buddy", 5),
                                   name="Contact centre induction")
        enrol(programme, user("newstarter"), date.today())
        db.session.commit()
    with LiveServer(app) as server:
        yield server.url
    with app.app_context():
        db.engine.dispose()


def _check_axe(page) -> None:
    serious = serious_violations(page)
    assert not serious, (page.url, serious)


def test_a_new_starter_signs_the_manager_countersigns_and_the_bar_moves(browser, first_week):
    from tests.browser import VIEWPORT

    starter = browser.new_context(viewport=VIEWPORT, bypass_csp=True).new_page()
    sign_in(starter, first_week, "newstarter")
    home = starter.locator(".induction-home")
    assert "Your induction: Contact centre induction" in home.inner_text()
    assert starter.locator(".induction-progress").first.inner_text().startswith("0 of 2 done")
    assert starter.locator("progress").first.get_attribute("value") == "0"
    _check_axe(starter)

    # From the checklist to the standard, then signed with the keyboard.
    home.get_by_role("link", name="Greeting callers").click()
    assert "Answer within 20 seconds" in starter.locator(".signoff-text").inner_text()
    _check_axe(starter)
    starter.get_by_label("I have read and understood this standard").check()
    starter.get_by_label("Your full name").fill("nina newstarter")
    starter.get_by_label("Your password").fill("demo")
    starter.get_by_label("Your password").press("Enter")
    assert "Signed: version 1 of Greeting callers." in starter.locator(".flashes").inner_text()
    assert "awaiting countersignature" in starter.locator(".signoff-table").inner_text().lower()

    # The manager finds it in the countersign queue and countersigns it.
    manager = browser.new_context(viewport=VIEWPORT, bypass_csp=True).new_page()
    sign_in(manager, first_week, "manager")
    manager.goto(f"{first_week}/signoffs/countersign")
    _check_axe(manager)
    queue = manager.locator(".signoff-table")
    assert "Nina Newstarter" in queue.inner_text() and "Greeting callers" in queue.inner_text()
    manager.get_by_label("Countersign Nina Newstarter, Greeting callers version 1").check()
    manager.get_by_label("Your full name").fill("Morgan Manager")
    manager.get_by_label("Your password").fill("demo")
    manager.get_by_role("button", name="Countersign selected").click()
    assert "countersigned" in manager.locator(".flashes").inner_text().lower()
    assert manager.locator(".signoff-table").count() == 0  # the queue is empty now

    # Nina's bar has moved; her record names who countersigned.
    starter.goto(f"{first_week}/")
    assert starter.locator(".induction-progress").first.inner_text().startswith("1 of 2 done")
    assert starter.locator("progress").first.get_attribute("value") == "1"
    starter.goto(f"{first_week}/induction/")
    _check_axe(starter)
    starter.get_by_role("link", name="Printable record").first.click()
    record = starter.locator("main").inner_text()
    assert "Greeting callers" in record and "Morgan Manager" in record
    _check_axe(starter)
    starter.context.close()
    manager.context.close()
