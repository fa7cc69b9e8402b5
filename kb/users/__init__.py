"""Users and teams: accounts, roles, teams and API tokens, managed in the browser."""

from flask import Blueprint

bp = Blueprint("users", __name__, url_prefix="/users")

from kb.users import views  # noqa: E402,F401  (registers the routes on bp)
