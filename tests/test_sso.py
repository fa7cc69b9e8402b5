"""Single sign-on against a real OpenID provider on loopback: first sign-in makes the
account with the role and team its groups map to, later sign-ins follow the groups, SSO
required turns passwords off, and a tampered, refused or unanswered round trip is a clear
page that signs nobody in."""

from __future__ import annotations

import pytest
from flask import session
from flask_wtf.csrf import generate_csrf

from kb.extensions import db
from kb.models import AuditLog, User
from tests.conftest import build_app, csrf_token, login
from tests.sso_helpers import (
    QUIET,
    at_provider,
    query_of,
    running_provider,
    set_person,
    sign_in,
    sso_settings,
    to_provider,
    wait_closed,
)

pytestmark = QUIET


@pytest.fixture(scope="module")
def issuer():
    """One provider for the whole module (it starts in milliseconds, but once is enough)."""
    with running_provider() as url:
        yield url


@pytest.fixture
def sso_app(tmp_path, issuer):
    app = build_app(tmp_path, seeded=True, **sso_settings(issuer))
    yield app
    with app.app_context():
        db.engine.dispose()


def _signed_in(client) -> bool:
    response = client.get("/signoffs/")
    return response.status_code == 200


def _user(app, sub: str) -> User | None:
    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(oidc_subject=sub))
        if user is not None:
            db.session.expunge(user)
        return user


def _actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(db.select(AuditLog.action).order_by(AuditLog.id)))


def _audit(app, action: str) -> list[dict]:
    with app.app_context():
        return [row.detail for row in db.session.scalars(
            db.select(AuditLog).filter_by(action=action).order_by(AuditLog.id))]


def test_first_sign_in_creates_the_account_with_the_mapped_role_and_team(sso_app, issuer):
    set_person(issuer, "sub-alice", preferred_username="Alice.Walker@example.org",
               name="Alice Walker", email="alice@example.org",
               groups=["kb-managers", "team-repairs", "unrelated"])
    client = sso_app.test_client()
    start = client.get("/login/sso?next=/signoffs/")
    location = to_provider(start, issuer)
    asked = query_of(location)
    assert asked["client_id"] == "frontline-kb"
    assert set(asked["scope"].split()) == {"openid", "profile", "email"}
    assert asked["redirect_uri"] == "http://127.0.0.1:5000/login/sso/callback"
    assert asked["nonce"] and asked["state"] and asked["code_challenge_method"] == "S256"
    back = client.get(at_provider(location, "sub-alice"))
    assert back.status_code == 302 and back.headers["Location"] == "/signoffs/"
    assert _signed_in(client)
    user = _user(sso_app, "sub-alice")
    assert (user.username, user.display_name, user.email) == (
        "alice.walker", "Alice Walker", "alice@example.org")
    assert (user.role, user.oidc_issuer) == ("manager", issuer)
    with sso_app.app_context():
        assert db.session.get(User, user.id).team.name == "Repairs"
    created = _audit(sso_app, "user.created")[-1]
    assert created["via"] == "single sign-on" and created["role"] == "manager"
    assert _audit(sso_app, "login.sso")[-1]["subject"] == "sub-alice"


def test_a_later_sign_in_follows_the_groups_and_audits_the_change(sso_app, issuer):
    set_person(issuer, "sub-bo", preferred_username="bo", name="Bo Lee",
               groups=["kb-managers", "kb-admins", "team-lettings"])
    client = sso_app.test_client()
    sign_in(client, issuer, "sub-bo")
    assert _user(sso_app, "sub-bo").role == "admin"  # the highest role matched wins
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/"))})
    assert not _signed_in(client)

    set_person(issuer, "sub-bo", preferred_username="bo", name="Bo Lee-Smith",
               groups=["team-repairs"])
    sign_in(client, issuer, "sub-bo")
    assert _signed_in(client)
    user = _user(sso_app, "sub-bo")
    assert (user.username, user.display_name, user.role) == ("bo", "Bo Lee-Smith", "agent")
    with sso_app.app_context():
        assert db.session.get(User, user.id).team.name == "Repairs"
        assert db.session.scalar(db.select(db.func.count(User.id)).filter_by(
            oidc_subject="sub-bo")) == 1  # the same account, not a second one
    change = _audit(sso_app, "user.role_changed")[-1]
    assert (change["before"], change["after"]) == ("admin", "agent")
    team = _audit(sso_app, "user.team_changed")[-1]
    assert (team["before"], team["after"]) == ("Lettings", "Repairs")


def test_a_taken_username_gets_a_new_one_rather_than_the_existing_account(sso_app, issuer):
    # The demo "agent" exists: someone called "agent" at the provider is not them.
    set_person(issuer, "sub-impostor", preferred_username="agent", name="Not Alex")
    client = sso_app.test_client()
    sign_in(client, issuer, "sub-impostor")
    assert _user(sso_app, "sub-impostor").username == "agent-2"
    with sso_app.app_context():
        alex = db.session.scalar(db.select(User).filter_by(username="agent"))
        assert alex.oidc_subject is None and alex.display_name == "Alex Agent"


def test_an_unsafe_next_is_dropped_through_the_round_trip(sso_app, issuer):
    set_person(issuer, "sub-cy", preferred_username="cy")
    back = sign_in(sso_app.test_client(), issuer, "sub-cy", next_url="//evil.example/x")
    assert back.status_code == 302 and back.headers["Location"] == "/"


def test_a_deactivated_account_is_refused(sso_app, issuer):
    set_person(issuer, "sub-dee", preferred_username="dee")
    client = sso_app.test_client()
    sign_in(client, issuer, "sub-dee")
    with sso_app.app_context():
        user = db.session.scalar(db.select(User).filter_by(oidc_subject="sub-dee"))
        user.active = False
        user.end_sessions()
        db.session.commit()
    again = sign_in(sso_app.test_client(), issuer, "sub-dee")
    assert again.status_code == 403
    assert "has been deactivated" in again.get_data(as_text=True)
    assert _audit(sso_app, "login.failed")[-1]["reason"] == \
        "single sign-on: account deactivated"


def test_cancelling_at_the_provider_signs_nobody_in(sso_app, issuer):
    client = sso_app.test_client()
    location = to_provider(client.get("/login/sso"), issuer)
    back = client.get(at_provider(location, None))
    assert back.status_code == 403
    page = back.get_data(as_text=True)
    assert "You did not sign in at Housing Group ID" in page
    assert 'href="/login/sso"' in page  # a way to try again
    assert not _signed_in(client)
    assert "provider said access_denied" in _audit(sso_app, "login.failed")[-1]["reason"]


def test_a_tampered_or_replayed_state_is_refused_with_a_clear_message(sso_app, issuer):
    set_person(issuer, "sub-eve", preferred_username="eve")
    client = sso_app.test_client()
    callback = at_provider(to_provider(client.get("/login/sso"), issuer), "sub-eve")
    state = query_of(callback)["state"]
    tampered = callback.replace(f"state={state}", "state=" + state[::-1])
    refused = client.get(tampered)
    assert refused.status_code == 400
    assert "does not match a sign-in started in this browser" in refused.get_data(
        as_text=True)
    assert not _signed_in(client)
    # Another browser cannot use this browser's answer either.
    elsewhere = sso_app.test_client()
    assert elsewhere.get(callback).status_code == 400 and not _signed_in(elsewhere)
    assert _user(sso_app, "sub-eve") is None
    assert _audit(sso_app, "login.failed")[-1]["reason"] == \
        "single sign-on: state not recognised"


def test_a_provider_that_does_not_answer_is_a_clear_page(tmp_path, issuer):
    # Started and stopped: a loopback port where nothing listens now.
    with running_provider() as gone:
        pass
    wait_closed(int(gone.rsplit(":", 1)[1]))
    app = build_app(tmp_path, seeded=True, **sso_settings(gone))
    response = app.test_client().get("/login/sso")
    assert response.status_code == 503
    assert "Housing Group ID is not answering" in response.get_data(as_text=True)
    assert _audit(app, "login.failed")[-1]["reason"] == "single sign-on: provider unreachable"


def test_a_provider_that_goes_down_mid_sign_in_is_a_clear_page(tmp_path):
    with running_provider() as short_lived:
        app = build_app(tmp_path, seeded=True, **sso_settings(short_lived))
        client = app.test_client()
        callback = at_provider(to_provider(client.get("/login/sso"), short_lived), "sub-fay")
    wait_closed(int(short_lived.rsplit(":", 1)[1]))
    response = client.get(callback)  # the code cannot be exchanged now
    assert response.status_code == 503
    assert "stopped answering during sign-in" in response.get_data(as_text=True)
    assert not _signed_in(client)


def test_sso_required_turns_passwords_off(tmp_path, issuer):
    app = build_app(tmp_path, seeded=True, **sso_settings(issuer, KB_SSO_REQUIRED=True))
    client = app.test_client()
    page = client.get("/login?next=/signoffs/")
    html = page.get_data(as_text=True)
    assert "Sign in with Housing Group ID" in html
    assert 'href="/login/sso?next=/signoffs/"' in html
    assert 'name="password"' not in html
    # The page has no form to take a CSRF token from: give this browser one.
    with app.test_request_context():
        token = generate_csrf()
        raw = session["csrf_token"]
    with client.session_transaction() as browser:
        browser["csrf_token"] = raw
    refused = client.post("/login", data={"username": "agent", "password": "demo",
                                          "csrf_token": token})  # a demo account
    assert refused.status_code == 403
    assert "Passwords are turned off" in refused.get_data(as_text=True)
    assert not _signed_in(client)
    assert _audit(app, "login.failed")[-1]["reason"] == \
        "password sign-in is off (single sign-on required)"
    set_person(issuer, "sub-gil", preferred_username="gil")
    sign_in(client, issuer, "sub-gil")
    assert _signed_in(client)


def test_with_sso_optional_the_page_offers_both(sso_app):
    client = sso_app.test_client()
    html = client.get("/login").get_data(as_text=True)
    assert "Sign in with Housing Group ID" in html and 'name="password"' in html
    assert login(client, "agent", "demo").status_code == 302
    assert _signed_in(client)


def test_require_group_refuses_someone_in_no_role_group(tmp_path, issuer):
    app = build_app(tmp_path, seeded=True, **sso_settings(
        issuer, KB_OIDC_REQUIRE_GROUP=True,
        KB_OIDC_ROLE_GROUPS="agent=kb-staff,manager=kb-managers"))
    set_person(issuer, "sub-hal", preferred_username="hal", groups=["elsewhere"])
    refused = sign_in(app.test_client(), issuer, "sub-hal")
    assert refused.status_code == 403
    assert "not in a group that may use this site" in refused.get_data(as_text=True)
    assert _user(app, "sub-hal") is None
    set_person(issuer, "sub-ida", preferred_username="ida", groups=["kb-staff"])
    client = app.test_client()
    sign_in(client, issuer, "sub-ida")
    assert _signed_in(client) and _user(app, "sub-ida").role == "agent"


def test_sign_out_ends_the_session_and_can_end_the_providers(tmp_path, issuer):
    app = build_app(tmp_path, seeded=True,
                    **sso_settings(issuer, KB_OIDC_END_PROVIDER_SESSION=True))
    set_person(issuer, "sub-jo", preferred_username="jo")
    client = app.test_client()
    sign_in(client, issuer, "sub-jo")
    out = client.post("/logout", data={"csrf_token": csrf_token(client.get("/"))})
    assert out.status_code == 302
    assert out.headers["Location"].startswith(issuer + "/oauth2/end_session?")
    assert query_of(out.headers["Location"])["post_logout_redirect_uri"] == \
        "http://127.0.0.1:5000/login"
    assert not _signed_in(client)


def test_sso_routes_are_absent_without_an_issuer(app):
    client = app.test_client()
    assert client.get("/login/sso").status_code == 404
    assert client.get("/login/sso/callback?state=x&code=y").status_code == 404
    assert "Sign in with" not in client.get("/login").get_data(as_text=True)


@pytest.mark.parametrize(("settings", "named"), [
    ({"KB_OIDC_ISSUER": "https://id.example.org"}, "KB_OIDC_CLIENT_ID"),
    ({"KB_SSO_REQUIRED": True}, "KB_OIDC_ISSUER"),
    ({"KB_OIDC_ISSUER": "https://id.example.org", "KB_OIDC_CLIENT_ID": "x",
      "KB_OIDC_CLIENT_SECRET": "y", "KB_OIDC_ROLE_GROUPS": "boss=kb-bosses"},
     "KB_OIDC_ROLE_GROUPS"),
    ({"KB_OIDC_ISSUER": "http://id.example.org", "KB_OIDC_CLIENT_ID": "x",
      "KB_OIDC_CLIENT_SECRET": "y", "ENV_NAME": "production"}, "https"),
    ({"KB_TRUSTED_HEADER": "X-Remote-User"}, "KB_TRUSTED_PROXIES"),
    ({"KB_TRUSTED_HEADER": "X-Remote-User", "KB_TRUSTED_PROXIES": "10.0.0.300"},
     "KB_TRUSTED_PROXIES"),
])
def test_settings_that_cannot_work_stop_the_app_naming_the_variable(tmp_path, settings,
                                                                    named):
    from kb.auth.settings import SettingsError

    with pytest.raises(SettingsError, match=named):
        build_app(tmp_path, **settings)
