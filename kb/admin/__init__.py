"""Managers' settings pages: search synonyms."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from kb.admin import views  # noqa: E402,F401  (registers the routes on bp)
