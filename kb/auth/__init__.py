"""Login, logout, roles and API tokens."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from kb.auth import sso_views, views  # noqa: E402,F401  (registers the routes on bp)
