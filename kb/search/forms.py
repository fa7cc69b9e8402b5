"""The search page's one form: telling the knowledge team what search did not find."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField


class GapForm(FlaskForm):
    """The query (and its search log row, when known) with an optional note. The note's
    length is checked once, in kb.search.gaps.report_gap, which says how long it may be."""

    q = HiddenField()
    log = HiddenField()
    note = TextAreaField("What was the caller asking about? (optional)",
                         render_kw={"rows": 2})
