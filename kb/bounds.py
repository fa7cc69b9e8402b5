"""Input bounds shared by every view: ids and page numbers the database can hold."""

from __future__ import annotations

from flask import Flask, abort, request
from werkzeug.routing import IntegerConverter

# Ids are INTEGER columns: 32-bit in PostgreSQL. A larger number cannot be a row, and
# passing it to the database raises OverflowError (SQLite) or a range error (PostgreSQL).
MAX_ID = 2**31 - 1
MAX_PAGE = 1_000_000


class IdConverter(IntegerConverter):
    """``<int:...>`` limited to what an id column can hold; anything larger is a 404."""

    def __init__(self, url_map, *args, **kwargs) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def page_arg(name: str = "page") -> int:
    """The page number in the query string (1 when absent); 404 if it is not a page."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return 1
    if not raw.isdigit() or len(raw) > len(str(MAX_PAGE)) or not 1 <= int(raw) <= MAX_PAGE:
        abort(404)
    return int(raw)


def register(app: Flask) -> None:
    """Make every ``<int:...>`` route use the bounded converter (before routes are added)."""
    app.url_map.converters["int"] = IdConverter
