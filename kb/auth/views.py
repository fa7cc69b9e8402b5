"""Sign-in and sign-out pages."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy.exc import SQLAlchemyError

from kb.auth import bp
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
            return render_template("auth/login.html", form=form), 429
        user = authenticate(username, form.password.data)
        if user is not None:
            clear_login_failures(username)
            login_user(user, remember=form.remember.data)
            return redirect(next_url if is_safe_next(next_url) else url_for("articles.home"))
        record_login_failure(username)
        _audit_failure(username)
        flash("That username and password do not match an active account.", "error")
    return render_template("auth/login.html", form=form)


def _audit_failure(username: str, locked: bool = False) -> None:
    """Write the failed sign-in's audit row; a database that cannot take it must not stop
    the sign-in page from answering."""
    try:
        audit_login_failure(username, request.remote_addr, locked=locked)
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        current_app.logger.warning("Could not audit a failed sign-in for %r", username[:120])


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign the current user out, ending every session and remember-me cookie they hold."""
    ended = True
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
    return redirect(url_for("auth.login"))
