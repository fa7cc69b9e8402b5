"""The crisis protocol: helplines, the protocol page and incident records."""

from flask import Blueprint

bp = Blueprint("crisis", __name__, url_prefix="/crisis")

from kb.crisis import views  # noqa: E402,F401  (registers the routes on bp)
