"""Re-authentication before a signature: a local user types their password again; a
single sign-on user signs in again at the provider (prompt=login, max_age=0), and the ID
token that comes back must be theirs and fresh (its ``auth_time`` within
KB_SSO_REAUTH_SECONDS).

The callback turns a good answer into a one-time *proof* in the session, bound to the user
and to the key of what they were signing; the feature that asked takes it (once) and keeps
``Proof.evidence`` with the record.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import session

from kb.auth import oidc, settings
from kb.auth.oidc import Identity, SsoError
from kb.core.errors import Invalid

PROOF_KEY = "kb_sso_proof"
CLOCK_LEEWAY = 60  # seconds the provider's clock may be ahead of ours
PASSWORD = "password"  # the evidence kept for a password typed again


@dataclass(frozen=True)
class Proof:
    """A fresh sign-in at the provider by ``user_id``, for the signature keyed ``key``."""

    user_id: int
    issuer: str
    subject: str
    auth_time: int
    key: str

    @property
    def evidence(self) -> str:
        """How the signer re-authenticated, as kept with the record."""
        when = datetime.fromtimestamp(self.auth_time, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return f"sso {self.issuer} auth_time {when}"[:300]


def uses_provider(user) -> bool:
    """Whether ``user`` re-authenticates at the provider rather than with a password."""
    return oidc.is_sso_user(user)


def provider_name() -> str:
    """The provider's name as the sign pages say it."""
    return oidc.provider_name()


def start(user, *, key: str, return_to: str, cancel_to: str) -> str:
    """The provider URL that asks ``user`` to sign in again; afterwards the browser comes
    back to ``return_to`` (or, on failure, is offered ``cancel_to``). SsoError when the
    provider cannot be reached."""
    return oidc.begin("reauth", user_id=user.id, key=key, return_to=return_to,
                      cancel_to=cancel_to)


def age(auth_time: int, now: float | None = None) -> float:
    """Seconds since ``auth_time``."""
    return (now if now is not None else time.time()) - auth_time


def is_fresh(auth_time: int | None, now: float | None = None) -> bool:
    """Whether a sign-in at ``auth_time`` is recent enough to sign with."""
    if auth_time is None:
        return False
    seconds = age(auth_time, now)
    return -CLOCK_LEEWAY <= seconds <= settings.sso().reauth_seconds


def accept(flow: dict, identity: Identity, user) -> None:
    """Check the provider's answer to a re-authentication and keep the proof in the
    session; SsoError (nothing kept) when it is someone else's or not fresh."""
    name = settings.sso().provider_name
    if not getattr(user, "is_authenticated", False) or user.id != flow.get("user_id"):
        raise SsoError("You are no longer signed in as the person who started signing. Sign "
                       "in and open the standard again; nothing was recorded.",
                       "re-authentication: signed out meanwhile", 403, flow)
    if (identity.issuer, identity.subject) != (user.oidc_issuer, user.oidc_subject):
        raise SsoError(f"You signed in at {name} as someone else. Sign in there as "
                       f"{user.display_name} to sign; nothing was recorded.",
                       "re-authentication: another person", 403, flow)
    if identity.auth_time is None:
        raise SsoError(f"{name} did not say when you signed in, so it cannot confirm the "
                       "signature; nothing was recorded. Tell your IT service desk.",
                       "re-authentication: no auth_time", 502, flow)
    if not is_fresh(identity.auth_time):
        minutes = max(1, round(age(identity.auth_time) / 60))
        raise SsoError(f"{name} did not ask for your password again (your last sign-in there "
                       f"was {minutes} minute{'s' if minutes != 1 else ''} ago), so the "
                       "signature could not be confirmed; nothing was recorded. Try again.",
                       "re-authentication: auth_time not fresh", 403, flow)
    session[PROOF_KEY] = {"user_id": user.id, "issuer": identity.issuer,
                          "subject": identity.subject, "auth_time": identity.auth_time,
                          "key": flow.get("key")}


def take(user, key: str) -> Proof | None:
    """The proof kept for ``user`` and ``key``, removed from the session (used once);
    None when there is none that matches."""
    data = session.pop(PROOF_KEY, None)
    if not isinstance(data, dict) or data.get("user_id") != user.id or data.get("key") != key:
        return None
    return Proof(user_id=data["user_id"], issuer=data["issuer"], subject=data["subject"],
                 auth_time=int(data["auth_time"]), key=data["key"])


def check(user, proof: Proof) -> str:
    """The evidence to keep when ``proof`` vouches for ``user`` now; Invalid("password")
    otherwise (someone else's, another provider's, or grown stale meanwhile)."""
    name = settings.sso().provider_name if settings.sso() else "the provider"
    if (proof.user_id != user.id or not uses_provider(user)
            or (proof.issuer, proof.subject) != (user.oidc_issuer, user.oidc_subject)):
        raise Invalid("password", f"The sign-in at {name} was not yours; nothing was "
                                  "recorded.")
    if not is_fresh(proof.auth_time):
        raise Invalid("password", f"Your sign-in at {name} is no longer fresh. Sign again; "
                                  "nothing was recorded.")
    return proof.evidence
