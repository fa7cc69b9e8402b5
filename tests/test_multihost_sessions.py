"""Sessions across hosts: a session cookie is a signed cookie plus the user's session
version in the database, so any host behind the load balancer accepts it, and signing out
on one host ends the person's sessions on every host."""

from __future__ import annotations

from kb.extensions import db
from tests.conftest import build_app, csrf_token, login


def test_a_session_works_on_any_host_and_signing_out_on_one_ends_it_on_all(tmp_path):
    host_a = build_app(tmp_path, seeded=True)
    # The same database (and secret key), an index of its own: another host.
    host_b = build_app(tmp_path, KB_INDEX_DIR=str(tmp_path / "index-b"))
    browser = host_a.test_client()
    assert login(browser, "agent").status_code == 302
    # The load balancer sends this browser's next request to B.
    same_browser_on_b = host_b.test_client()
    same_browser_on_b.set_cookie("session", browser.get_cookie("session").value)
    assert same_browser_on_b.get("/").status_code == 200
    other_browser_on_b = host_b.test_client()
    assert login(other_browser_on_b, "agent").status_code == 302

    token = csrf_token(browser.get("/"))
    assert browser.post("/logout", data={"csrf_token": token}).status_code == 302
    for client in (same_browser_on_b, other_browser_on_b):
        response = client.get("/")
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    for app in (host_a, host_b):
        with app.app_context():
            db.engine.dispose()
