"""Forms for users, teams and API tokens (the rules themselves are in services.py)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from kb.core.errors import Invalid
from kb.models import ROLES

ROLE_LABELS = {
    "agent": "Agent: reads articles and scripts, uses the tools",
    "manager": "Manager: also edits content and manages their team",
    "admin": "Admin: also manages every user and team",
}


def _team_id(value) -> int:
    """The team select's value as an id (0: no team)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


class RoleTeamForm(FlaskForm):
    role = SelectField("Role", choices=[SelectChoice(role, ROLE_LABELS[role]) for role in ROLES])
    team = SelectField("Team", coerce=_team_id, validate_choice=True)

    def limit_choices(self, roles, teams, *, allow_none: bool) -> None:
        """Offer only the roles and teams the signed-in user may give."""
        self.role.choices = [SelectChoice(role, ROLE_LABELS[role]) for role in roles]
        self.team.choices = ([SelectChoice(0, "No team")] if allow_none else []) + [
            SelectChoice(team.id, team.name) for team in teams
        ]


class NewUserForm(RoleTeamForm):
    username = StringField(
        "Username",
        validators=[DataRequired("Enter a username."), Length(max=64)],
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"},
    )
    display_name = StringField(
        "Display name", validators=[DataRequired("Enter the name people know them by."),
                                    Length(max=120)],
        render_kw={"autocomplete": "off"},
    )
    email = EmailField(
        "Email for sign-off reminders (optional)",
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"},
    )
    password = PasswordField(
        "Initial password (optional)", validators=[Optional(), Length(max=256)],
        render_kw={"autocomplete": "new-password"},
    )


class PasswordForm(FlaskForm):
    password = PasswordField(
        "New password (optional)", validators=[Optional(), Length(max=256)],
        render_kw={"autocomplete": "new-password"},
    )


class EmailForm(FlaskForm):
    email = EmailField(
        "Email for sign-off reminders",
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"},
    )


class ConfirmForm(FlaskForm):
    """A button that changes something: only its CSRF token is checked."""


class TokenForm(FlaskForm):
    name = StringField(
        "What the token is for",
        validators=[DataRequired("Say what the token is for, e.g. 'CRM widget'."),
                    Length(max=120)],
        render_kw={"autocomplete": "off"},
    )


class TeamForm(FlaskForm):
    name = StringField(
        "Team name", validators=[DataRequired("Enter the team's name."), Length(max=120)],
        render_kw={"autocomplete": "off"},
    )


def add_error(form: FlaskForm, error: Invalid) -> None:
    """Show a service's Invalid beside the field it names (or above the form)."""
    field = getattr(form, error.field, None)
    if field is None:
        form.form_errors.append(error.message)
    else:
        field.errors = [*field.errors, error.message]
