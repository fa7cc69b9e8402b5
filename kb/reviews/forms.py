"""The "reviewed, no change" form (CSRF-protected)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField


class ReviewedForm(FlaskForm):
    """A manager records a review that changed nothing; the note is optional."""

    note = TextAreaField("Note (optional)")
    next = HiddenField()
