"""Settings an operator changes when deploying: reverse proxies and rotating the secret key."""

from __future__ import annotations

import pytest

from kb.extensions import db
from tests.conftest import build_app, csrf_token, login


def _failed_login_address(app, client, **headers) -> str:
    """Fail a sign-in with these headers; the address the audit log recorded for it."""
    from kb.models import AuditLog

    token = csrf_token(client.get("/login"))
    client.post("/login", data={"username": "agent", "password": "wrong",
                                "csrf_token": token}, headers=headers)
    with app.app_context():
        row = db.session.scalars(db.select(AuditLog).filter_by(action="login.failed")
                                 .order_by(AuditLog.id.desc())).first()
        assert row is not None, "the failed sign-in was not audited"
        return row.detail["address"]


def test_without_a_proxy_forwarded_headers_are_ignored(tmp_path):
    app = build_app(tmp_path, seeded=True)
    client = app.test_client()
    address = _failed_login_address(app, client, **{"X-Forwarded-For": "203.0.113.9"})
    assert address == "127.0.0.1"


def test_behind_one_proxy_the_client_address_and_path_come_from_it(tmp_path):
    app = build_app(tmp_path, seeded=True, KB_PROXY_HOPS=1)
    client = app.test_client()
    # A client may send its own X-Forwarded-For; the proxy appends the real address, and
    # only the value the one trusted proxy added counts.
    address = _failed_login_address(
        app, client, **{"X-Forwarded-For": "198.51.100.7, 203.0.113.9"})
    assert address == "203.0.113.9"
    # Served under a path on the proxy, links and redirects carry that path.
    response = client.get("/", headers={"X-Forwarded-Prefix": "/kb"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/kb/login")
    assert 'href="/kb/crisis/' in client.get(
        "/login", headers={"X-Forwarded-Prefix": "/kb"}).get_data(as_text=True)


def test_a_negative_number_of_proxies_is_refused(tmp_path):
    with pytest.raises(RuntimeError, match="KB_PROXY_HOPS"):
        build_app(tmp_path, KB_PROXY_HOPS=-1)


def test_rotating_the_secret_key_keeps_people_signed_in_through_the_fallback(tmp_path):
    old, new = "o" * 40, "n" * 40
    app = build_app(tmp_path, seeded=True, SECRET_KEY=old)
    client = app.test_client()
    assert login(client, "agent").status_code == 302
    assert client.get("/").status_code == 200
    cookie = client.get_cookie("session").value

    # The same database, a new key, the old one as a fallback: the session still works.
    rotated = build_app(tmp_path, seeded=True, SECRET_KEY=new, SECRET_KEY_FALLBACKS=[old])
    follower = rotated.test_client()
    follower.set_cookie("session", cookie)
    assert follower.get("/").status_code == 200

    # Once the old key is dropped, the old cookie no longer signs anyone in.
    retired = build_app(tmp_path, seeded=True, SECRET_KEY=new)
    stranger = retired.test_client()
    stranger.set_cookie("session", cookie)
    response = stranger.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
