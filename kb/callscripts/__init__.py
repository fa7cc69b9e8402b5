"""Guided call scripts: the script player and script review."""

from flask import Blueprint

bp = Blueprint("callscripts", __name__, url_prefix="/scripts")

from kb.callscripts import views  # noqa: E402,F401  (registers the routes on bp)
