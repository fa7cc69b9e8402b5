"""Database helpers that are not models: SQLite tuning."""

from __future__ import annotations

import sqlite3

from sqlalchemy import event
from sqlalchemy.engine import Engine

_registered = False


def _on_connect(dbapi_connection, _record) -> None:
    # WAL lets readers (every gunicorn worker) go on while one writer writes; the busy
    # timeout makes a second writer wait instead of failing with "database is locked".
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def init_sqlite_pragmas() -> None:
    """Register the SQLite connect hook once per process."""
    global _registered
    if not _registered:
        event.listen(Engine, "connect", _on_connect)
        _registered = True
