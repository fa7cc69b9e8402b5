"""PostgreSQL: ``pg_dump`` (custom format) from an exported snapshot, ``pg_restore`` in one
transaction. The password goes to the tools in PGPASSWORD, never on a command line (where
``ps`` shows it to every user of the machine)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from glob import glob
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import URL, Connection, Engine, make_url

from kb.backup import BackupError

# Debian and Ubuntu keep each major version's tools here; PATH may hold only a wrapper.
DEBIAN_BIN_DIRS = "/usr/lib/postgresql/*/bin"
VERSION_RE = re.compile(r"\(PostgreSQL\)\s+(\d+)")
VERSION_TIMEOUT_SECONDS = 10


def conninfo(url: str | URL) -> str:
    """A libpq connection string for ``url``, without its password."""
    url = make_url(url)
    parts = {"host": url.host, "port": url.port, "user": url.username,
             "dbname": url.database}
    for key, value in url.query.items():
        parts[key] = value[-1] if isinstance(value, tuple) else value
    return " ".join(f"{key}={_quote(str(value))}" for key, value in parts.items()
                    if value not in (None, ""))


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def tool_environment(url: str | URL) -> dict[str, str]:
    """The environment for pg_dump and pg_restore: ours, plus the password if the URL has
    one (otherwise libpq looks in ~/.pgpass as usual)."""
    environment = dict(os.environ)
    password = make_url(url).password
    if password:
        environment["PGPASSWORD"] = str(password)
    return environment


def server_major(connection: Connection) -> int:
    """The server's major version (15 for 15.8)."""
    return int(connection.execute(text("SHOW server_version_num")).scalar_one()) // 10000


def _tool_major(path: str) -> int | None:
    try:
        result = subprocess.run([path, "--version"], capture_output=True, text=True,
                                timeout=VERSION_TIMEOUT_SECONDS, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    match = VERSION_RE.search(result.stdout)
    return int(match.group(1)) if match else None


def find_tool(name: str, server: int) -> str:
    """The ``name`` program (pg_dump, pg_restore) for a server of major version ``server``:
    the same major version if there is one, else the newest newer one (each reads older
    servers, none newer ones). Raises BackupError saying what was found."""
    candidates = [shutil.which(name)] + sorted(glob(f"{DEBIAN_BIN_DIRS}/{name}"))
    found: dict[str, int] = {}
    for path in candidates:
        if path and path not in found and os.access(path, os.X_OK):
            major = _tool_major(path)
            if major is not None:
                found[path] = major
    if not found:
        raise BackupError(f"{name} was not found (on PATH or in {DEBIAN_BIN_DIRS}): install "
                          f"the PostgreSQL {server} client tools (Debian: postgresql-client).")
    exact = [path for path, major in found.items() if major == server]
    if exact:
        return exact[0]
    newer = sorted((major, path) for path, major in found.items() if major > server)
    if newer:
        return newer[-1][1]
    versions = ", ".join(f"{path} ({major})" for path, major in found.items())
    raise BackupError(f"The server runs PostgreSQL {server}, but the only {name} found is "
                      f"older: {versions}. Install the PostgreSQL {server} client tools.")


def begin_snapshot(connection: Connection) -> str:
    """Export the snapshot of the session's transaction (begun REPEATABLE READ), so pg_dump
    copies exactly what the counts and the content export read; returns its id."""
    return connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()


def _run(command: list[str], url: str | URL, what: str) -> None:
    try:
        result = subprocess.run(command, env=tool_environment(url), capture_output=True,
                                text=True, check=False)
    except OSError as error:
        raise BackupError(f"{what} could not be started ({error}).") from None
    if result.returncode != 0:
        lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
        reason = lines[-1] if lines else f"exit status {result.returncode}"
        raise BackupError(f"{what} failed: {reason}")


def dump(url: str | URL, snapshot: str, destination: Path, tool: str) -> None:
    """pg_dump the database as of ``snapshot`` into ``destination`` (custom format)."""
    _run([tool, "--format=custom", "--no-password", f"--snapshot={snapshot}",
          f"--file={destination}", f"--dbname={conninfo(url)}"], url, "pg_dump")


def check_archive(path: Path, url: str | URL, tool: str) -> None:
    """Check pg_restore can read the archive (its table of contents) before anything is
    changed."""
    _run([tool, "--list", str(path)], url, f"pg_restore --list {path.name}")


def restore(path: Path, url: str | URL, tool: str) -> None:
    """Load the archive into the (empty) database in one transaction: all of it or none."""
    _run([tool, "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error",
          "--no-password", f"--dbname={conninfo(url)}", str(path)], url, "pg_restore")


# What an empty target may still hold (a migrated schema with no rows), dropped before the
# archive is loaded so its CREATE statements meet nothing of the same name.
_OBJECTS = (
    ("VIEW", "SELECT quote_ident(viewname) FROM pg_views WHERE schemaname = current_schema()"),
    ("TABLE",
     "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = current_schema()"),
    ("SEQUENCE", "SELECT quote_ident(sequencename) FROM pg_sequences "
                 "WHERE schemaname = current_schema()"),
    # Functions (the append-only triggers' own), not those an extension brought.
    ("FUNCTION", "SELECT p.oid::regprocedure::text FROM pg_proc p "
                 "WHERE p.pronamespace = current_schema()::regnamespace AND NOT EXISTS ("
                 "SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass "
                 "AND d.objid = p.oid AND d.deptype = 'e')"),
    ("TYPE", "SELECT quote_ident(t.typname) FROM pg_type t "
             "WHERE t.typnamespace = current_schema()::regnamespace AND t.typtype IN "
             "('e', 'd') AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = "
             "'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')"),
)


def drop_everything(engine: Engine) -> None:
    """Drop every table, view, sequence, function and type of the current schema, in one
    transaction. Only called on a database found empty."""
    with engine.begin() as connection:
        for kind, query in _OBJECTS:
            names = list(connection.execute(text(query)).scalars())
            if names:
                connection.exec_driver_sql(f"DROP {kind} IF EXISTS {', '.join(names)} CASCADE")
