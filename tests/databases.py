"""The database the suite runs on: SQLite files, or PostgreSQL databases cloned from a
template migrated once per session.

The choice travels in environment variables (``KB_TEST_DB``, ``KB_TEST_DATABASE_URL``,
``KB_TEST_PG_TEMPLATE``), so a CLI or gunicorn process a test starts builds its app on
the same database as the test.
"""

from __future__ import annotations

import hashlib
import os
import shutil
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


def _template(seeded: bool = False) -> str:
    """The migrated template database of this session (``seeded``: with the demo accounts,
    helplines and standards of the ``app`` fixture too), created on first use."""
    variable = "KB_TEST_PG_SEEDED" if seeded else "KB_TEST_PG_TEMPLATE"
    name = os.environ.get(variable)
    if name:
        return name
    name = _prefix() + ("seeded" if seeded else "template")
    url = server_url()
    source = _template() if seeded else "template0"
    with _connect(url) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
    database_url = url.set(database=name).render_as_string(hide_password=False)
    seed(database_url) if seeded else migrate(database_url)
    os.environ[variable] = name
    return name


def _sqlite_template(seeded: bool = False) -> Path:
    """The migrated (or migrated and seeded) SQLite file of this process, made on first use.

    Every test copies it instead of running each migration again (about 0.3 s a test), and
    the seeded one saves hashing the demo passwords (about 0.25 s).
    """
    variable = "KB_TEST_SQLITE_SEEDED" if seeded else "KB_TEST_SQLITE_TEMPLATE"
    path = os.environ.get(variable)
    # Keyed by process: a CLI process started by a test inherits the variable, not the file.
    if path and Path(path).exists() and os.environ.get("KB_TEST_SQLITE_OWNER") == str(
            os.getpid()):
        return Path(path)
    folder = Path(tempfile.mkdtemp(prefix="kbt-sqlite-"))
    os.environ["KB_TEST_SQLITE_OWNER"] = str(os.getpid())
    os.environ["KB_TEST_SQLITE_DIR"] = str(folder)
    migrated = folder / "migrated.sqlite"
    migrate(f"sqlite:///{migrated}")
    seeded_file = folder / "seeded.sqlite"
    shutil.copyfile(migrated, seeded_file)
    seed(f"sqlite:///{seeded_file}")
    os.environ["KB_TEST_SQLITE_TEMPLATE"] = str(migrated)
    os.environ["KB_TEST_SQLITE_SEEDED"] = str(seeded_file)
    return seeded_file if seeded else migrated


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


def seed(database_url: str) -> None:
    """Add what `make run` (`flask import-content`, `flask seed-demo`) leaves in a new
    database: the demo accounts, the shipped helplines and response standards."""
    from kb import create_app
    from kb.auth.services import seed_demo_accounts
    from kb.crisis.services import seed_helplines
    from kb.extensions import db
    from kb.tools.duedates.services import seed_standards

    with tempfile.TemporaryDirectory() as scratch:
        app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url,
                                     "KB_INDEX_DIR": str(Path(scratch) / "index")})
        with app.app_context():
            seed_demo_accounts()
            seed_helplines()
            seed_standards()
            db.session.commit()
            db.engine.dispose()


def insert_old_content(url: str, versions: dict[str, int], *, user_id: int,
                       team: str | None = None) -> None:
    """Rows an older schema holds, written by raw SQL (the models describe only the newest):
    a manager 'mo' (with the free-text ``team`` column, on schemas before teams), and
    articles ``slug -> how many versions`` (ids from 1; version ids article*10+number,
    text "<slug> v<number>", by 'mo' on 2026-03-04 10:00), the last version current."""
    import sqlalchemy as sa

    columns = "id, username, display_name, role, password_hash, active, created_at, " \
              "session_version" + (", team" if team is not None else "")
    values = f"{user_id}, 'mo', 'Mo', 'manager', 'x', true, '2026-01-01 00:00:00', 1" + (
        f", '{team}'" if team is not None else "")
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(f"INSERT INTO users ({columns}) VALUES ({values})"))
            for ident, (slug, count) in enumerate(versions.items(), start=1):
                connection.execute(sa.text(
                    "INSERT INTO articles (id, slug, title, category, tags, summary, owner,"
                    " requires_signoff, review_cycle_months, created_at, updated_at) VALUES"
                    f" ({ident}, '{slug}', 'T', 'C', '[]', '', '', false, 12,"
                    " '2026-01-01 00:00:00', '2026-01-01 00:00:00')"))
                for number in range(1, count + 1):
                    connection.execute(sa.text(
                        "INSERT INTO article_versions (id, article_id, number, title, markdown,"
                        " sha256, author_id, created_at, change_summary, summary, material)"
                        f" VALUES ({ident * 10 + number}, {ident}, {number}, 'T',"
                        f" '{slug} v{number}', 'ab', {user_id}, '2026-03-04 10:00:00', '', '',"
                        " true)"))
                if count:
                    connection.execute(sa.text(
                        f"UPDATE articles SET current_version_id = {ident * 10 + count}"
                        f" WHERE id = {ident}"))
    finally:
        engine.dispose()


def database_for(base: Path, *, seeded: bool = False) -> tuple[str, bool]:
    """The database URL of the test instance in ``base``, and whether it is already at head.

    A new database is a copy of this session's migrated template (``seeded``: the one
    with the demo accounts, helplines and standards too). SQLite: a file in ``base``.
    PostgreSQL: one database per ``base`` (so another process given the same folder
    finds it). An existing one is left as it is, and reported as not known to be at head.
    """
    if not is_postgresql():
        path = base / "kb.sqlite"
        if path.exists():
            return f"sqlite:///{path}", False
        shutil.copyfile(_sqlite_template(seeded), path)
        return f"sqlite:///{path}", True
    import psycopg

    template = _template(seeded)
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
    """Drop every database of this session, the templates last, and remove the SQLite
    templates."""
    folder = os.environ.get("KB_TEST_SQLITE_DIR")
    if folder and os.environ.get("KB_TEST_SQLITE_OWNER") == str(os.getpid()):
        shutil.rmtree(folder, ignore_errors=True)
    if not is_postgresql() or server_url() is None or "KB_TEST_PG_PREFIX" not in os.environ:
        return
    templates = {os.environ.get("KB_TEST_PG_TEMPLATE"), os.environ.get("KB_TEST_PG_SEEDED")}
    with _connect(server_url()) as connection:
        rows = connection.execute("SELECT datname FROM pg_database WHERE starts_with(datname, %s)",
                                  (_prefix(),)).fetchall()
        for (name,) in sorted(rows, key=lambda row: row[0] in templates):
            _drop(connection, name)
    _created.clear()
