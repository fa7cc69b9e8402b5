"""Configuration classes. Every setting can be overridden by a ``KB_*`` environment variable."""

from __future__ import annotations

import os
from datetime import timedelta


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_int(name: str, default: int) -> int:
    value = _env(name)
    return int(value) if value is not None else default


def _env_bool(name: str, default: bool) -> bool:
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    """Settings shared by every environment."""

    ENV_NAME = "base"
    SECRET_KEY = _env("KB_SECRET_KEY")
    # Old keys still accepted for signed sessions while a new KB_SECRET_KEY takes over
    # (comma-separated): rotate without signing everybody out at once.
    SECRET_KEY_FALLBACKS = [key.strip() for key in
                            (_env("KB_SECRET_KEY_FALLBACKS") or "").split(",") if key.strip()]
    # How many reverse proxies (nginx, a load balancer) stand in front of the app. With 1
    # the client's address, scheme and host are taken from the last X-Forwarded-* value
    # that proxy set; 0 (the default) trusts no such header.
    KB_PROXY_HOPS = _env_int("KB_PROXY_HOPS", 0)
    # None means "an SQLite file in the instance folder", resolved by create_app.
    SQLALCHEMY_DATABASE_URI = _env("KB_DATABASE_URL")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    KB_INDEX_DIR = _env("KB_INDEX_DIR")
    KB_ARTICLES_DIR = _env("KB_ARTICLES_DIR")
    KB_SCRIPTS_DIR = _env("KB_SCRIPTS_DIR")
    KB_SYNONYMS_FILE = _env("KB_SYNONYMS_FILE")
    KB_INDEX_WRITER_TIMEOUT = float(_env("KB_INDEX_WRITER_TIMEOUT", "30"))
    # Seconds between a gunicorn worker's looks at the database's change watermark; when
    # it moved, the worker catches its index up in the background (kb/search/follow.py),
    # so a publish on another host is searchable here within about this long. 0: off
    # (the index then catches up only at a search or a save).
    KB_INDEX_FOLLOW_SECONDS = float(_env("KB_INDEX_FOLLOW_SECONDS", "1.0"))
    KB_SEARCH_LIMIT = _env_int("KB_SEARCH_LIMIT", 10)
    KB_ORGANISATION = _env("KB_ORGANISATION", "Frontline KB")
    KB_ALLOW_DEMO_ACCOUNTS = True

    # Login throttling. The default store is per process; set KB_RATELIMIT_STORAGE to a
    # shared store (redis://HOST:6379/0, rediss:// for TLS) when several workers or hosts
    # must share one count. In production gunicorn refuses to start if that store cannot
    # be reached; if it goes away later, each process counts on its own until it is back
    # (sign-in keeps working, with the limits per process).
    RATELIMIT_STORAGE_URI = _env("KB_RATELIMIT_STORAGE", "memory://")
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    # A store that stops answering must not hold a sign-in for long (seconds).
    RATELIMIT_STORAGE_OPTIONS = (
        {"socket_connect_timeout": 2.0, "socket_timeout": 2.0}
        if RATELIMIT_STORAGE_URI.startswith(("redis", "rediss", "valkey")) else {})
    RATELIMIT_ENABLED = _env_bool("KB_RATELIMIT_ENABLED", True)
    RATELIMIT_HEADERS_ENABLED = True
    KB_LOGIN_RATE_LIMIT = _env("KB_LOGIN_RATE_LIMIT", "10 per minute;50 per hour")
    # Per account, whatever the address: after this many failures the account waits.
    KB_LOGIN_ACCOUNT_LIMIT = _env("KB_LOGIN_ACCOUNT_LIMIT", "5 per 5 minutes")

    MAX_CONTENT_LENGTH = _env_int("KB_MAX_UPLOAD_BYTES", 2 * 1024 * 1024)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_bool("KB_SECURE_COOKIES", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = timedelta(days=_env_int("KB_REMEMBER_DAYS", 14))
    # Whether "Keep me signed in" starts ticked on the sign-in page. Off by default: on a
    # shared desk the next person would otherwise inherit the account.
    KB_REMEMBER_ME_DEFAULT = _env_bool("KB_REMEMBER_ME_DEFAULT", False)
    # Absolute links (the OpenSearch description) start with this, never the Host header.
    KB_BASE_URL = _env("KB_BASE_URL", "http://127.0.0.1:5000")
    WTF_CSRF_TIME_LIMIT = 8 * 3600  # a whole shift
    TIMEZONE = _env("KB_TIMEZONE", "Europe/London")

    # Single sign-on with OpenID Connect (see the README's "Single sign-on"). Unset issuer:
    # local passwords only. The discovery document is read from
    # <issuer>/.well-known/openid-configuration; its issuer must be this one.
    KB_OIDC_ISSUER = _env("KB_OIDC_ISSUER")
    KB_OIDC_CLIENT_ID = _env("KB_OIDC_CLIENT_ID")
    KB_OIDC_CLIENT_SECRET = _env("KB_OIDC_CLIENT_SECRET")  # never defaulted
    # The button reads "Sign in with <this>".
    KB_OIDC_PROVIDER_NAME = _env("KB_OIDC_PROVIDER_NAME", "your organisation's account")
    KB_OIDC_SCOPES = _env("KB_OIDC_SCOPES", "openid profile email")
    # A scope some providers need before they send groups (e.g. "groups"); added to
    # KB_OIDC_SCOPES when set. Many providers send groups without one.
    KB_OIDC_GROUPS_SCOPE = _env("KB_OIDC_GROUPS_SCOPE", "")
    # The ID token (or userinfo) claim holding the user's groups: a list or a string.
    KB_OIDC_GROUPS_CLAIM = _env("KB_OIDC_GROUPS_CLAIM", "groups")
    # Groups to roles: "role=group" pairs, comma separated (or semicolon separated when a
    # group name holds a comma, as an LDAP DN does), e.g.
    # "agent=kb-staff,manager=kb-managers,admin=kb-admins". The highest role matched wins
    # and is set again at every sign-in. Empty: new users are agents and roles are managed
    # in the app.
    KB_OIDC_ROLE_GROUPS = _env("KB_OIDC_ROLE_GROUPS", "")
    # Groups to teams, the same syntax with a team name on the left:
    # "Contact centre=kb-cc,Repairs=kb-repairs". The first pair matched wins; no match
    # leaves the team as set in the app.
    KB_OIDC_TEAM_GROUPS = _env("KB_OIDC_TEAM_GROUPS", "")
    # On: someone in none of the KB_OIDC_ROLE_GROUPS is refused. Off: they sign in as agents.
    KB_OIDC_REQUIRE_GROUP = _env_bool("KB_OIDC_REQUIRE_GROUP", False)
    # On: passwords are off; the sign-in page offers only the provider.
    KB_SSO_REQUIRED = _env_bool("KB_SSO_REQUIRED", False)
    # Signing and countersigning need a sign-in at the provider at most this many seconds
    # old (the request asks for a fresh one: prompt=login, max_age=0).
    KB_SSO_REAUTH_SECONDS = _env_int("KB_SSO_REAUTH_SECONDS", 300)
    # On: signing out here also ends the provider's session (its end_session_endpoint).
    KB_OIDC_END_PROVIDER_SESSION = _env_bool("KB_OIDC_END_PROVIDER_SESSION", False)
    KB_OIDC_TIMEOUT = float(_env("KB_OIDC_TIMEOUT", "10"))  # seconds per call to it

    # Trusted-header sign-in behind an authenticating reverse proxy. The header (or
    # REMOTE_USER, the WSGI variable) names the user; it is believed only when the
    # request's own peer address (never X-Forwarded-For) is in KB_TRUSTED_PROXIES, a
    # comma-separated list of addresses and networks ("127.0.0.1,10.0.0.0/24").
    KB_TRUSTED_HEADER = _env("KB_TRUSTED_HEADER")
    KB_TRUSTED_PROXIES = _env("KB_TRUSTED_PROXIES", "")

    # Mid-call tools.
    KB_HOLD_CHECKIN_SECONDS = _env_int("KB_HOLD_CHECKIN_SECONDS", 45)
    KB_HELPLINE_MAX_AGE_DAYS = _env_int("KB_HELPLINE_MAX_AGE_DAYS", 180)
    # Bank holidays: a subdivision of the United Kingdom in the `holidays` package
    # (ENG England, WLS Wales, SCT Scotland, NIR Northern Ireland).
    KB_HOLIDAY_REGION = _env("KB_HOLIDAY_REGION", "ENG")
    # The working day used by "end of the following working day" rules; a request that
    # arrives after it ends, or on a weekend or bank holiday, starts the next working day.
    KB_WORKING_HOURS = _env("KB_WORKING_HOURS", "08:00-18:00")

    # Sign-off reminders (`flask --app kb send-reminders`, from cron). Without a host no
    # reminder is sent (the command says so and exits 1); the banner still shows.
    KB_SMTP_HOST = _env("KB_SMTP_HOST")
    # Unset: 25 for "none", 587 for "starttls", 465 for "ssl".
    KB_SMTP_PORT = _env("KB_SMTP_PORT")
    KB_SMTP_USERNAME = _env("KB_SMTP_USERNAME")
    KB_SMTP_PASSWORD = _env("KB_SMTP_PASSWORD")
    KB_SMTP_SECURITY = _env("KB_SMTP_SECURITY", "none")  # none | starttls | ssl
    KB_MAIL_FROM = _env("KB_MAIL_FROM", "Frontline KB <frontline-kb@localhost>")
    KB_SMTP_TIMEOUT = float(_env("KB_SMTP_TIMEOUT", "30"))


class DevelopmentConfig(Config):
    """Local use with ``make run``: a generated secret key and demo accounts allowed."""

    ENV_NAME = "development"


class TestingConfig(Config):
    """The test suite: everything in temporary folders given by the fixtures."""

    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-only-secret-key-not-for-use-anywhere-else"
    RATELIMIT_STORAGE_URI = "memory://"
    KB_INDEX_WRITER_TIMEOUT = 5.0


class ProductionConfig(Config):
    """A real deployment: strong secret key required, secure cookies, no demo accounts."""

    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = _env_bool("KB_SECURE_COOKIES", True)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    KB_ALLOW_DEMO_ACCOUNTS = False


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
