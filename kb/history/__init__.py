"""History: every version of a document, any two compared, revert, and "What's new"."""

from flask import Blueprint

bp = Blueprint("history", __name__)

from kb.history import views  # noqa: E402,F401  (registers the routes on bp)
