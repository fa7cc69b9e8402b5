"""Account rules: login wiring, authentication, API tokens, safe redirects.

Role checks live in ``kb.core.permissions``."""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from datetime import timedelta
from functools import cache
from urllib.parse import urlsplit

from flask import Flask, current_app, flash, g, jsonify, redirect, request, session, url_for
from flask_login import current_user
from limits import parse as parse_limit
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.security import check_password_hash, generate_password_hash

from kb.auth import settings, trusted
from kb.core import audit
from kb.extensions import db, limiter, login_manager
from kb.models import ROLES, ApiToken, Team, User, utcnow

# Endpoints anyone may reach without signing in. The crisis protocol is one: an expired
# session in the middle of a crisis call must not stand between an agent and the plan.
PUBLIC_ENDPOINTS = {"auth.login", "healthz", "favicon", "static", "auth.logout",
                    "crisis.protocol", "auth.sso_login", "auth.sso_callback"}
DEMO_ACCOUNTS = (
    ("agent", "Alex Agent", "agent", "Contact centre"),
    ("newstarter", "Nina Newstarter", "agent", "Contact centre"),
    ("manager", "Morgan Manager", "manager", "Contact centre"),
    ("admin", "Ash Admin", "admin", "Systems"),
)
DEMO_PASSWORD = "demo"


class AccountError(Exception):
    """A user or token request that cannot be carried out; the message is for people."""


def init_login(app: Flask) -> None:
    """Wire Flask-Login: session users, bearer tokens, the trusted header, and
    login-by-default. Sign-in settings that cannot work stop the app here."""
    settings.load(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    app.before_request(_require_login)
    app.after_request(_record_token_use)
    app.after_request(_record_header_sign_in)


MAX_ID = 2**31 - 1  # the largest id the database holds (INTEGER in PostgreSQL)
ACCOUNT_LIMIT_SCOPE = "login-account"


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    # Called on every request, from the session or a remember-me cookie: the cookie's
    # session version must still be the user's, so a sign-out ends it everywhere.
    number, _, version = user_id.partition(":")
    if not (number.isdigit() and version.isdigit()) or int(number) > MAX_ID:
        return None  # includes cookies from before session versions existed
    user = db.session.get(User, int(number))
    if user is None or not user.active or user.session_version != int(version):
        return None
    if trusted.overrides(user, request):
        return None  # the authenticating proxy names someone else: it decides
    return user


@login_manager.request_loader
def _load_user_from_request(req) -> User | None:
    # A bearer token, or else the trusted proxy's header (when set up); each signs in
    # for this request only.
    header = req.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return user_for_token(token.strip())
    return trusted.user_from_header(req)


def _record_header_sign_in(response):
    """After the view: audit a trusted-header sign-in (once per browser)."""
    trusted.record_header_sign_in(session, trusted.peer_address(request.environ))
    return response


@login_manager.unauthorized_handler
def _unauthorized():
    if request.path.startswith("/api/"):
        return jsonify(error="unauthorized", message="Sign in or send a bearer token."), 401
    flash(login_manager.login_message, "info")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def _require_login():
    # Login is the default: a new view is protected unless listed as public.
    if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


def authenticate(username: str, password: str) -> User | None:
    """The active user with these credentials, or None."""
    user = db.session.scalar(db.select(User).filter_by(username=username.strip().lower()))
    if user is None:
        # Spend the same time as a real check so usernames cannot be probed by timing.
        check_password_hash(_dummy_hash(), password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    return user


def audit_login_failure(username: str, address: str | None, *, locked: bool = False,
                        reason: str | None = None) -> None:
    """Audit a failed sign-in: the username tried (never the password), why, and the
    client address. The target is the name typed, which may match no user. The caller
    commits."""
    # A NUL cannot be stored in PostgreSQL text; keep the row, with the NUL spelled out.
    tried = (username or "").replace("\x00", "\\0").strip()[:120]
    user = db.session.scalar(db.select(User).filter_by(username=tried.lower())) if tried else None
    if reason is None:  # else the caller's reason (the password was not checked)
        reason = ("too many failed sign-ins (not checked)" if locked
                  else "no such user" if user is None
                  else "account deactivated" if not user.active
                  else "wrong password")
    audit.record(None, "login.failed", ("login", tried.lower()),
                 {"username": tried, "reason": reason, "address": address or ""},
                 label=tried or "(blank)")


def end_sessions(user: User) -> None:
    """Sign a user out everywhere (every session and remember-me cookie); the caller
    commits."""
    user.end_sessions()


def _find_user(username: str) -> User:
    """The user with this name; AccountError if there is none."""
    user = db.session.scalar(db.select(User).filter_by(username=username.strip().lower()))
    if user is None:
        raise AccountError(f"No user called {username!r}.")
    return user


def change_password(username: str, password: str) -> User:
    """Give a user a new password; every session signed in with the old one ends."""
    if len(password) < 4:
        raise AccountError("Passwords must be at least 4 characters.")
    user = _find_user(username)
    user.set_password(password)
    return user


# --- per-account back-off ------------------------------------------------------------
# Failures are counted per username in Flask-Limiter's storage (memory:// per worker, or
# a shared redis:// store), alongside the per-address limit on the login route.


def _account_key(username: str) -> str:
    """A fixed-length storage key for a username (whatever was typed)."""
    return hashlib.sha256(username.strip().lower().encode("utf-8")).hexdigest()[:32]


def _account_limit():
    """The per-account limit from KB_LOGIN_ACCOUNT_LIMIT."""
    return parse_limit(current_app.config["KB_LOGIN_ACCOUNT_LIMIT"])


def login_backoff(username: str) -> int:
    """Seconds until this account may try to sign in again (0: it may now)."""
    if not limiter.enabled:
        return 0
    item, key = _account_limit(), _account_key(username)
    if limiter.limiter.test(item, ACCOUNT_LIMIT_SCOPE, key):
        return 0
    reset = limiter.limiter.get_window_stats(item, ACCOUNT_LIMIT_SCOPE, key).reset_time
    return max(1, math.ceil(reset - time.time()))


def record_login_failure(username: str) -> None:
    """Count one failed sign-in against the account."""
    if limiter.enabled:
        limiter.limiter.hit(_account_limit(), ACCOUNT_LIMIT_SCOPE, _account_key(username))


def clear_login_failures(username: str) -> None:
    """Forget an account's failed sign-ins after a successful one."""
    if limiter.enabled:
        limiter.limiter.clear(_account_limit(), ACCOUNT_LIMIT_SCOPE, _account_key(username))


def rate_limit_store_problem(app: Flask) -> str | None:
    """None when the login rate-limit store answers (or is this process's own memory);
    otherwise one line for the operator saying which store and what to do."""
    uri = app.config.get("RATELIMIT_STORAGE_URI") or "memory://"
    if uri.startswith("memory://") or not app.config.get("RATELIMIT_ENABLED", True):
        return None
    if limiter.storage.check():
        return None
    parts = urlsplit(uri)
    shown = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()  # no password
    return (f"The login rate-limit store {shown} (KB_RATELIMIT_STORAGE) does not answer: "
            "start it, or correct the setting, before serving.")


def is_safe_next(target: str | None) -> bool:
    """True when ``target`` is a path on this site (no scheme, host or protocol-relative)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def create_user(
    username: str,
    password: str,
    *,
    role: str = "agent",
    display_name: str | None = None,
    team: Team | str | None = None,
) -> User:
    """Create and return a user; raises AccountError on a bad role or taken name.

    ``team`` is a Team or a team name (the team is created if there is none by that name).
    """
    username = username.strip().lower()
    if not username or len(username) > 64 or not username.replace(".", "").replace(
        "-", ""
    ).replace("_", "").isalnum():
        raise AccountError("Usernames are letters, digits, '.', '-' or '_' (up to 64).")
    if role not in ROLES:
        raise AccountError(f"Role must be one of: {', '.join(ROLES)}.")
    if len(password) < 4:
        raise AccountError("Passwords must be at least 4 characters.")
    if db.session.scalar(db.select(User).filter_by(username=username)):
        raise AccountError(f"A user called {username!r} already exists.")
    if isinstance(team, str):
        team = team_named(team, create=True)
    user = User(username=username, display_name=display_name or username, role=role, team=team)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def team_named(name: str, *, create: bool = False) -> Team | None:
    """The team with this name (case and extra spaces ignored); made when ``create``."""
    name = " ".join(name.split())
    if not name:
        return None
    team = db.session.scalar(db.select(Team).where(db.func.lower(Team.name) == name.lower()))
    if team is None and create:
        if len(name) > 120:
            raise AccountError("Team names are up to 120 characters.")
        team = Team(name=name)
        db.session.add(team)
        db.session.flush()
    return team


def create_token(username: str, name: str = "") -> str:
    """Make an API token for a user and return it; only its hash is stored."""
    user = db.session.scalar(db.select(User).filter_by(username=username.strip().lower()))
    if user is None or not user.active:
        raise AccountError(f"No active user called {username!r}.")
    return issue_token(user, name)[0]


def issue_token(user: User, name: str = "") -> tuple[str, ApiToken]:
    """Make an API token for an active user: the token (to show once) and its row."""
    if not user.active:
        raise AccountError(f"{user.username} is deactivated, so cannot have a new token.")
    token = "kb_" + secrets.token_urlsafe(32)
    row = ApiToken(user=user, name=name, token_hash=_hash_token(token))
    db.session.add(row)
    db.session.flush()
    return token, row


def user_for_token(token: str) -> User | None:
    """The active user owning an unrevoked token, or None; notes the use (no write here)."""
    row = db.session.scalar(db.select(ApiToken).filter_by(token_hash=_hash_token(token)))
    if row is None or row.revoked or not row.user.active:
        return None
    now = utcnow()
    # Record use at most once a minute: a write on every API call would serialise them.
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
        g.kb_token_used = row.id
    return row.user


def _record_token_use(response):
    """After the view: store when a token was last used, as its own small write."""
    token_id = g.pop("kb_token_used", None)
    if token_id is None:
        return response
    # Anything the view left uncommitted is dropped first: only the bookkeeping is saved.
    db.session.rollback()
    try:
        db.session.execute(
            db.update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=utcnow())
        )
        db.session.commit()
    except SQLAlchemyError:
        # Bookkeeping only: a read-only database must not refuse the request.
        db.session.rollback()
    return response


def seed_demo_accounts() -> list[str]:
    """Create the demo accounts that are missing; returns the usernames created."""
    created = []
    for username, display_name, role, team in DEMO_ACCOUNTS:
        if db.session.scalar(db.select(User).filter_by(username=username)) is None:
            create_user(
                username, DEMO_PASSWORD, role=role, display_name=display_name, team=team
            )
            created.append(username)
    return created  # the caller commits


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@cache
def _dummy_hash() -> str:
    return generate_password_hash("not-a-real-password")
