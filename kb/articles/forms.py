"""Forms of the article pages (CSRF through Flask-WTF)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField


class PinForm(FlaskForm):
    """Pin, unpin or move a pinned article; ``back`` says which page to return to."""

    back = HiddenField(default="article")  # "article" or "home"; anything else: article
