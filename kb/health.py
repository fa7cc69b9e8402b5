"""``/healthz``: can the database be read and written, and is the index in step with it?"""

from __future__ import annotations

from flask import Flask, current_app, jsonify, redirect, url_for
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from kb.extensions import db
from kb.search.services import health as index_health

# A write that changes nothing: it needs a write transaction, so a read-only database
# (a read-only file, SQLite's mode=ro, a PostgreSQL standby) refuses it, and it leaves
# no trace. Portable: plain SQL on a table every installation has.
WRITE_PROBE = text("UPDATE users SET id = id WHERE 1 = 0")


def database_state() -> str:
    """"ok", "read-only" (reads work, writes are refused) or "error: <kind>"."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        db.session.rollback()
        return f"error: {type(getattr(error, 'orig', None) or error).__name__}"
    try:
        db.session.execute(WRITE_PROBE)
    except SQLAlchemyError as error:
        current_app.logger.warning("Database refuses writes: %s", error)
        return "read-only"
    finally:
        db.session.rollback()
    return "ok"


def healthz():
    """200 "ok" when all is well; 200 "degraded" with reasons while the site still answers
    but something is wrong (read-only database, index behind); 503 "error" when the
    database cannot be read or the index cannot be opened."""
    db_state = database_state()
    index = index_health() if not db_state.startswith("error") else {"status": "unknown"}
    reasons = []
    if db_state == "read-only":
        reasons.append("the database refuses writes: nothing can be saved")
    if index.get("status") == "degraded":
        reasons.append(index["reason"])
    if db_state.startswith("error") or index.get("status") == "error":
        status, code = "error", 503
    elif reasons:
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    body = {"status": status, "db": db_state, "index": index}
    if reasons:
        body["reason"] = "; ".join(reasons)
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response, code


def favicon():
    """Browsers ask for /favicon.ico on every site; answer with our icon."""
    return redirect(url_for("static", filename="favicon.svg"), code=301)


def register(app: Flask) -> None:
    """Add the health route and the favicon redirect (both public)."""
    app.add_url_rule("/healthz", endpoint="healthz", view_func=healthz)
    app.add_url_rule("/favicon.ico", endpoint="favicon", view_func=favicon)
