"""The JSON API (session cookie or bearer token)."""

from flask import Blueprint

bp = Blueprint("api", __name__)

from kb.api import views  # noqa: E402,F401  (registers the routes on bp)
