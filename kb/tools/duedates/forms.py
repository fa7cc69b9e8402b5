"""The forms managers edit response standards and standard sets with."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from kb.tools.duedates.arithmetic import (
    KEY_MAX,
    MAX_AMOUNT,
    REGIONS,
    RULE_KINDS,
    WORKING_DAYS,
    region_name,
)

# "Counts from" and "Doing this records", in words a manager would use.
START_WORDS = {
    "received": "When the request is received",
    "acknowledged": "When it is acknowledged",
    "escalated": "When the resident asks to escalate",
    "investigated": "When the investigation finishes",
}
EVENT_CHOICES = {
    "": "Nothing",
    "acknowledged": "The acknowledgement",
    "escalated": "The request to escalate",
    "investigated": "The end of the investigation",
}
EARLIER_GROUP = "The end of another standard"


class StandardForm(FlaskForm):
    set_id = SelectField("Standard set", coerce=int)
    key = StringField(
        "Key (used in links and the API)",
        validators=[DataRequired(), Length(max=KEY_MAX),
                    Regexp(r"^[a-z0-9][a-z0-9-]*$",
                           message="Use lower-case letters, digits and hyphens.")],
    )
    label = StringField("What is due", validators=[DataRequired(), Length(max=200)])
    channel = StringField("Channel", validators=[DataRequired(), Length(max=60)])
    rule = SelectField("Rule", choices=[SelectChoice(k, v) for k, v in RULE_KINDS.items()])
    amount = IntegerField(
        "Number of working days or hours (for rules with N)",
        validators=[Optional(), NumberRange(min=0, max=1440)],
        default=0,
    )
    counts_from = SelectField("Counts from", default="received")
    event = SelectField("Doing this records",
                        choices=[SelectChoice(k, v) for k, v in EVENT_CHOICES.items()],
                        default="")
    extension_days = IntegerField(
        "Extension allowed (working days)",
        validators=[Optional(),
                    NumberRange(min=0, max=MAX_AMOUNT[WORKING_DAYS],
                                message=f"From 0 to {MAX_AMOUNT[WORKING_DAYS]} working days.")],
        default=0,
    )
    extension_note = StringField("When an extension is allowed", validators=[Length(max=300)])
    promise = StringField("What we promise, read to the caller",
                          validators=[Length(max=200)])
    citation = StringField("Citation", validators=[Length(max=300)])
    active = BooleanField("Offered in the calculator", default=True)

    def offer(self, sets, standards, editing=None) -> None:
        """Fill the set and "Counts from" lists: every set, every event, and every other
        standard labelled with its set (the service refuses one of another set)."""
        self.set_id.choices = [SelectChoice(s.id, s.label) for s in sets]
        self.counts_from.choices = [SelectChoice(k, v, optgroup="An event")
                                    for k, v in START_WORDS.items()]
        self.counts_from.choices += [
            SelectChoice(s.key, f"{s.label} ({s.standard_set.label})", optgroup=EARLIER_GROUP)
            for s in standards if s is not editing]

    def attach(self, message: str) -> None:
        """Show a message from the service beside the field it is about (and so in the
        error summary); one about no single field goes at the top of the summary."""
        field = field_for(message)
        if field is None:
            self.form_errors.append(message)
        else:
            getattr(self, field).errors.append(message)


# Words in the service's messages (arithmetic.validate_rule and validate_chain,
# services.save_standard) and the field each is about, checked in this order.
MESSAGE_FIELDS = (
    ("another set", "set_id"), ("counts from", "counts_from"),
    ("count from", "counts_from"), ("in a loop", "counts_from"), ("event", "event"),
    ("extension", "extension_days"), ("key", "key"), ("amount", "amount"),
    ("rule must", "rule"),
)


def field_for(message: str) -> str | None:
    """The field a DueDateError's message is about, or None."""
    head, _, rest = message.partition(": ")
    # validate_chain starts with the standard's key, which may hold any of the words.
    text = (rest if rest and " " not in head else message).lower()
    return next((field for words, field in MESSAGE_FIELDS if words in text), None)


class StandardSetForm(FlaskForm):
    label = StringField("The name agents see",
                        validators=[DataRequired(message="Give the set a name."),
                                    Length(max=120)])
    region = SelectField("Bank holidays")
    in_force = BooleanField("In force")

    def offer(self, installation_region: str, current: str | None) -> None:
        """The bank holiday calendars: the installation's, or one nation's."""
        self.region.choices = [SelectChoice(
            "", f"The installation's setting ({region_name(installation_region)})")]
        self.region.choices += [SelectChoice(code, name) for code, name in REGIONS.items()]
        if current == "WLS":  # an old setting; Wales has England's bank holidays
            self.region.choices.append(SelectChoice("WLS", region_name("WLS")))

    def attach(self, message: str) -> None:
        """Show a message from services.save_set beside the field it is about."""
        text = message.lower()
        field = ("in_force" if "in force" in text else
                 "region" if "england" in text else "label")
        getattr(self, field).errors.append(message)
