"""The database the suite runs on: SQLite files, or PostgreSQL databases cloned from a
template migrated once per session.

The choice travels in environment variables (``KB_TEST_DB``, ``KB_TEST_DATABASE_URL``,
``KB_TEST_PG_TEMPLATE``), so a CLI or gunicorn process a test starts builds its app on
the same database as the test.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from pathlib import Path

from sqlalchemy.engine import URL, make_url

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = str(ROOT / "kb" / "migrations")
BACKENDS = ("sqlite", "postgresql")

# Databases this process created, in order; the autouse fixture drops a test's own.
_created: list[str] = []


def backend() -> str:
    """The database backend of this run: ``sqlite`` (default) or ``postgresql``."""
    return os.environ.get("KB_TEST_DB") or "sqlite"


def is_postgresql() -> bool:
    """True when the suite runs on PostgreSQL."""
    return backend() == "postgresql"


def required() -> bool:
    """In CI a missing PostgreSQL is a failure, not a skip."""
    return (os.environ.get("KB_REQUIRE_POSTGRES") == "1"
            or os.environ.get("CI", "").lower() in {"1", "true", "yes"})


def server_url() -> URL | None:
    """The PostgreSQL database the tests may create their databases from, if any."""
    value = os.environ.get("KB_TEST_DATABASE_URL")
    if not value:
        return None
    url = make_url(value)
    if url.get_backend_name() != "postgresql":
        raise ValueError(f"KB_TEST_DATABASE_URL must be a postgresql+psycopg:// URL, "
                         f"not {url.drivername}://")
    return url.set(drivername="postgresql+psycopg")


def _connect(url: URL):
    """A plain autocommit psycopg connection (CREATE/DROP DATABASE refuse transactions)."""
    import psycopg

    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return psycopg.connect(conninfo, autocommit=True, connect_timeout=5)


def check_server() -> str | None:
    """None when PostgreSQL answers, otherwise why it cannot be used."""
    try:
        url = server_url()
    except ValueError as error:
        return str(error)
    if url is None:
        return ("KB_TEST_DATABASE_URL is not set; set it to postgresql+psycopg://USER:PASS@"
                "HOST/DB for a role with CREATEDB, or start a throwaway cluster with "
                "eval \"$(.ci/postgres start)\" (see README)")
    try:
        with _connect(url) as connection:
            connection.execute("SELECT 1")
    except Exception as error:  # noqa: BLE001 - any failure means "not usable", with why
        return f"PostgreSQL at {url.render_as_string()} is not reachable: {error}"
    return None


def _prefix() -> str:
    """Database names of this session start with this (the session's process id)."""
    prefix = os.environ.get("KB_TEST_PG_PREFIX")
    if not prefix:
        prefix = os.environ["KB_TEST_PG_PREFIX"] = f"kbt_{os.getpid()}_"
    return prefix


def _template() -> str:
    """The migrated template database of this session, created on first use."""
    name = os.environ.get("KB_TEST_PG_TEMPLATE")
    if name:
        return name
    name = _prefix() + "template"
    url = server_url()
    with _connect(url) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    migrate(url.set(database=name).render_as_string(hide_password=False))
    os.environ["KB_TEST_PG_TEMPLATE"] = name
    return name


def migrate(database_url: str, revision: str = "head", *, down: bool = False) -> None:
    """Upgrade (or with ``down`` downgrade) the database at ``database_url`` to ``revision``."""
    from flask_migrate import downgrade, upgrade

    from kb import create_app
    from kb.extensions import db

    with tempfile.TemporaryDirectory() as scratch:
        app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url,
                                     "KB_INDEX_DIR": str(Path(scratch) / "index")})
        with app.app_context():
            (downgrade if down else upgrade)(directory=MIGRATIONS, revision=revision)
            db.engine.dispose()


def database_for(base: Path) -> tuple[str, bool]:
    """The database URL of the test instance in ``base``, and whether it is already at head.

    SQLite: a file in ``base``. PostgreSQL: one database per ``base``, cloned from the
    migrated template the first time (so another process given the same folder finds it).
    """
    if not is_postgresql():
        return f"sqlite:///{base / 'kb.sqlite'}", False
    import psycopg

    template = _template()
    name = _prefix() + hashlib.sha1(str(base.resolve()).encode()).hexdigest()[:16]
    url = server_url()
    with _connect(url) as connection:
        try:
            # FILE_COPY copies the template's few files instead of logging every page.
            connection.execute(
                f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
            _created.append(name)
            fresh = True
        except psycopg.errors.DuplicateDatabase:
            fresh = False
    return url.set(database=name).render_as_string(hide_password=False), fresh


def empty_database(base: Path) -> str:
    """The URL of a new database with no tables at all (for migration tests)."""
    if not is_postgresql():
        return f"sqlite:///{base / 'empty.sqlite'}"
    name = _prefix() + "empty_" + hashlib.sha1(str(base.resolve()).encode()).hexdigest()[:12]
    url = server_url()
    with _connect(url) as connection:
        connection.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    _created.append(name)
    return url.set(database=name).render_as_string(hide_password=False)


def created_count() -> int:
    """How many databases this process has created so far (a mark for drop_since)."""
    return len(_created)


def drop_since(mark: int) -> None:
    """Drop the databases created after ``mark`` (a test's own), closing their sessions."""
    if not is_postgresql() or len(_created) <= mark:
        return
    with _connect(server_url()) as connection:
        while len(_created) > mark:
            _drop(connection, _created.pop())


def _drop(connection, name: str, attempts: int = 20) -> None:
    """DROP DATABASE, waiting out a server process (such as a vacuum worker, which our
    role may not terminate) that is still attached to it."""
    import psycopg

    for attempt in range(attempts):
        try:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        except (psycopg.errors.InsufficientPrivilege, psycopg.errors.ObjectInUse):
            if attempt == attempts - 1:
                raise
            time.sleep(0.25)


def drop_all() -> None:
    """Drop every database of this session, the template last."""
    if not is_postgresql() or server_url() is None or "KB_TEST_PG_PREFIX" not in os.environ:
        return
    with _connect(server_url()) as connection:
        rows = connection.execute("SELECT datname FROM pg_database WHERE starts_with(datname, %s)",
                                  (_prefix(),)).fetchall()
        template = os.environ.get("KB_TEST_PG_TEMPLATE")
        for (name,) in sorted(rows, key=lambda row: row[0] == template):
            _drop(connection, name)
    _created.clear()
