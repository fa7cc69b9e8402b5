"""Review cycles: when each document is next due for review, and recording a review."""

from flask import Blueprint

bp = Blueprint("reviews", __name__, url_prefix="/reviews")

from kb.reviews import views  # noqa: E402,F401  (registers the routes on bp)
