"""Feedback on articles: "this answered my question", "this is out of date or wrong"."""

from flask import Blueprint

bp = Blueprint("feedback", __name__, url_prefix="/feedback")

from kb.feedback import views  # noqa: E402,F401  (registers the routes on bp)
