"""``/healthz``: is the database answering, and the search index?"""

from __future__ import annotations

from flask import Flask, jsonify, redirect, url_for
from sqlalchemy import text

from kb.extensions import db
from kb.search.services import health as index_health


def healthz():
    """200 when the database and the index answer; 503 naming the part that does not."""
    status, code = "ok", 200
    try:
        db.session.execute(text("SELECT 1"))
        db_state = "ok"
    except Exception as error:  # noqa: BLE001 - report, never raise, from a health check
        db.session.rollback()
        db_state = f"error: {error.__class__.__name__}"
        status, code = "error", 503
    index = index_health()
    if index.get("status") != "ok":
        status, code = "error", 503
    return jsonify(status=status, db=db_state, index=index), code


def favicon():
    """Browsers ask for /favicon.ico on every site; answer with our icon."""
    return redirect(url_for("static", filename="favicon.svg"), code=301)


def register(app: Flask) -> None:
    """Add the health route and the favicon redirect (both public)."""
    app.add_url_rule("/healthz", endpoint="healthz", view_func=healthz)
    app.add_url_rule("/favicon.ico", endpoint="favicon", view_func=favicon)
