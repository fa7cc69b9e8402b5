"""Single sign-on in Chromium: with passwords off, a signed-out person reaches the page
they asked for through the provider, by keyboard alone."""

from __future__ import annotations

from kb.extensions import db
from tests.browser import VIEWPORT, LiveServer, watch_errors
from tests.conftest import build_app
from tests.sso_helpers import QUIET, running_provider, set_person, sso_settings

pytestmark = QUIET


def _loopback_only(route) -> None:
    """No request leaves the machine (the provider's page links a stylesheet on a CDN)."""
    if route.request.url.startswith("http://127.0.0.1:"):
        route.continue_()
    else:
        route.abort()


def test_signing_in_through_the_provider_with_the_keyboard(browser, tmp_path):
    with running_provider() as issuer:
        app = build_app(tmp_path, seeded=True, **sso_settings(issuer, KB_SSO_REQUIRED=True))
        set_person(issuer, "sub-pat", preferred_username="pat", name="Pat Browser",
                   groups=["kb-managers"])
        with LiveServer(app) as live:
            # The redirect URI is built from KB_BASE_URL, known once the port is.
            app.config["KB_BASE_URL"] = live.url
            context = browser.new_context(viewport=VIEWPORT)
            context.route("**/*", _loopback_only)
            page = context.new_page()
            errors = watch_errors(page)
            try:
                page.goto(f"{live.url}/signoffs/")
                assert page.url.startswith(f"{live.url}/login?next="), page.url
                assert page.locator('input[name="password"]').count() == 0
                focused = page.evaluate("document.activeElement.textContent")
                assert focused.strip() == "Sign in with Housing Group ID"
                page.keyboard.press("Enter")
                page.wait_for_url(f"{issuer}/oauth2/authorize?*")
                page.locator('input[name="sub"]').fill("sub-pat")
                page.keyboard.press("Enter")
                page.wait_for_url(f"{live.url}/signoffs/")
                assert "Pat Browser" in page.content()
            finally:
                context.close()
        with app.app_context():
            db.engine.dispose()
    # The provider's stylesheet was refused on purpose; nothing else may fail.
    assert [e for e in errors if "net::ERR_FAILED" not in e] == []
