"""Trusted-header sign-in: the header names the user only when the request's own peer is a
configured proxy; from anywhere else, and through a spoofed X-Forwarded-For, it is ignored."""

from __future__ import annotations

import logging

import pytest
from werkzeug.middleware.proxy_fix import ProxyFix

from kb.extensions import db
from kb.models import AuditLog
from tests.conftest import build_app, login

PROXY = "10.0.0.5"
OUTSIDER = "192.0.2.99"


@pytest.fixture
def header_app(tmp_path):
    app = build_app(tmp_path, seeded=True, KB_TRUSTED_HEADER="X-Remote-User",
                    KB_TRUSTED_PROXIES=f"127.0.0.1, {PROXY}/32, 2001:db8::/32")
    yield app
    with app.app_context():
        db.engine.dispose()


def _get(client, path="/signoffs/", peer=PROXY, **headers):
    return client.get(path, headers=headers, environ_base={"REMOTE_ADDR": peer})


def _audit(app, action):
    with app.app_context():
        return [row.detail for row in db.session.scalars(
            db.select(AuditLog).filter_by(action=action).order_by(AuditLog.id))]


def test_the_header_from_a_trusted_proxy_signs_the_user_in(header_app):
    client = header_app.test_client()
    page = _get(client, **{"X-Remote-User": "Manager"})  # case aside
    assert page.status_code == 200
    assert "Morgan Manager" in _get(client, "/", **{"X-Remote-User": "manager"}).get_data(
        as_text=True)
    # Audited once for this browser, not on every request.
    assert [row["address"] for row in _audit(header_app, "login.trusted_header")] == [PROXY]
    # For the request only: without the header the same browser is signed out.
    assert _get(client).status_code == 302


def test_the_proxy_decides_who_even_over_a_session(header_app):
    client = header_app.test_client()
    login(client, "agent", "demo")
    html = _get(client, "/", **{"X-Remote-User": "manager"}).get_data(as_text=True)
    assert "Morgan Manager" in html and "Alex Agent" not in html


def test_the_header_from_an_untrusted_address_is_ignored_and_logged_once(header_app,
                                                                         caplog):
    client = header_app.test_client()
    stranger = "198.51.100.23"  # used by no other test: the log is once per process
    with caplog.at_level(logging.WARNING, logger="kb.auth.trusted"):
        for _ in range(3):
            response = _get(client, peer=stranger, **{"X-Remote-User": "admin"})
            assert response.status_code == 302 and "/login" in response.headers["Location"]
    warnings = [r for r in caplog.records if stranger in r.getMessage()]
    assert len(warnings) == 1
    assert _audit(header_app, "login.trusted_header") == []


def test_a_spoofed_forwarded_for_does_not_make_a_request_trusted(header_app):
    # Behind ProxyFix, request.remote_addr is whatever X-Forwarded-For says; the check
    # uses the peer that ProxyFix replaced.
    header_app.wsgi_app = ProxyFix(header_app.wsgi_app, x_for=1)
    client = header_app.test_client()
    spoofed = _get(client, peer=OUTSIDER, **{"X-Remote-User": "admin",
                                             "X-Forwarded-For": PROXY})
    assert spoofed.status_code == 302 and "/login" in spoofed.headers["Location"]
    # The real proxy, passing the client's address on, still works.
    real = _get(client, peer=PROXY, **{"X-Remote-User": "admin",
                                       "X-Forwarded-For": OUTSIDER})
    assert real.status_code == 200


def test_a_name_that_is_no_active_user_signs_nobody_in(header_app):
    client = header_app.test_client()
    assert _get(client, **{"X-Remote-User": "nobody-here"}).status_code == 302
    assert _get(client, **{"X-Remote-User": "x" * 500}).status_code == 302
    with header_app.app_context():
        from kb.models import User

        db.session.scalar(db.select(User).filter_by(username="agent")).active = False
        db.session.commit()
    assert _get(client, **{"X-Remote-User": "agent"}).status_code == 302
    reasons = {row["username"] for row in _audit(header_app, "login.failed")}
    assert {"nobody-here", "agent"} <= reasons


def test_remote_user_is_read_from_the_wsgi_environment(tmp_path):
    app = build_app(tmp_path, seeded=True, KB_TRUSTED_HEADER="REMOTE_USER",
                    KB_TRUSTED_PROXIES="10.0.0.0/8")
    client = app.test_client()
    ok = client.get("/signoffs/", environ_base={"REMOTE_ADDR": "10.1.2.3",
                                                "REMOTE_USER": "agent"})
    assert ok.status_code == 200
    # An HTTP header called Remote-User is not the WSGI variable.
    header = client.get("/signoffs/", headers={"Remote-User": "agent"},
                        environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert header.status_code == 302
    with app.app_context():
        db.engine.dispose()
