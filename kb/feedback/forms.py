"""Feedback forms (CSRF through Flask-WTF)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField

from kb.feedback.services import MAX_COMMENT, MAX_NOTE


class FeedbackForm(FlaskForm):
    """An agent's feedback; the button pressed (name ``kind``) says which kind."""

    version = HiddenField()
    comment = TextAreaField("Comment (optional)", render_kw={"maxlength": MAX_COMMENT,
                                                             "rows": 3})


class ResolveForm(FlaskForm):
    """A manager resolves a report; the hidden fields bring them back to the same view."""

    note = TextAreaField("Note (optional)", render_kw={"maxlength": MAX_NOTE, "rows": 2})
    article = HiddenField()
    kind = HiddenField()
    state = HiddenField()
    page = HiddenField()
