"""Search: the Whoosh index and its pages. Features give it documents through providers.py."""

from flask import Blueprint

bp = Blueprint("search", __name__)

from kb.search import views  # noqa: E402,F401  (registers the routes on bp)
