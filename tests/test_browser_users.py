"""Real Chromium: the users pages are accessible, and an admin adds a user by keyboard."""

from __future__ import annotations

import pytest

from kb.extensions import db
from tests.browser import VIEWPORT, LiveServer, serious_violations, sign_in
from tests.conftest import build_app

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def users_live(tmp_path_factory):
    """An app of its own (this module adds users), served on a loopback port."""
    from kb.auth.services import issue_token, seed_demo_accounts
    from kb.models import User

    app = build_app(tmp_path_factory.mktemp("users-live"))
    with app.app_context():
        seed_demo_accounts()
        agent = db.session.scalar(db.select(User).filter_by(username="agent"))
        issue_token(agent, "CRM widget")
        db.session.commit()
        app.config["AGENT_ID"] = agent.id
    with LiveServer(app) as server:
        yield server.url, app
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("path", ["/users/", "/users/new", "/users/{agent}",
                                  "/users/{agent}/tokens", "/users/teams"])
def test_users_pages_have_no_serious_accessibility_violations(axe_page, users_live, path):
    live, app = users_live
    sign_in(axe_page, live, "admin")
    axe_page.goto(live + path.format(agent=app.config["AGENT_ID"]))
    assert axe_page.locator("h1").count() == 1
    serious = serious_violations(axe_page)
    assert not serious, serious


def test_an_admin_adds_a_user_by_keyboard_who_then_signs_in(browser, users_live):
    live, _app = users_live
    # bypass_csp: axe is injected on the show-once page below.
    context = browser.new_context(viewport=VIEWPORT, bypass_csp=True)
    page = context.new_page()
    sign_in(page, live, "admin")
    page.goto(f"{live}/users/")
    page.get_by_role("link", name="Add a user").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live}/users/new")
    page.get_by_label("Username").focus()
    page.keyboard.type("kim.lee")
    page.keyboard.press("Tab")
    page.keyboard.type("Kim Lee")
    page.keyboard.press("Tab")  # role: agent, the first choice
    assert page.get_by_label("Role").evaluate("el => el === document.activeElement")
    page.keyboard.press("Tab")
    page.keyboard.type("Contact centre")  # a closed select picks by typing
    assert page.get_by_label("Team").input_value() != "0"
    page.keyboard.press("Tab")  # the password: left empty, so one is made
    page.keyboard.press("Enter")
    page.get_by_text("not shown again").wait_for()
    password = page.get_by_label("Their password").input_value()
    assert len(password) >= 12
    assert not serious_violations(page)
    page.get_by_role("link", name="Done").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live}/users/*")
    assert "Kim Lee" in page.locator("h1").inner_text()
    context.close()

    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    sign_in(page, live, "kim.lee", password)
    assert "Kim Lee" in page.locator(".user-menu__name").inner_text()
    context.close()
