"""Forms for helplines, incident records and review notes."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    IntegerField,
    RadioField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from kb.crisis import services
from kb.crisis.incidents import IncidentData
from kb.crisis.services import (
    AUDIENCE_MAX,
    HELPLINE_NOTES_MAX,
    HOURS_MAX,
    LOCAL,
    LOCATION_MAX,
    NAME_MAX,
    NATIONAL,
    PARTNER_MAX,
    TEXT_MAX,
    HelplineData,
    InvalidEntry,
)


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class Capped:
    """Length limit whose message says how long the text is and what the limit is."""

    def __init__(self, limit: int) -> None:
        self.limit = limit

    def __call__(self, _form, field) -> None:
        length = len(field.data or "")
        if length > self.limit:
            raise ValidationError(
                f"This is {length:,} characters long; the limit is {self.limit:,}. "
                "Shorten it and submit again."
            )


class PhoneOrWeb:
    """A phone number (digits, spaces, +, brackets) or a web address, as the service checks."""

    def __call__(self, _form, field) -> None:
        try:
            field.data = services.check_number(field.data or "")
        except InvalidEntry as error:
            raise ValidationError(error.message) from None


class CheckboxesField(SelectMultipleField):
    """Several choices as checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class HelplineForm(FlaskForm):
    name = StringField(
        "Name", filters=[_strip],
        validators=[DataRequired("Enter the helpline's name."), Capped(NAME_MAX)],
    )
    number = StringField(
        "Number or web address", filters=[_strip],
        validators=[DataRequired("Enter the phone number or web address."), PhoneOrWeb()],
        render_kw={"autocomplete": "off", "spellcheck": "false", "inputmode": "tel"},
    )
    hours = StringField("Hours", filters=[_strip], validators=[Capped(HOURS_MAX)])
    audience = StringField("Who it is for", filters=[_strip], validators=[Capped(AUDIENCE_MAX)])
    notes = TextAreaField("Notes", filters=[_strip], validators=[Capped(HELPLINE_NOTES_MAX)],
                          render_kw={"rows": 3})
    # A form posted without it (an old page) keeps the helpline's coverage as it was.
    coverage = RadioField(
        "Who can use it",
        choices=[
            SelectChoice(NATIONAL, "Callers anywhere in the country (listed first)"),
            SelectChoice(LOCAL, "Local callers only (listed after the national helplines)"),
        ],
        default=NATIONAL,
        validators=[Optional()],
        invalid_choice_message="Choose whether callers anywhere in the country can use it, "
        "or only local callers.",
    )
    position = IntegerField(
        "Order on the crisis page",
        validators=[Optional(), NumberRange(0, 9999, "Use a whole number from 0 to 9999.")],
        render_kw={"inputmode": "numeric"},
    )

    def to_data(self) -> HelplineData:
        """The form's values for the service."""
        return HelplineData(
            name=self.name.data or "",
            number=self.number.data or "",
            hours=self.hours.data or "",
            audience=self.audience.data or "",
            notes=self.notes.data or "",
            position=self.position.data,
            coverage=self.coverage.data or NATIONAL,
        )


class IncidentForm(FlaskForm):
    occurred_at = DateTimeLocalField(
        "Time of the call",
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        validators=[InputRequired("Enter the date and time of the call.")],
        invalid_value_message="Enter the date and time of the call, for example "
        "2026-11-23 16:05.",
    )
    clock_change = RadioField(
        "Which one?",
        choices=[
            SelectChoice("first", "The first time (British Summer Time, before the clocks "
                         "went back)"),
            SelectChoice("second", "The second time (Greenwich Mean Time, after the clocks "
                         "went back)"),
        ],
        validators=[Optional()],
    )
    what_was_said = TextAreaField(
        "What the caller said", filters=[_strip],
        validators=[DataRequired("Write down what the caller said."), Capped(TEXT_MAX)],
        render_kw={"rows": 6},
    )
    caller_location = TextAreaField(
        "Caller's location, if they gave it", filters=[_strip],
        validators=[Capped(LOCATION_MAX)], render_kw={"rows": 2},
    )
    support_partner = StringField(
        "Support partner", filters=[_strip], validators=[Capped(PARTNER_MAX)],
    )
    emergency_services_called = RadioField(
        "Were the emergency services (999) called?",
        choices=[SelectChoice("yes", "Yes"), SelectChoice("no", "No")],
        validators=[InputRequired("Say whether the emergency services were called.")],
    )
    helplines_given = CheckboxesField(
        "Helplines given to the caller", coerce=int,
        invalid_choice_message="One of the helplines chosen is no longer listed. Choose again.",
    )
    notes = TextAreaField(
        "Anything else: what you advised, what happens next", filters=[_strip],
        validators=[Capped(TEXT_MAX)], render_kw={"rows": 4},
    )

    def to_data(self) -> IncidentData:
        """The form's values for the service."""
        return IncidentData(
            occurred_at=self.occurred_at.data,
            what_was_said=self.what_was_said.data or "",
            caller_location=self.caller_location.data or "",
            support_partner=self.support_partner.data or "",
            emergency_services_called=self.emergency_services_called.data == "yes",
            helpline_ids=tuple(self.helplines_given.data or ()),
            notes=self.notes.data or "",
            clock_change=self.clock_change.data or None,
        )


class ReviewForm(FlaskForm):
    note = TextAreaField(
        "Add a review note", filters=[_strip],
        validators=[DataRequired("Write the review note."), Capped(TEXT_MAX)],
        render_kw={"rows": 4},
    )


def add_error(form: FlaskForm, error: InvalidEntry) -> None:
    """Show a service's InvalidEntry beside the field it belongs to."""
    field = getattr(form, error.field, None)
    if field is None:
        form.form_errors.append(error.message)
    else:
        field.errors = [*field.errors, error.message]
