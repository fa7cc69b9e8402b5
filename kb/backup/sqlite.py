"""SQLite: copies through the online backup API, which reads a consistent snapshot while
the app goes on serving (and writing), and writes the target in one transaction."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.engine import Connection, make_url

from kb.backup import BackupError

BUSY_TIMEOUT_SECONDS = 30


def database_path(url: str) -> Path:
    """The file behind an SQLite URL (a relative one is relative to the working folder)."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError(f"Only an SQLite database in a file can be backed up or restored, "
                          f"not {database or 'an in-memory one'}.")
    return Path(database).resolve()


def begin_snapshot(connection: Connection) -> None:
    """Open a read transaction on the session's connection: everything read through it
    from now on (the copy, the counts, the content export) sees one moment."""
    raw = connection.connection.dbapi_connection
    if not raw.in_transaction:
        connection.exec_driver_sql("BEGIN")
    # A deferred BEGIN takes its snapshot at the first read; take it now, so the copy
    # below runs inside it rather than in a read transaction of its own.
    connection.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar()


def copy_snapshot(connection: Connection, destination: Path) -> None:
    """Write the snapshot begun by ``begin_snapshot`` to a new file, as one self-contained
    file (rollback journal, no -wal beside it)."""
    target = sqlite3.connect(destination)
    try:
        connection.connection.dbapi_connection.backup(target)
        target.execute("PRAGMA journal_mode=DELETE")
    finally:
        target.close()


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True,
                           timeout=BUSY_TIMEOUT_SECONDS)


def check_copy(path: Path) -> dict[str, int]:
    """Check the backed-up file is a whole SQLite database; its row count per table."""
    try:
        source = _read_only(path)
        try:
            verdict = source.execute("PRAGMA quick_check").fetchone()[0]
            if verdict != "ok":
                raise BackupError(f"{path} is damaged (SQLite says: {verdict}).")
            names = [row[0] for row in source.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite~_%' ESCAPE '~' ORDER BY name")]
            return {name: source.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
                    for name in names}
        finally:
            source.close()
    except sqlite3.Error as error:
        raise BackupError(f"{path} cannot be read as an SQLite database ({error}).") from None


def copy_file(source: Path, target: Path, *, source_read_only: bool = True) -> None:
    """Replace the whole content of the database ``target`` with that of ``source``, in one
    transaction on the target (its other connections see before or after, never between).
    A backup's file is opened read-only; a live database (WAL) cannot always be."""
    reader = (_read_only(source) if source_read_only
              else sqlite3.connect(source, timeout=BUSY_TIMEOUT_SECONDS))
    writer = sqlite3.connect(target, timeout=BUSY_TIMEOUT_SECONDS)
    try:
        reader.backup(writer)
    except sqlite3.Error as error:
        raise BackupError(f"The database could not be written to {target} ({error}).") from None
    finally:
        writer.close()
        reader.close()
