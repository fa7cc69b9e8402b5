"""Induction forms: CSRF-protected; the rules themselves are in the services, so every
refusal has one clear message beside its field."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Length

from kb.core.errors import Invalid


def _as_id(value) -> int:
    """A select's value as an id (0: nothing chosen or not a number)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


class ProgrammeForm(FlaskForm):
    """A programme's name and description."""

    name = StringField("Name", validators=[Length(max=200)])
    description = TextAreaField("Description (optional)", validators=[Length(max=4000)])


class ItemForm(FlaskForm):
    """One new item; ``kind`` says which of the three forms on the page was sent."""

    kind = HiddenField()
    article = SelectField("Standard to sign", validate_choice=False)
    script = SelectField("Call script to walk through", validate_choice=False)
    title = StringField("Title", validators=[Length(max=400)])
    due_days = StringField("Due (days after the start date)", default="5",
                           render_kw={"inputmode": "numeric", "size": 4})


class MoveForm(FlaskForm):
    """Move an item up or down (the button's value)."""

    direction = HiddenField()


class ConfirmForm(FlaskForm):
    """A bare confirmation (remove, archive, restore): CSRF only."""


class AssignForm(FlaskForm):
    """A programme, a person and a start date."""

    programme = SelectField("Programme", coerce=_as_id, validate_choice=False)
    user = SelectField("New starter", coerce=_as_id, validate_choice=False)
    start_date = StringField("Start date", render_kw={"type": "date"})


class TaskForm(FlaskForm):
    """A manager ticks a task, with an optional note."""

    note = StringField("Note (optional)", validators=[Length(max=600)])


def add_error(form: FlaskForm, error: Invalid) -> None:
    """Show a service's Invalid beside the field it names (or above the form)."""
    field = getattr(form, error.field, None)
    if field is None or field.type in ("HiddenField", "CSRFTokenField"):
        form.form_errors.append(error.message)
    else:
        field.errors = [*field.errors, error.message]
