"""Sign-in and sign-out pages."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy.exc import SQLAlchemyError

from kb.auth import bp, oidc, settings
from kb.auth.forms import LoginForm
from kb.auth.services import (
    audit_login_failure,
    authenticate,
    clear_login_failures,
    end_sessions,
    is_safe_next,
    login_backoff,
    record_login_failure,
)
from kb.extensions import db, limiter


def _login_limit() -> str:
    return current_app.config["KB_LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    """Show the sign-in form and sign a user in."""
    next_url = request.args.get("next")
    if current_user.is_authenticated:
        return redirect(next_url if is_safe_next(next_url) else url_for("articles.home"))
    # Used only when the form is not posted: a refused sign-in keeps what the user chose.
    form = LoginForm(remember=bool(current_app.config.get("KB_REMEMBER_ME_DEFAULT")))
    sso = settings.sso()
    if sso is not None and sso.required and request.method == "POST":
        # Passwords are off: refused before they are read, whoever the account is.
        flash(f"Passwords are turned off on this site. Sign in with {sso.provider_name}.",
              "error")
        _audit_failure(request.form.get("username", ""),
                       reason="password sign-in is off (single sign-on required)")
        return _login_page(form, next_url), 403
    if form.validate_on_submit():
        username = form.username.data
        wait = login_backoff(username)
        if wait:
            # Checked before the password, so guessing on gets no answer either way.
            minutes = max(1, round(wait / 60))
            flash(f"Too many failed sign-ins for this account. Wait {minutes} minute"
                  f"{'s' if minutes != 1 else ''} and try again, or ask an admin to reset "
                  "the password.", "error")
            _audit_failure(username, locked=True)
            return _login_page(form, next_url), 429
        user = authenticate(username, form.password.data)
        if user is not None:
            clear_login_failures(username)
            login_user(user, remember=form.remember.data)
            return redirect(next_url if is_safe_next(next_url) else url_for("articles.home"))
        record_login_failure(username)
        _audit_failure(username)
        flash("That username and password do not match an active account.", "error")
    return _login_page(form, next_url)


def _login_page(form: LoginForm, next_url: str | None) -> str:
    """The sign-in page: the provider's button when single sign-on is set up, and the
    password form unless single sign-on is required."""
    sso = settings.sso()
    return render_template(
        "auth/login.html", form=form, sso_name=sso.provider_name if sso else None,
        passwords=sso is None or not sso.required,
        next_url=next_url if is_safe_next(next_url) else None)


def _audit_failure(username: str, locked: bool = False, reason: str | None = None) -> None:
    """Write the failed sign-in's audit row; a database that cannot take it must not stop
    the sign-in page from answering."""
    try:
        audit_login_failure(username, request.remote_addr, locked=locked, reason=reason)
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        current_app.logger.warning("Could not audit a failed sign-in for %r", username[:120])


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign the current user out, ending every session and remember-me cookie they hold
    (and, when KB_OIDC_END_PROVIDER_SESSION is on, the provider's session too)."""
    ended = True
    via_sso = session.pop("kb_auth_method", None) == "sso"
    for key in ("kb_sso_flows", "kb_sso_proof"):
        session.pop(key, None)
    if current_user.is_authenticated:
        end_sessions(current_user)
        try:
            db.session.commit()
        except SQLAlchemyError:
            db.session.rollback()
            current_app.logger.warning("Could not end the sessions of %s", current_user.username)
            ended = False
    logout_user()
    if ended:
        flash("You are signed out.", "info")
    else:
        flash("You are signed out on this browser, but the database could not record it, "
              "so other browsers may still be signed in.", "error")
    provider_logout = oidc.logout_url() if via_sso else None
    return redirect(provider_logout or url_for("auth.login"))
