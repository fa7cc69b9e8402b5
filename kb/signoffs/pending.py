"""A signature or countersignature waiting while its single sign-on signer signs in again at
the provider: what they ticked and typed, kept in their session (one at a time), bound to
them and, through the form's hidden fields, to the exact version they read. It is checked
again in full when it is recorded, so a standard changed meanwhile is refused."""

from __future__ import annotations

import secrets
import time

from flask import session

SESSION_KEY = "kb_pending_signature"
WAIT_SECONDS = 15 * 60  # a round trip to the provider longer than this starts again


def keep(user, kind: str, data: dict) -> str:
    """Keep ``data`` (a "sign" or "countersign") for ``user``; returns its key."""
    key = secrets.token_urlsafe(16)
    session[SESSION_KEY] = {"key": key, "user_id": user.id, "kind": kind, "data": data,
                            "at": int(time.time())}
    return key


def peek(user, kind: str, key: str | None = None) -> dict | None:
    """The waiting ``kind`` of ``user`` (with this ``key``, when given), or None."""
    entry = session.get(SESSION_KEY)
    if (not isinstance(entry, dict) or entry.get("user_id") != user.id
            or entry.get("kind") != kind or (key is not None and entry.get("key") != key)
            or time.time() - entry.get("at", 0) > WAIT_SECONDS):
        return None
    return entry["data"]


def kind_of(user, key: str) -> str | None:
    """Which kind is waiting for ``user`` under ``key`` (None: nothing)."""
    for kind in ("sign", "countersign"):
        if peek(user, kind, key) is not None:
            return kind
    return None


def drop() -> None:
    """Forget what was waiting (recorded, or no longer possible)."""
    session.pop(SESSION_KEY, None)
