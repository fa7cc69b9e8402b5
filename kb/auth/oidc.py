"""Single sign-on with OpenID Connect, through Authlib's Flask client: the round trip to
the provider (state, nonce and PKCE are Authlib's), and the user an ID token names.

A round trip is a *flow* kept in the session under its ``state``: what it is for (signing
in, or re-authenticating before a signature), where to go afterwards, and for whom. The
callback finds the flow by the state the provider sends back; Authlib checks the same
state against its own record, the ID token's signature, issuer, audience and nonce.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from dataclasses import dataclass

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from flask import current_app, request, session, url_for
from joserfc.errors import JoseError

from kb.auth import settings
from kb.auth.services import team_named
from kb.core import audit
from kb.extensions import db
from kb.models import ROLE_RANK, User

log = logging.getLogger(__name__)
CLIENT_NAME = "oidc"
EXTENSION_KEY = "kb.auth.oidc"
FLOWS_KEY = "kb_sso_flows"
MAX_FLOWS = 3  # round trips open at once in one browser (tabs); the oldest is dropped
FLOW_SECONDS = 15 * 60  # a round trip not finished by then is refused
# Password hash of accounts made by single sign-on: matches no password.
NO_PASSWORD = "!"
USERNAME_CHARS = re.compile(r"[^a-z0-9._-]+")


class SsoError(Exception):
    """A round trip that did not work. ``message`` is for the person, ``reason`` for the
    audit log, ``status`` for the page; ``flow`` is the round trip's record, if found."""

    def __init__(self, message: str, reason: str, status: int = 400,
                 flow: dict | None = None) -> None:
        super().__init__(message)
        self.message, self.reason, self.status, self.flow = message, reason, status, flow


@dataclass(frozen=True)
class Identity:
    """What a verified ID token (plus userinfo, for groups) says about the person."""

    issuer: str
    subject: str
    claims: dict

    @property
    def auth_time(self) -> int | None:
        """When the person last entered their credentials at the provider (epoch
        seconds), if the provider said."""
        value = self.claims.get("auth_time")
        return int(value) if isinstance(value, int | float) and not isinstance(value, bool) \
            else None


def client():
    """The Authlib client for the configured provider, made once per app."""
    app = current_app._get_current_object()
    remote = app.extensions.get(EXTENSION_KEY)
    if remote is None:
        config = settings.sso()
        remote = OAuth(app).register(
            CLIENT_NAME, client_id=config.client_id, client_secret=config.client_secret,
            server_metadata_url=config.metadata_url,
            client_kwargs={"scope": config.scopes, "code_challenge_method": "S256",
                           "default_timeout": config.timeout},
        )
        app.extensions[EXTENSION_KEY] = remote
    return remote


def provider_name() -> str:
    """How the sign-in page names the provider."""
    config = settings.sso()
    return config.provider_name if config else ""


def callback_url() -> str:
    """The redirect URI registered at the provider: KB_BASE_URL, never the Host header."""
    return current_app.config["KB_BASE_URL"].rstrip("/") + url_for("auth.sso_callback")


def _metadata() -> dict:
    """The provider's discovery document (fetched once, then kept); SsoError when the
    provider does not answer or names another issuer."""
    remote, config = client(), settings.sso()
    try:
        metadata = remote.load_server_metadata()
    except (requests.RequestException, ValueError) as error:
        log.warning("Single sign-on: the provider's discovery document: %s", error)
        raise SsoError(f"{config.provider_name} is not answering, so you cannot sign in with "
                       "it just now. Try again in a few minutes; if it goes on, tell your "
                       "IT service desk.", "provider unreachable", 503) from error
    if str(metadata.get("issuer", "")).rstrip("/") != config.issuer:
        remote.server_metadata.pop("_loaded_at", None)  # read it again next time
        raise SsoError(f"{config.provider_name} is not set up as this site expects (its "
                       "discovery document names another issuer). Tell your IT service desk.",
                       "provider names another issuer", 502)
    return metadata


def begin(purpose: str, **flow) -> str:
    """Start a round trip: the URL to send the browser to. ``purpose`` is "login" or
    "reauth"; ``flow`` holds what the callback needs (next, user_id, key, return_to,
    cancel_to). A re-authentication asks for a fresh sign-in (prompt=login, max_age=0)."""
    _metadata()
    params = {"prompt": "login", "max_age": 0} if purpose == "reauth" else {}
    try:
        started = client().create_authorization_url(callback_url(), **params)
    except (requests.RequestException, ValueError, RuntimeError) as error:
        raise SsoError(f"{settings.sso().provider_name} could not be reached. Try again in "
                       "a few minutes.", "provider unreachable", 503) from error
    client().save_authorize_data(redirect_uri=callback_url(), **started)
    flows = dict(session.get(FLOWS_KEY) or {})
    while len(flows) >= MAX_FLOWS:
        flows.pop(min(flows, key=lambda state: flows[state]["started"]))
    flows[started["state"]] = dict(flow, purpose=purpose, started=int(time.time()))
    session[FLOWS_KEY] = flows
    return started["url"]


def finish() -> tuple[dict, Identity]:
    """Complete the round trip the provider has sent the browser back from: its flow and
    the verified identity. Every failure is an SsoError with a message for people."""
    config = settings.sso()
    name = config.provider_name
    flows = dict(session.get(FLOWS_KEY) or {})
    flow = flows.pop(request.args.get("state", ""), None)
    session[FLOWS_KEY] = flows
    error = request.args.get("error")
    if error:
        # Checked before the state: a refusal signs nobody in, and some providers leave
        # the state out of it.
        cancelled = error in {"access_denied", "login_required", "consent_required"}
        raise SsoError(
            f"You did not sign in at {name}, so nothing changed here."
            if cancelled else f"{name} could not sign you in ({error[:60]}).",
            f"provider said {error[:60]}", 403 if cancelled else 400, flow)
    if flow is None or time.time() - flow.get("started", 0) > FLOW_SECONDS:
        raise SsoError("This answer from the sign-in page does not match a sign-in started "
                       "in this browser, or it took too long, or it was used already. Start "
                       "again.", "state not recognised")
    _metadata()
    try:
        token = client().authorize_access_token()
    except (requests.Timeout, requests.ConnectionError) as problem:
        raise SsoError(f"{name} stopped answering during sign-in. Try again in a few "
                       "minutes.", "provider unreachable", 503, flow) from problem
    except (requests.RequestException, ValueError) as problem:
        raise SsoError(f"{name} gave an answer this site cannot read. Try again; if it goes "
                       "on, tell your IT service desk.", "unreadable answer", 502,
                       flow) from problem
    except (AuthlibBaseError, JoseError) as problem:
        log.warning("Single sign-on refused: %s", problem)
        raise SsoError(f"The sign-in at {name} could not be verified, so you are not signed "
                       "in. Start again.", f"not verified: {str(problem)[:120]}", 400,
                       flow) from problem
    claims = dict(token.get("userinfo") or {})
    if not claims.get("sub") or not claims.get("iss"):
        raise SsoError(f"{name} did not say who you are (no ID token). Tell your IT service "
                       "desk.", "no ID token", 502, flow)
    if config.groups_claim not in claims and (config.role_groups or config.team_groups):
        claims[config.groups_claim] = _groups_from_userinfo(token, claims["sub"])
    return flow, Identity(issuer=str(claims["iss"]), subject=str(claims["sub"]),
                          claims=claims)


def _groups_from_userinfo(token: dict, subject: str) -> list:
    """Groups from the userinfo endpoint, for providers that leave them out of the ID
    token (none when it has no such endpoint, fails, or names someone else)."""
    try:
        info = client().userinfo(token=token)
    except (requests.RequestException, ValueError, KeyError, AuthlibBaseError):
        return []
    if str(info.get("sub")) != subject:
        return []
    return info.get(settings.sso().groups_claim) or []


def groups_of(identity: Identity) -> set[str]:
    """The provider's groups for this person (a list, or one string)."""
    value = identity.claims.get(settings.sso().groups_claim)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple):
        return set()
    return {item for item in value if isinstance(item, str)}


def role_for(groups: set[str]) -> str | None:
    """The highest role whose group the person is in; None when no role group matches."""
    matched = [role for role, group in settings.sso().role_groups if group in groups]
    return max(matched, key=lambda role: ROLE_RANK[role]) if matched else None


def team_for(groups: set[str]) -> str | None:
    """The first team (in the order configured) whose group the person is in."""
    return next((team for team, group in settings.sso().team_groups if group in groups), None)


def linked_user(issuer: str, subject: str) -> User | None:
    """The account linked to this person at this provider."""
    return db.session.scalar(db.select(User).filter_by(oidc_issuer=issuer,
                                                       oidc_subject=subject))


def is_sso_user(user) -> bool:
    """Whether ``user`` signs in (and re-authenticates) at the configured provider."""
    config = settings.sso()
    return bool(config and getattr(user, "oidc_subject", None)
                and (user.oidc_issuer or "").rstrip("/") == config.issuer)


def sign_in(identity: Identity) -> tuple[User, bool]:
    """The account for this identity, made on first sign-in and brought up to date from
    the claims on every one (role and team from groups, audited when they change);
    flushed, the caller commits. SsoError (403) when the person may not sign in."""
    config = settings.sso()
    groups = groups_of(identity)
    role = role_for(groups)
    if role is None and config.role_groups and config.require_group:
        raise SsoError("Your account at " + config.provider_name + " is not in a group that "
                       "may use this site. Ask your manager to request access.",
                       "in no role group", 403)
    user = linked_user(identity.issuer, identity.subject)
    if user is not None and not user.active:
        raise SsoError("Your account here has been deactivated. Ask a manager if you need "
                       "it back.", "account deactivated", 403)
    created = user is None
    if created:
        user = User(username=_free_username(identity), role=role or "agent",
                    password_hash=NO_PASSWORD, oidc_issuer=identity.issuer,
                    oidc_subject=identity.subject, display_name="")
        db.session.add(user)
    _update_profile(user, identity.claims)
    if config.role_groups:
        # The provider's groups decide the role: the highest matched, else agent.
        wanted = role or "agent"
        if not created and wanted != user.role:
            audit.record(None, "user.role_changed", user,
                         {"before": user.role, "after": wanted, "via": "single sign-on groups"},
                         label=user.username)
        user.role = wanted
    team_name = team_for(groups)
    if team_name is not None:
        team = team_named(team_name, create=True)
        if team.id != user.team_id:
            if not created:
                audit.record(None, "user.team_changed", user,
                             {"before": user.team.name if user.team else None,
                              "after": team.name, "via": "single sign-on groups"},
                             label=user.username)
            user.team = team
    db.session.flush()
    if created:
        audit.record(None, "user.created", user,
                     {"role": user.role, "team": user.team.name if user.team else None,
                      "via": "single sign-on", "issuer": identity.issuer,
                      "subject": identity.subject}, label=user.username)
    return user, created


def _update_profile(user: User, claims: dict) -> None:
    """Display name and email as the provider has them now."""
    name = claims.get("name")
    if not isinstance(name, str) or not name.strip():
        parts = [claims.get("given_name"), claims.get("family_name")]
        name = " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
    name = " ".join((name or "").split())[:120]
    user.display_name = name or user.display_name or user.username
    email = claims.get("email")
    if isinstance(email, str) and "@" in email and len(email) <= 254:
        user.email = email.strip()


def _free_username(identity: Identity) -> str:
    """A username for a new account: preferred_username, else the email's local part,
    cleaned to the usual characters; "-2", "-3"... when taken. Never an existing account:
    someone else's username at the provider must not open their account here."""
    base = ""
    for raw in (identity.claims.get("preferred_username"), identity.claims.get("email")):
        if isinstance(raw, str) and raw.strip():
            base = USERNAME_CHARS.sub("-", raw.strip().lower().split("@")[0]).strip(".-_")
            if base:
                break
    digest = hashlib.sha256(f"{identity.issuer} {identity.subject}".encode()).hexdigest()
    base = base[:56] or "user-" + digest[:10]
    for number in range(1, 50):
        candidate = base if number == 1 else f"{base}-{number}"
        if db.session.scalar(db.select(User.id).filter_by(username=candidate)) is None:
            return candidate
    return f"{base[:45]}-{digest[:10]}"


def audit_failure(problem: SsoError, address: str | None) -> None:
    """Audit a single sign-on that did not sign anyone in (the caller commits)."""
    audit.record(None, "login.failed", ("login", "single sign-on"),
                 {"reason": f"single sign-on: {problem.reason}", "address": address or ""},
                 label="single sign-on")


def audit_sign_in(user: User, identity: Identity, address: str | None) -> None:
    """Audit a sign-in through the provider (the caller commits)."""
    audit.record(user, "login.sso", user,
                 {"issuer": identity.issuer, "subject": identity.subject,
                  "address": address or ""}, label=user.username)


def logout_url() -> str | None:
    """Where to send a browser signing out, to end the provider's session as well
    (KB_OIDC_END_PROVIDER_SESSION), or None."""
    config = settings.sso()
    if config is None or not config.end_provider_session:
        return None
    try:
        if not _metadata().get("end_session_endpoint"):
            return None
        back = current_app.config["KB_BASE_URL"].rstrip("/") + url_for("auth.login")
        return client().create_logout_url(post_logout_redirect_uri=back,
                                          client_id=config.client_id)["url"]
    except SsoError:
        return None
