"""Error pages for people and JSON errors for the API; domain errors from kb.core.errors
that no view handles map to 404/403/400/409."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, SQLAlchemyError
from werkzeug.exceptions import HTTPException

from kb.core.errors import Invalid, NotAllowed, NotFound, Stale

MESSAGES = {
    400: "The request could not be understood.",
    401: "Please sign in to continue.",
    403: "Your role does not allow this. Ask a manager if you need access.",
    404: "There is no page here. Try searching for what you need.",
    405: "That action is not allowed here.",
    409: "Someone else changed this while you were working on it. Reload and try again.",
    413: "That upload is too large.",
    429: "Too many attempts. Wait a minute and try again.",
    500: "Something went wrong on our side. The error has been logged.",
    503: "The database is not answering just now. Try again in a minute.",
}
NOT_SAVED_MESSAGE = (
    "Nothing was saved: the database did not accept the change (it may be read-only or "
    "busy). Keep a copy of what you entered, try again in a minute, and tell a manager "
    "if it keeps happening."
)
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
UNSTORABLE_MESSAGE = (
    "That text is too long or contains a character the database cannot store (such as a "
    "NUL character), so nothing was changed."
)
CSRF_MESSAGE = (
    "The form had expired or did not come from this site, so nothing was changed. "
    "Reload the page and try again."
)


def wants_json() -> bool:
    """True for API requests, which get JSON errors."""
    return request.path.startswith("/api/") or request.path == "/healthz"


def error_response(code: int, message: str | None = None):
    """An error as JSON under /api/ and as an HTML page elsewhere."""
    message = message or MESSAGES.get(code, "Something went wrong.")
    if wants_json():
        return jsonify(error=_slug(code), message=message), code
    return render_template("errors/error.html", code=code, message=message), code


def _slug(code: int) -> str:
    return {
        400: "bad_request",
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        409: "conflict",
        413: "too_large",
        429: "too_many_requests",
        500: "server_error",
        503: "unavailable",
    }.get(code, "error")


def register(app: Flask) -> None:
    """Install the error handlers."""

    @app.errorhandler(CSRFError)
    def csrf_error(_error):
        return error_response(400, CSRF_MESSAGE)

    @app.errorhandler(NotFound)
    def not_found(_error: NotFound):
        return error_response(404)

    @app.errorhandler(NotAllowed)
    def not_allowed(_error: NotAllowed):
        return error_response(403)

    @app.errorhandler(Invalid)
    def invalid(error: Invalid):
        return error_response(400, error.message)

    @app.errorhandler(Stale)
    def stale(_error: Stale):
        return error_response(409)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = error.code or 500
        message = MESSAGES.get(code)
        if code == 429:
            message = "Too many sign-in attempts from here. Wait a minute and try again."
        elif code == 400 and error.description and wants_json():
            message = error.description
        return error_response(code, message)

    @app.errorhandler(SQLAlchemyError)
    def database_error(error: SQLAlchemyError):
        """A refused database write or read: rolled back and said in words."""
        # A save the database refused (read-only file, disk full, locked too long): say
        # in words that nothing was stored rather than a bare 500.
        from kb.extensions import db

        db.session.rollback()
        app.logger.error("Database error on %s %s: %s", request.method, request.path, error)
        if request.method in WRITE_METHODS:
            return error_response(503, NOT_SAVED_MESSAGE)
        return error_response(503)

    @app.errorhandler(DataError)
    def unstorable(_error: DataError):
        # A value the database refuses (PostgreSQL rejects NUL characters in text, which
        # SQLite stores): bad input, not a fault of ours. The transaction is abandoned.
        from kb.extensions import db

        db.session.rollback()
        return error_response(400, UNSTORABLE_MESSAGE)

    @app.errorhandler(Exception)
    def unhandled(error: Exception):
        app.logger.exception("Unhandled error on %s", request.path)
        return error_response(500)
