"""The sign form (what the agent was shown, hidden, and the three acts of signing) and the
countersign form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, StringField, SubmitField
from wtforms.validators import Length


class SignForm(FlaskForm):
    """CSRF-protected; the rules themselves are checked in services.sign, so every refusal
    has one clear message and records nothing."""

    user_id = HiddenField()
    version_number = HiddenField()
    content_sha256 = HiddenField()
    understood = BooleanField("I have read and understood this standard")
    typed_name = StringField("Your full name", validators=[Length(max=120)])
    password = PasswordField("Your password", validators=[Length(max=200)])
    submit = SubmitField("Sign")


class CountersignForm(FlaskForm):
    """CSRF-protected; the ticked sign-offs (``ids``) and those shown (``shown``) are read
    as lists in the view and checked, with the name and password, in
    countersign.countersign, so every refusal has one clear message and records nothing."""

    typed_name = StringField("Your full name", validators=[Length(max=120)])
    password = PasswordField("Your password", validators=[Length(max=200)])
    submit = SubmitField("Countersign selected")
    submit_all = SubmitField("Countersign all shown")
