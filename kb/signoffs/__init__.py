"""Sign-offs: agents acknowledge the exact version of a standard, as append-only evidence."""

from flask import Blueprint

bp = Blueprint("signoffs", __name__, template_folder="templates")

from kb.signoffs import countersign_views, dashboard_views, views  # noqa: E402,F401  (routes)
