"""Sign-in and sign-out pages."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from kb.auth import bp
from kb.auth.forms import LoginForm
from kb.auth.services import authenticate, is_safe_next
from kb.extensions import limiter


def _login_limit() -> str:
    return current_app.config["KB_LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    """Show the sign-in form and sign a user in."""
    next_url = request.args.get("next")
    if current_user.is_authenticated:
        return redirect(next_url if is_safe_next(next_url) else url_for("articles.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.username.data, form.password.data)
        if user is not None:
            login_user(user, remember=form.remember.data)
            return redirect(next_url if is_safe_next(next_url) else url_for("articles.home"))
        flash("That username and password do not match an active account.", "error")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign the current user out."""
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))
