"""The JSON API (session cookie or bearer token)."""

from flask import Blueprint

bp = Blueprint("api", __name__)

from kb.api import (  # noqa: E402,F401  (register routes on bp)
    duedates,
    phonetic,
    publishing,
    signoffs,
    views,
)
