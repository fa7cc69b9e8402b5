"""Real Chromium: a manager switches standard sets by keyboard; axe and 800 px checks on
the standards page, the set form and the standard form."""

from __future__ import annotations

import pytest

from kb.extensions import db
from tests.browser import LiveServer, serious_violations, sign_in
from tests.conftest import build_app
from tests.test_duedates_sets import PACK

pytestmark = pytest.mark.browser


def _expect():
    return pytest.importorskip("playwright.sync_api").expect


@pytest.fixture(scope="module")
def sets_live(tmp_path_factory):
    """An app of its own (this module changes which set is in force), with a pack loaded."""
    from kb.tools.duedates.models import StandardSet
    from kb.tools.duedates.packs import load_pack

    base = tmp_path_factory.mktemp("sets-live")
    folder = base / "test-pack"
    folder.mkdir()
    (folder / "pack.yml").write_text(PACK, encoding="utf-8")
    app = build_app(base, seeded=True)
    with app.app_context():
        load_pack(str(folder))
        db.session.commit()
        app.config["SET_IDS"] = {s.key: s.id for s in db.session.scalars(
            db.select(StandardSet))}
    with LiveServer(app) as server:
        yield server.url, app
    with app.app_context():
        db.engine.dispose()


PAGES = ["/tools/due-date/standards", "/tools/due-date/sets/{code}",
         "/tools/due-date/standards/new?set={code}"]


@pytest.mark.parametrize("path", PAGES)
def test_the_pages_pass_axe_and_fit_800_pixels(axe_page, sets_live, path):
    live, app = sets_live
    sign_in(axe_page, live, "manager")
    axe_page.goto(live + path.format(code=app.config["SET_IDS"]["test-code"]))
    assert axe_page.locator("h1").count() == 1
    serious = serious_violations(axe_page)
    assert not serious, serious
    axe_page.set_viewport_size({"width": 800, "height": 720})
    assert axe_page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_a_refused_standard_form_passes_axe_with_focus_on_its_summary(axe_page, sets_live):
    live, _app = sets_live
    sign_in(axe_page, live, "manager")
    axe_page.goto(f"{live}/tools/due-date/standards/new")
    axe_page.get_by_label("Key (used in links and the API)").fill("email")  # taken
    axe_page.get_by_label("What is due").fill("Reply to an email again")
    axe_page.get_by_label("Channel").fill("Email")
    axe_page.get_by_role("button", name="Save").press("Enter")
    summary = axe_page.locator(".error-summary")
    _expect()(summary).to_be_focused()
    _expect()(summary).to_contain_text("Another standard already uses the key")
    serious = serious_violations(axe_page)
    assert not serious, serious


def _change_set(page, live, name: str) -> None:
    """From the standards page, open a set's form by keyboard and toggle In force."""
    page.goto(f"{live}/tools/due-date/standards")
    page.get_by_role("link", name=f"Change “{name}”").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/tools/due-date/sets/*")
    page.get_by_label("In force").focus()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")  # the Save button follows the checkbox
    page.keyboard.press("Enter")


def test_a_manager_switches_the_policy_out_and_a_pack_in_by_keyboard(page, sets_live):
    expect = _expect()
    live, _app = sets_live
    sign_in(page, live, "manager")

    # Our policy is the only set in force: it cannot be switched off.
    _change_set(page, live, "Our policy")
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("At least one set of standards must stay in force")

    _change_set(page, live, "Test complaint code")
    page.wait_for_url("**/tools/due-date/standards#set-*")
    expect(page.locator(".flash--success")).to_contain_text(
        "Saved “Test complaint code”: in force")
    _change_set(page, live, "Our policy")
    page.wait_for_url("**/tools/due-date/standards#set-*")
    expect(page.locator(".flash--success")).to_contain_text("Saved “Our policy”: not in force")
    expect(page.locator(".standard-set").first).to_contain_text("Not in force:")

    page.goto(f"{live}/tools/due-date")
    offered = page.locator("#standard")
    expect(offered).to_contain_text("Answer a test complaint")
    expect(offered).not_to_contain_text("Reply to an email")
