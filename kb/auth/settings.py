"""Sign-in settings read once per app: single sign-on (OpenID Connect) and the trusted
header. A setting that cannot work stops the app at start-up with a message that names it,
rather than failing at someone's first sign-in."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from flask import Flask, current_app

from kb.models import ROLES

EXTENSION_KEY = "kb.auth.settings"
# REMOTE_USER is a WSGI variable set by the server (e.g. gunicorn's forwarder_headers),
# not an HTTP header; any other name is read from the request's headers.
WSGI_REMOTE_USER = "REMOTE_USER"


class SettingsError(RuntimeError):
    """A sign-in setting that cannot work; the message names the KB_* variable."""


@dataclass(frozen=True)
class Sso:
    """Single sign-on with one OpenID provider."""

    issuer: str
    client_id: str
    client_secret: str
    provider_name: str
    scopes: str
    groups_claim: str
    role_groups: tuple[tuple[str, str], ...]  # (role, group), in the order written
    team_groups: tuple[tuple[str, str], ...]  # (team name, group), in the order written
    require_group: bool
    required: bool
    reauth_seconds: int
    end_provider_session: bool
    timeout: float

    @property
    def metadata_url(self) -> str:
        """Where the provider's discovery document is (OpenID Connect Discovery)."""
        return self.issuer + "/.well-known/openid-configuration"


@dataclass(frozen=True)
class Trusted:
    """Trusted-header sign-in: the header and the proxies it is believed from."""

    header: str
    proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]

    def trusts(self, address: str | None) -> bool:
        """Whether ``address`` (a peer's IP address) is one of the trusted proxies."""
        try:
            ip = ipaddress.ip_address((address or "").strip())
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # ::ffff:10.0.0.1 is 10.0.0.1
        return any(ip in network for network in self.proxies)


@dataclass(frozen=True)
class Settings:
    sso: Sso | None
    trusted: Trusted | None


def parse_pairs(text: str | None, setting: str) -> tuple[tuple[str, str], ...]:
    """``"left=group,left=group"`` as pairs. Pairs are split on ";" when the text holds
    one (so a group may contain commas, as an LDAP DN does), else on ","; each pair on its
    first "=" (so a group may contain "=")."""
    text = (text or "").strip()
    if not text:
        return ()
    pairs = []
    for item in text.split(";" if ";" in text else ","):
        if not item.strip():
            continue
        left, sep, group = item.partition("=")
        left, group = " ".join(left.split()), group.strip()
        if not sep or not left or not group:
            raise SettingsError(f"{setting}: {item.strip()!r} is not name=group.")
        pairs.append((left, group))
    return tuple(pairs)


def _sso(config) -> Sso | None:
    issuer = (config.get("KB_OIDC_ISSUER") or "").strip().rstrip("/")
    if not issuer:
        if config.get("KB_SSO_REQUIRED"):
            raise SettingsError("KB_SSO_REQUIRED is on but KB_OIDC_ISSUER is not set: nobody "
                                "could sign in.")
        return None
    if not issuer.startswith(("https://", "http://")):
        raise SettingsError("KB_OIDC_ISSUER must be the provider's URL (https://...).")
    if config.get("ENV_NAME") == "production" and not issuer.startswith("https://"):
        raise SettingsError("KB_OIDC_ISSUER must use https in production: tokens and the "
                            "client secret travel to it.")
    client_id, secret = config.get("KB_OIDC_CLIENT_ID"), config.get("KB_OIDC_CLIENT_SECRET")
    if not client_id or not secret:
        raise SettingsError("KB_OIDC_ISSUER is set, so KB_OIDC_CLIENT_ID and "
                            "KB_OIDC_CLIENT_SECRET must be too (from the provider's "
                            "registration of this app).")
    roles = parse_pairs(config.get("KB_OIDC_ROLE_GROUPS"), "KB_OIDC_ROLE_GROUPS")
    for role, _group in roles:
        if role not in ROLES:
            raise SettingsError(f"KB_OIDC_ROLE_GROUPS: {role!r} is not a role "
                                f"({', '.join(ROLES)}).")
    if config.get("KB_OIDC_REQUIRE_GROUP") and not roles:
        raise SettingsError("KB_OIDC_REQUIRE_GROUP is on but KB_OIDC_ROLE_GROUPS is empty: "
                            "nobody could sign in.")
    scopes = (config.get("KB_OIDC_SCOPES") or "openid profile email").split()
    if "openid" not in scopes:
        scopes.insert(0, "openid")
    extra = (config.get("KB_OIDC_GROUPS_SCOPE") or "").strip()
    if extra and extra not in scopes:
        scopes.append(extra)
    seconds = int(config.get("KB_SSO_REAUTH_SECONDS") or 300)
    if seconds < 30:
        raise SettingsError("KB_SSO_REAUTH_SECONDS must be at least 30 (a sign-in takes "
                            "some seconds).")
    return Sso(
        issuer=issuer, client_id=client_id, client_secret=secret,
        provider_name=(config.get("KB_OIDC_PROVIDER_NAME") or "your organisation's account"),
        scopes=" ".join(scopes),
        groups_claim=(config.get("KB_OIDC_GROUPS_CLAIM") or "groups").strip(),
        role_groups=roles,
        team_groups=parse_pairs(config.get("KB_OIDC_TEAM_GROUPS"), "KB_OIDC_TEAM_GROUPS"),
        require_group=bool(config.get("KB_OIDC_REQUIRE_GROUP")),
        required=bool(config.get("KB_SSO_REQUIRED")),
        reauth_seconds=seconds,
        end_provider_session=bool(config.get("KB_OIDC_END_PROVIDER_SESSION")),
        timeout=float(config.get("KB_OIDC_TIMEOUT") or 10),
    )


def _trusted(config) -> Trusted | None:
    header = (config.get("KB_TRUSTED_HEADER") or "").strip()
    proxies_text = config.get("KB_TRUSTED_PROXIES") or ""
    if not header:
        return None
    if header.upper() == WSGI_REMOTE_USER:
        header = WSGI_REMOTE_USER
    networks = []
    for item in proxies_text.replace(";", ",").split(","):
        if not item.strip():
            continue
        try:
            networks.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError as error:
            raise SettingsError(f"KB_TRUSTED_PROXIES: {item.strip()!r} is not an address "
                                "or network.") from error
    if not networks:
        raise SettingsError("KB_TRUSTED_HEADER is set but KB_TRUSTED_PROXIES is empty: name "
                            "the proxy addresses the header is believed from.")
    return Trusted(header=header, proxies=tuple(networks))


def load(app: Flask) -> Settings:
    """Read and check the app's sign-in settings (SettingsError names a bad one) and keep
    them with the app."""
    settings = Settings(sso=_sso(app.config), trusted=_trusted(app.config))
    app.extensions[EXTENSION_KEY] = settings
    return settings


def current() -> Settings:
    """The running app's sign-in settings."""
    settings = current_app.extensions.get(EXTENSION_KEY)
    return settings if settings is not None else load(current_app._get_current_object())


def sso() -> Sso | None:
    """The single sign-on settings, or None when it is not set up."""
    return current().sso


def trusted() -> Trusted | None:
    """The trusted-header settings, or None when it is not set up."""
    return current().trusted
