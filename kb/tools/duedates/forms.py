"""The form managers edit a response standard with."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from kb.tools.duedates.arithmetic import KEY_MAX, RULE_KINDS


class StandardForm(FlaskForm):
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
    active = BooleanField("Offered in the calculator", default=True)
