"""Search: the Whoosh index (engine.py, the only module that imports whoosh) and its pages."""

from flask import Blueprint

bp = Blueprint("search", __name__)

from kb.search import views  # noqa: E402,F401  (registers the routes on bp)
