"""The one history form that changes anything: restoring an old version."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, SubmitField
from wtforms.validators import Length, Optional

from kb.history.services import MAX_REASON_CHARS


class RestoreForm(FlaskForm):
    """A manager publishes an old version again (CSRF-protected)."""

    reason = StringField("Reason (optional, added to the change summary)",
                         validators=[Optional(), Length(max=MAX_REASON_CHARS)])
    # Undoing a change agents were told about is itself something they must be told.
    material = BooleanField("Material change: agents must re-acknowledge", default=True)
    submit = SubmitField("Restore this version")
