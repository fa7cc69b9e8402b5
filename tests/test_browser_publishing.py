"""The editor in Chromium: live preview, publishing a material change, an agent finding it
by search and on What's new; axe on the editor, approvals, conflict and archived pages."""

from __future__ import annotations

import re

import pytest

from tests.browser import LiveServer, serious_violations, sign_in
from tests.conftest import build_app, write_article

pytestmark = pytest.mark.usefixtures("browser")


@pytest.fixture(scope="module")
def editable(tmp_path_factory):
    """Its own app (the shared shipped app stays read-only) served on a loopback port."""
    base = tmp_path_factory.mktemp("publishing-live")
    (base / "scripts").mkdir()
    app = build_app(base)
    write_article(base / "articles", "lost-keys", title="Lost keys", category="Lettings",
                  body="Ask the caller for their tenancy reference.")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["import-content"]).exit_code == 0
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    with LiveServer(app) as server:
        yield server.url


def test_manager_edits_with_live_preview_publishes_and_an_agent_finds_it(page, editable):
    sign_in(page, editable, "manager")
    page.goto(f"{editable}/articles/lost-keys")
    page.get_by_role("link", name="Edit", exact=True).click()
    page.wait_for_url(re.compile(r".*/publishing/articles/lost-keys/edit$"))
    text = page.get_by_label("Text (Markdown)")
    text.fill("Ask the caller for their tenancy reference.\n\n")
    text.press("End")
    text.type("## Spare keys\n\nThe wobbegong cabinet holds spare keys.")
    preview = page.locator("[data-preview]")
    preview.get_by_role("heading", name="Spare keys").wait_for()
    assert "wobbegong cabinet" in preview.inner_text()
    page.get_by_label("Change summary").fill("Where the spare keys are kept")
    page.get_by_label("Material change: agents must re-acknowledge").check()
    page.get_by_role("button", name="Publish", exact=True).click()
    page.wait_for_url(f"{editable}/articles/lost-keys")
    assert "Published version 2." in page.inner_text(".flashes")
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, editable, "agent")
    page.goto(f"{editable}/search?q=wobbegong")
    result = page.locator(".results").get_by_role("link", name="Lost keys")
    result.wait_for()
    result.click()
    page.wait_for_url(re.compile(r".*/articles/lost-keys(\?.*)?$"))  # with its search id
    assert "The wobbegong cabinet holds spare keys." in page.inner_text("main")
    assert page.get_by_role("link", name="Edit", exact=True).count() == 0
    # The header counts the material change until the agent opens What's new.
    page.get_by_role("link", name=re.compile(r"^What's new 1 unseen material update$")).click()
    page.wait_for_url(f"{editable}/whats-new")
    item = page.locator(".whats-new__item", has_text="Where the spare keys are kept")
    item.get_by_role("link", name=re.compile("See what changed")).click()
    page.wait_for_url(re.compile(r".*/history/articles/lost-keys/compare\?from=1&to=2$"))
    assert "wobbegong" in page.locator("ins").first.inner_text()


def test_toolbar_inserts_an_article_link(page, editable):
    sign_in(page, editable, "manager")
    page.goto(f"{editable}/publishing/articles/new")
    page.get_by_label("Text (Markdown)").fill("See ")
    page.get_by_label("Link to article").fill("lost-keys")
    page.get_by_role("button", name="Insert link").click()
    assert page.get_by_label("Text (Markdown)").input_value() == "See [Lost keys](lost-keys)"
    page.locator("[data-preview]").get_by_role("link", name="Lost keys").wait_for()


def _conflict(page, editable) -> None:
    """Open the editor, let another manager publish through the API, then publish."""
    page.goto(f"{editable}/publishing/articles/lost-keys/edit")
    token = page.locator("input[name=csrf_token]").first.input_value()
    number = int(page.locator("input[name=base_version]").input_value())
    response = page.request.put(f"{editable}/api/articles/lost-keys",
                                headers={"X-CSRFToken": token},
                                data={"base_version": number, "markdown": "Theirs.",
                                      "change_summary": "Someone else's change"})
    assert response.status == 200, response.text()
    page.get_by_label("Text (Markdown)").fill("Mine.")
    page.get_by_label("Change summary").fill("Mine")
    page.get_by_role("button", name="Publish", exact=True).click()
    page.get_by_role("heading", name="Someone published a newer version").wait_for()


@pytest.mark.parametrize("path", ["/publishing/articles/lost-keys/edit",
                                  "/publishing/approvals", "/publishing/archived",
                                  "/publishing/", "/publishing/categories", "conflict"])
def test_publishing_pages_have_no_serious_accessibility_violations(axe_page, editable, path):
    sign_in(axe_page, editable, "manager")
    if path == "conflict":
        _conflict(axe_page, editable)
    else:
        axe_page.goto(f"{editable}{path}")
    serious = serious_violations(axe_page)
    assert not serious, serious


def test_the_editor_stacks_at_800px(page, editable):
    sign_in(page, editable, "manager")
    page.set_viewport_size({"width": 800, "height": 900})
    page.goto(f"{editable}/publishing/articles/lost-keys/edit")
    source = page.locator(".editor__source").bounding_box()
    preview = page.locator(".editor__preview").bounding_box()
    assert preview["y"] >= source["y"] + source["height"] - 1
    page.set_viewport_size({"width": 1280, "height": 900})
    source = page.locator(".editor__source").bounding_box()
    preview = page.locator(".editor__preview").bounding_box()
    assert preview["x"] > source["x"] + source["width"] - 1
