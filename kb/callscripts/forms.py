"""Forms for call script review (the player's capture fields are plain GET inputs)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SubmitField


class MarkReviewedForm(FlaskForm):
    """A manager confirms the script still matches the articles it cites (CSRF-protected)."""

    submit = SubmitField("Mark reviewed")


class WalkedForm(FlaskForm):
    """At an end step: "I have walked this script through to the end" (CSRF-protected);
    ``path`` is the route taken, checked against the script on the server."""

    path = HiddenField()
