"""Single sign-on pages: the start of the round trip to the provider and its callback.

The callback is a GET (the provider redirects the browser to it) that writes: the account
made or brought up to date at sign-in, and the audit row. Authlib's state check makes it
unforgeable from another site."""

from __future__ import annotations

from flask import abort, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from kb.auth import bp, oidc, reauth, settings
from kb.auth.oidc import SsoError
from kb.auth.services import is_safe_next
from kb.extensions import db

SESSION_METHOD = "kb_auth_method"  # how this browser signed in: "sso" (else unset)


@bp.route("/login/sso")
def sso_login():
    """Send the browser to the provider to sign in (``next``: where to go afterwards)."""
    if settings.sso() is None:
        abort(404, "Single sign-on is not set up on this site.")
    next_url = request.args.get("next")
    next_url = next_url if is_safe_next(next_url) else None
    if current_user.is_authenticated:
        return redirect(next_url or url_for("articles.home"))
    try:
        return redirect(oidc.begin("login", next=next_url))
    except SsoError as problem:
        return _failed(problem)


@bp.route("/login/sso/callback")
def sso_callback():
    """Where the provider sends the browser back: sign in, or confirm a re-authentication
    and return to the signature it was for."""
    if settings.sso() is None:
        abort(404, "Single sign-on is not set up on this site.")
    try:
        flow, identity = oidc.finish()
        if flow.get("purpose") == "reauth":
            reauth.accept(flow, identity, current_user)
            back = flow.get("return_to")
            return redirect(back if is_safe_next(back) else url_for("articles.home"))
        user = _sign_in(identity)
    except SsoError as problem:
        db.session.rollback()
        return _failed(problem)
    if current_user.is_authenticated:
        logout_user()  # another account was signed in in this browser
    login_user(user)
    session[SESSION_METHOD] = "sso"  # so that signing out can end the provider's session
    next_url = flow.get("next")
    return redirect(next_url if is_safe_next(next_url) else url_for("articles.home"))


def _sign_in(identity):
    """Make or update the account and audit the sign-in, committed; a simultaneous first
    sign-in of the same person (the unique index) is tried once more and finds theirs."""
    for attempt in range(2):
        try:
            user, _created = oidc.sign_in(identity)
            oidc.audit_sign_in(user, identity, request.remote_addr)
            db.session.commit()
            return user
        except IntegrityError:
            db.session.rollback()
            if attempt:
                raise
    raise AssertionError("unreachable")


def _failed(problem: SsoError):
    """The page for a round trip that did not work, audited (a database that cannot take
    the row does not stop the page)."""
    try:
        oidc.audit_failure(problem, request.remote_addr)
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        current_app.logger.warning("Could not audit a failed single sign-on")
    flow = problem.flow or {}
    back = flow.get("cancel_to")
    if flow.get("purpose") == "reauth" and is_safe_next(back):
        again, again_label = back, "Back to what you were signing"
    elif current_user.is_authenticated:
        again, again_label = url_for("articles.home"), "Back to the knowledge base"
    else:
        next_url = flow.get("next")
        again = url_for("auth.sso_login", next=next_url) if is_safe_next(next_url) \
            else url_for("auth.sso_login")
        again_label = f"Sign in with {oidc.provider_name()} again"
    return render_template("auth/sso_error.html", message=problem.message, again=again,
                           again_label=again_label), problem.status
