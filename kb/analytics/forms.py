"""Search analytics' one form: marking a reported gap resolved."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField


class ResolveGapForm(FlaskForm):
    """The query whose open reports are resolved (its length is checked by the service)."""

    query = HiddenField()
