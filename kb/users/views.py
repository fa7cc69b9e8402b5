"""Users, teams and API tokens pages. Every rule is in services.py; these parse, call,
commit and render. A refused database write falls to kb.errors (503, nothing saved)."""

from __future__ import annotations

from flask import flash, make_response, redirect, render_template, url_for
from flask_login import current_user

from kb.core.errors import Invalid
from kb.core.permissions import role_required
from kb.extensions import db
from kb.users import bp, services
from kb.users.forms import (
    ConfirmForm,
    EmailForm,
    NewUserForm,
    PasswordForm,
    RoleTeamForm,
    TeamForm,
    TokenForm,
    add_error,
)


def _actor():
    return current_user._get_current_object()


def _offer_choices(form: RoleTeamForm) -> None:
    actor = _actor()
    form.limit_choices(services.grantable_roles(actor), services.assignable_teams(actor),
                       allow_none=actor.has_role("admin"))


def _show_once(title: str, label: str, secret: str, back: str, note: str):
    """A page showing a new password or token once; never cached, never stored."""
    response = make_response(render_template("users/secret.html", title=title, label=label,
                                             secret=secret, back=back, note=note))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/")
@role_required("manager")
def index():
    """The users this manager or admin manages, with their role, team and state."""
    actor = _actor()
    users = services.list_users(actor)
    return render_template("users/index.html", users=users,
                           manageable={u.id for u in users if services.can_manage(actor, u)})


def _with_password(form, change, *, shown: str, note: str, saved: str):
    """Run ``change`` (returns the user and the generated password, None when one was
    typed): on Invalid roll back and show it beside its field (returns None: render the
    form again); else commit, then show a generated password once or flash ``saved``.
    ``shown``, ``note`` and ``saved`` are formatted with the user."""
    try:
        user, generated = change()
    except Invalid as error:
        db.session.rollback()
        add_error(form, error)
        return None
    db.session.commit()
    back = url_for(".edit", user_id=user.id)
    if generated:
        return _show_once(shown.format(user=user), "Their password", generated, back,
                          note.format(user=user))
    flash(saved.format(user=user), "success")
    return redirect(back)


@bp.route("/new", methods=["GET", "POST"])
@role_required("manager")
def new():
    """Create a user with a typed or a generated initial password."""
    form = NewUserForm()
    _offer_choices(form)
    if form.validate_on_submit():
        done = _with_password(
            form, lambda: services.create_user(
                _actor(), username=form.username.data, display_name=form.display_name.data,
                role=form.role.data, team_id=form.team.data, password=form.password.data,
                email=form.email.data),
            shown="{user.display_name} can now sign in",
            note="Give it to {user.display_name} now: it is not shown again.",
            saved="Created {user.username}. They can sign in with the password you set.")
        if done is not None:
            return done
    status = 400 if form.errors or form.form_errors else 200
    return render_template("users/new.html", form=form), status


@bp.route("/<int:user_id>", methods=["GET", "POST"])
@role_required("manager")
def edit(user_id: int):
    """A user's role and team, with password reset and deactivation beside them."""
    user = services.get_user(user_id)
    services.require_manage(_actor(), user)  # 403 on GET too, not only on save
    form = RoleTeamForm(data={"role": user.role, "team": user.team_id or 0})
    _offer_choices(form)
    if form.validate_on_submit():
        try:
            changed = services.update_user(_actor(), user_id, role=form.role.data,
                                           team_id=form.team.data)
        except Invalid as error:
            db.session.rollback()
            add_error(form, error)
        else:
            db.session.commit()
            flash(f"Saved {user.username}: {' and '.join(changed)} changed." if changed
                  else "Nothing was changed.", "success" if changed else "info")
            return redirect(url_for(".edit", user_id=user_id))
    return _edit_page(user, form=form, status=400 if form.errors or form.form_errors else 200)


def _edit_page(user, *, form=None, password_form=None, email_form=None, status: int = 200):
    """A user's page, with whichever of its forms failed showing its errors."""
    if form is None:
        form = RoleTeamForm(formdata=None, data={"role": user.role, "team": user.team_id or 0})
        _offer_choices(form)
    if email_form is None:
        email_form = EmailForm(formdata=None, data={"email": user.email or ""})
    if password_form is None:
        password_form = PasswordForm()
    return render_template("users/edit.html", user=user, form=form,
                           password_form=password_form, email_form=email_form,
                           confirm=ConfirmForm()), status


@bp.post("/<int:user_id>/password")
@role_required("manager")
def reset_password(user_id: int):
    """Give a user a new password (typed or generated); their sessions end."""
    user = services.get_user(user_id)
    form = PasswordForm()
    if form.validate_on_submit():
        done = _with_password(
            form, lambda: (user, services.reset_password(_actor(), user_id, form.password.data)),
            shown="New password for {user.display_name}",
            note="They have been signed out everywhere. Give them this password now: it is "
                 "not shown again.",
            saved="New password set for {user.username}; they have been signed out "
                  "everywhere.")
        if done is not None:
            return done
    return _edit_page(user, password_form=form, status=400)


@bp.post("/<int:user_id>/email")
@role_required("manager")
def set_email(user_id: int):
    """Set or clear the address a user's sign-off reminders go to."""
    user = services.get_user(user_id)
    form = EmailForm()
    if form.validate_on_submit():
        try:
            changed = services.set_email(_actor(), user_id, form.email.data)
        except Invalid as error:
            db.session.rollback()
            add_error(form, error)
        else:
            db.session.commit()
            if not changed:
                flash("Nothing was changed.", "info")
            elif user.email:
                flash(f"Reminders for {user.username} now go to {user.email}.", "success")
            else:
                flash(f"{user.username} has no email now: they see reminders only on the "
                      "site.", "success")
            return redirect(url_for(".edit", user_id=user_id))
    return _edit_page(user, email_form=form, status=400)


def _set_active(user_id: int, active: bool):
    """Deactivate or reactivate, then back to the user's page with what happened."""
    user = services.get_user(user_id)
    if ConfirmForm().validate_on_submit():
        try:
            changed = services.set_active(_actor(), user_id, active)
        except Invalid as error:
            db.session.rollback()
            flash(f"Nothing was changed. {error.message}", "error")
        else:
            db.session.commit()
            if changed:
                flash(f"{user.username} can sign in again." if active else
                      f"{user.username} is deactivated and signed out everywhere.", "success")
    return redirect(url_for(".edit", user_id=user_id))


@bp.post("/<int:user_id>/deactivate")
@role_required("manager")
def deactivate(user_id: int):
    """Stop a user signing in; every session they hold ends at once."""
    return _set_active(user_id, False)


@bp.post("/<int:user_id>/reactivate")
@role_required("manager")
def reactivate(user_id: int):
    """Let a deactivated user sign in again."""
    return _set_active(user_id, True)


@bp.route("/teams", methods=["GET", "POST"])
@role_required("admin")
def teams():
    """Every team with its number of active members; admins add teams here."""
    form = TeamForm()
    if form.validate_on_submit():
        try:
            team = services.create_team(_actor(), form.name.data)
        except Invalid as error:
            db.session.rollback()
            add_error(form, error)
        else:
            db.session.commit()
            flash(f"Added the team {team.name}.", "success")
            return redirect(url_for(".teams"))
    status = 400 if form.errors or form.form_errors else 200
    return render_template("users/teams.html", form=form, teams=services.list_teams(),
                           sizes=services.team_sizes()), status


@bp.route("/<int:user_id>/tokens", methods=["GET", "POST"])
@role_required("agent")
def tokens(user_id: int):
    """A user's API tokens; create one (shown once). Yours, or those of a user you
    manage."""
    form = TokenForm()
    user, rows = services.list_tokens(_actor(), user_id)
    if form.validate_on_submit():
        try:
            token, row = services.create_token(_actor(), user_id, form.name.data)
        except Invalid as error:
            db.session.rollback()
            add_error(form, error)
        else:
            db.session.commit()
            return _show_once(f"New API token: {row.name}", "The token", token,
                              url_for(".tokens", user_id=user_id),
                              "Copy it into the program that will use it now: it is not "
                              "shown again. Send it as 'Authorization: Bearer <token>'.")
    status = 400 if form.errors or form.form_errors else 200
    return render_template("users/tokens.html", user=user, tokens=rows, form=form,
                           confirm=ConfirmForm()), status


@bp.post("/<int:user_id>/tokens/<int:token_id>/revoke")
@role_required("agent")
def revoke_token(user_id: int, token_id: int):
    """Revoke a token: the next API request with it is refused (401)."""
    if ConfirmForm().validate_on_submit():
        row = services.revoke_token(_actor(), user_id, token_id)
        db.session.commit()
        flash(f"Revoked the token {row.name}. Programs using it are refused from now on.",
              "success")
    return redirect(url_for(".tokens", user_id=user_id))
