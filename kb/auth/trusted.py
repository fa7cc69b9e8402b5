"""Trusted-header sign-in: a reverse proxy that has authenticated the person names them in
a header (or the WSGI variable REMOTE_USER), and the app believes it only from the proxy.

"From the proxy" means the request's own peer: the TCP address the WSGI server saw. When
ProxyFix is configured it rewrites ``REMOTE_ADDR`` from X-Forwarded-For, which a client
can write; the peer it replaced is kept in ``werkzeug.proxy_fix.orig`` and that is the one
checked here. X-Forwarded-For never makes a request trusted.

The header names an existing, active user (matched on the username, case aside); nobody
is created. It signs that user in for the request only: nothing is kept in the session,
so when the proxy stops sending the header the person is signed out here too.
"""

from __future__ import annotations

import logging
import threading

from flask import g
from sqlalchemy.exc import SQLAlchemyError

from kb.auth import settings
from kb.core import audit
from kb.extensions import db
from kb.models import User

log = logging.getLogger(__name__)
MAX_NAME = 64  # the longest username
# Untrusted peers that sent the header are logged once per process, up to this many
# addresses, so a client repeating it cannot fill the log.
_warned: set[str] = set()
_warned_lock = threading.Lock()
MAX_WARNED = 1000


def peer_address(environ) -> str:
    """The address of whoever opened the connection: before ProxyFix, if it ran."""
    original = environ.get("werkzeug.proxy_fix.orig") or {}
    return original.get("REMOTE_ADDR") or environ.get("REMOTE_ADDR") or ""


def asserted_name(req) -> str | None:
    """The username the trusted header asserts, or None (not set up, header absent or
    blank, or the request not from a trusted proxy)."""
    config = settings.trusted()
    if config is None:
        return None
    if config.header == settings.WSGI_REMOTE_USER:
        value = req.environ.get(settings.WSGI_REMOTE_USER)
    else:
        value = req.headers.get(config.header)
    value = (value or "").strip()
    if not value:
        return None
    peer = peer_address(req.environ)
    if not config.trusts(peer):
        _warn_once(peer, config.header)
        return None
    return value


def user_from_header(req) -> User | None:
    """The active user the trusted header names, for this request only; notes the sign-in
    to audit after the request (no write here)."""
    name = asserted_name(req)
    if name is None:
        return None
    user = None
    if len(name) <= MAX_NAME:
        user = db.session.scalar(db.select(User).filter_by(username=name.lower()))
    if user is None or not user.active:
        g.kb_header_refused = name[:MAX_NAME]
        return None
    g.kb_header_user = user.id
    return user


def overrides(session_user: User, req) -> bool:
    """Whether the trusted header names someone other than the session's user: the proxy
    has the last word, so that session is set aside for the request."""
    name = asserted_name(req)
    return name is not None and name.lower() != session_user.username


def record_header_sign_in(session, address: str | None) -> None:
    """After the request: audit the first request of a header sign-in in this browser (the
    session remembers who was audited) and any refused name, as a small write of its own
    that never fails the request."""
    user_id, refused = g.pop("kb_header_user", None), g.pop("kb_header_refused", None)
    if user_id is None and refused is None:
        return
    if user_id is not None and session.get("kb_header_user") == user_id:
        return  # audited already for this browser
    if refused is not None and session.get("kb_header_refused") == refused:
        return
    db.session.rollback()  # anything the view left uncommitted is not ours to save
    try:
        if user_id is not None:
            user = db.session.get(User, user_id)
            audit.record(user, "login.trusted_header", user,
                         {"header": settings.trusted().header, "address": address or ""},
                         label=user.username)
        else:
            audit.record(None, "login.failed", ("login", refused.lower()),
                         {"username": refused, "reason": "trusted header names no active "
                          "user", "address": address or ""}, label=refused)
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        log.warning("Could not audit a trusted-header sign-in")
        return
    if user_id is not None:
        session["kb_header_user"] = user_id
    else:
        session["kb_header_refused"] = refused


def _warn_once(peer: str, header: str) -> None:
    """Log (once per address) that a peer outside KB_TRUSTED_PROXIES sent the header."""
    with _warned_lock:
        if peer in _warned or len(_warned) >= MAX_WARNED:
            return
        _warned.add(peer)
    log.warning("Ignored the %s header from %s: not in KB_TRUSTED_PROXIES", header,
                peer or "an unknown address")
