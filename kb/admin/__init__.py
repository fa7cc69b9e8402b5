"""Managers' settings pages: what needs attention, search vocabularies, the audit log."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from kb.admin import audit_views, views  # noqa: E402,F401  (registers the routes on bp)
