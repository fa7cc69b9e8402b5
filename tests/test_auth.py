"""Signing in and out, roles, CSRF, redirects, rate limiting, tokens."""

from __future__ import annotations

import pytest

from kb.auth.services import is_safe_next
from kb.core.permissions import role_required
from tests.conftest import build_app, csrf_token, login


def test_pages_need_login(client):
    for path in ["/", "/search?q=hold", "/articles/", "/articles/anything"]:
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")


def test_login_and_health_are_public(client):
    assert client.get("/login").status_code == 200
    assert client.get("/healthz").status_code in (200, 503)


def test_login_logout(client):
    response = login(client, "agent")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "Alex Agent" in page and "agent" in page
    token = csrf_token(client.get("/"))
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_wrong_password_is_refused_with_a_message(client):
    response = login(client, "agent", "wrong")
    assert response.status_code == 200
    assert "do not match" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_inactive_user_cannot_sign_in(app, client):
    from kb.extensions import db
    from kb.models import User

    with app.app_context():
        db.session.scalar(db.select(User).filter_by(username="agent")).active = False
        db.session.commit()
    assert login(client, "agent").status_code == 200


def test_passwords_are_hashed(app):
    from kb.extensions import db
    from kb.models import User

    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(username="agent"))
        assert "demo" not in user.password_hash and len(user.password_hash) > 40


def test_post_without_csrf_token_is_rejected(client):
    response = client.post("/login", data={"username": "agent", "password": "demo"})
    assert response.status_code == 400
    assert "nothing was changed" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_forged_csrf_token_is_rejected(client):
    login(client, "agent")
    response = client.post("/logout", data={"csrf_token": "forged"})
    assert response.status_code == 400
    assert client.get("/").status_code == 200  # still signed in


@pytest.mark.parametrize("target", ["/articles/hold-etiquette", "/search?q=hold"])
def test_next_redirects_within_the_site(client, target):
    response = login(client, "agent", next_url=target)
    assert response.headers["Location"] == target


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/", "/\\evil.example", "\\\\evil.example",
     "javascript:alert(1)", "http:/evil.example", "/%0d%0aevil"],
)
def test_open_redirects_are_refused(client, target):
    response = login(client, "agent", next_url=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_is_safe_next():
    assert is_safe_next("/articles/x?y=1")
    assert not is_safe_next("//evil.example")
    assert not is_safe_next("/\tevil")
    assert not is_safe_next(None)


def test_login_is_rate_limited(tmp_path):
    app = build_app(tmp_path, KB_LOGIN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    for _ in range(3):
        assert login(client, "nobody", "x").status_code == 200
    response = login(client, "nobody", "x")
    assert response.status_code == 429
    assert "Wait a minute" in response.get_data(as_text=True)


def test_roles_are_checked_on_the_server(app):
    @app.route("/_manager-only")
    @role_required("manager")
    def manager_only():
        return "secret"

    for username, expected in [("agent", 403), ("manager", 200), ("admin", 200)]:
        client = app.test_client()
        login(client, username)
        assert client.get("/_manager-only").status_code == expected


def test_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    cookie = login(client, "agent").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_tokens_for_the_api(app, runner):
    result = runner.invoke(args=["create-token", "agent", "--name", "CRM"])
    assert result.exit_code == 0
    token = result.output.strip()
    client = app.test_client()
    assert client.get("/api/search?q=hold").status_code == 401
    ok = client.get("/api/search?q=hold", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200
    bad = client.get("/api/search?q=hold", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401 and bad.get_json()["error"] == "unauthorized"
    # Only a hash is stored.
    from kb.extensions import db
    from kb.models import ApiToken

    with app.app_context():
        assert token not in db.session.scalar(db.select(ApiToken.token_hash))


def test_create_user_command(runner, client):
    result = runner.invoke(args=["create-user", "sam", "--role", "manager", "--name", "Sam"],
                           input="s3cret-pass\ns3cret-pass\n")
    assert result.exit_code == 0, result.output
    assert login(client, "sam", "s3cret-pass").status_code == 302
    again = runner.invoke(args=["create-user", "sam"], input="x1234\nx1234\n")
    assert again.exit_code != 0 and "already exists" in again.output


def test_huge_or_binary_posts_get_a_clear_refusal(client):
    login(client, "agent")
    huge = client.post("/crisis/incidents/new", data={"notes": "x" * 3_000_000})
    assert huge.status_code == 413
    assert "too large" in huge.get_data(as_text=True)
    binary = client.post("/admin/vocabularies/synonyms", data=b"\x00\xff\xfe" * 1000,
                         content_type="application/octet-stream")
    assert binary.status_code in (400, 403)
