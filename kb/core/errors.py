"""Domain errors shared by every feature; the app maps them to 404/403/400/409."""

from __future__ import annotations


class NotFound(LookupError):
    """The thing asked for does not exist (404)."""


class NotAllowed(PermissionError):
    """The user's role does not allow this (403)."""


class Invalid(ValueError):
    """A value breaks a rule; ``field`` names the form field the message belongs to (400)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class Stale(RuntimeError):
    """The change was made against an out-of-date copy (409)."""
