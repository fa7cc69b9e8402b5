"""Mid-call tools: phonetic speller, hold timer, response-time calculator."""

from flask import Blueprint

bp = Blueprint("tools", __name__, url_prefix="/tools")

from kb.tools import duedates_views, hold_views, phonetic_views  # noqa: E402,F401
