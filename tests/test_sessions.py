"""Sessions that end: sign-out, a new password and deactivation end every cookie issued
before them; remember-me lasts KB_REMEMBER_DAYS; repeated failures slow one account."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kb.extensions import db
from kb.models import Helpline
from tests.conftest import build_app, csrf_token, login


def _cookies(client) -> dict[str, str]:
    return {cookie.key: cookie.value for cookie in client._cookies.values()}


def _client_with(app, cookies: dict[str, str]):
    """A new browser holding only the given cookies (as someone who copied them would)."""
    other = app.test_client()
    for name, value in cookies.items():
        other.set_cookie(name, value)
    return other


def _remember_login(client, username: str = "manager", password: str = "demo"):
    token = csrf_token(client.get("/login"))
    return client.post("/login", data={"username": username, "password": password,
                                       "remember": "y", "csrf_token": token})


def test_signing_out_ends_copied_session_and_remember_cookies(app):
    browser = app.test_client()
    assert _remember_login(browser).status_code == 302
    saved = _cookies(browser)
    assert {"session", "remember_token"} <= set(saved)
    page = browser.get("/crisis/helplines/new")
    form_token = csrf_token(page)
    browser.post("/logout", data={"csrf_token": form_token})

    # The whole saved cookie jar: pages, the API and a manager's POST are all refused.
    thief = _client_with(app, saved)
    assert thief.get("/").status_code == 302
    assert thief.get("/api/search?q=fob").status_code == 401
    response = thief.post("/crisis/helplines/new", data={
        "csrf_token": form_token, "name": "Fake line", "number": "0800 000 000"})
    assert response.status_code in (302, 401)
    with app.app_context():
        assert db.session.scalar(db.select(Helpline).filter_by(name="Fake line")) is None
    # The remember-me cookie on its own no longer signs anyone in.
    alone = _client_with(app, {"remember_token": saved["remember_token"]})
    assert alone.get("/").status_code == 302


def test_a_new_password_and_deactivation_end_sessions(app, runner):
    browser = app.test_client()
    _remember_login(browser, "agent")
    assert browser.get("/").status_code == 200
    result = runner.invoke(args=["set-password", "agent"], input="new-pass\nnew-pass\n")
    assert result.exit_code == 0, result.output
    assert browser.get("/").status_code == 302
    assert login(browser, "agent", "new-pass").status_code == 302
    saved = _cookies(browser)
    assert runner.invoke(args=["deactivate-user", "agent"]).exit_code == 0
    assert browser.get("/").status_code == 302
    # Reactivating the account does not bring the old session back.
    assert runner.invoke(args=["deactivate-user", "agent", "--reactivate"]).exit_code == 0
    assert _client_with(app, saved).get("/").status_code == 302


def _remember_expiry(client) -> datetime:
    token = csrf_token(client.get("/login"))
    response = client.post("/login", data={"username": "agent", "password": "demo",
                                           "remember": "y", "csrf_token": token})
    header = next(h for h in response.headers.getlist("Set-Cookie")
                  if h.startswith("remember_token="))
    expires = next(p.split("=", 1)[1] for p in header.split("; ") if p.startswith("Expires="))
    return datetime.strptime(expires, "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=UTC)


def test_remember_me_lasts_fourteen_days_unless_configured(app, tmp_path):
    days = (_remember_expiry(app.test_client()) - datetime.now(UTC)).days
    assert days in (13, 14)
    other = build_app(tmp_path / "other", REMEMBER_COOKIE_DURATION=timedelta(days=3))
    with other.app_context():
        from kb.auth.services import seed_demo_accounts
        from kb.extensions import db

        seed_demo_accounts()
        db.session.commit()
    assert (_remember_expiry(other.test_client()) - datetime.now(UTC)).days in (2, 3)


def test_remember_days_come_from_the_environment(monkeypatch):
    import importlib

    import config

    monkeypatch.setenv("KB_REMEMBER_DAYS", "5")
    try:
        assert importlib.reload(config).Config.REMEMBER_COOKIE_DURATION.days == 5
    finally:
        monkeypatch.delenv("KB_REMEMBER_DAYS")
        importlib.reload(config)


def _from(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_repeated_failures_slow_down_one_account_from_any_address(app):
    for number in range(5):
        client = _from(app, f"10.0.0.{number + 1}")
        response = login(client, "manager", "wrong")
        assert "do not match" in response.get_data(as_text=True)
    # Even the right password, from a new address, must wait now.
    client = _from(app, "10.0.0.99")
    response = login(client, "manager", "demo")
    assert response.status_code == 429
    assert "Too many failed sign-ins for this account" in response.get_data(as_text=True)
    # Other accounts are not affected.
    assert login(client, "agent", "demo").status_code == 302
