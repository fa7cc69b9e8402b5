"""Shared fixtures: apps on temporary databases, indexes and content folders."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from textwrap import dedent

import pytest
from flask_migrate import upgrade

from kb import create_app
from kb.extensions import db
from tests import databases

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_ARTICLES = ROOT / "articles"
SHIPPED_SCRIPTS = ROOT / "scripts"
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                     r'name="csrf_token" value="([^"]+)"')


def pytest_addoption(parser):
    """``--db=postgresql`` runs the suite on PostgreSQL (KB_TEST_DATABASE_URL)."""
    parser.addoption("--db", choices=databases.BACKENDS, default=None,
                     help="database backend for the suite (default: $KB_TEST_DB or sqlite)")


def pytest_configure(config):
    """Pick the backend; on PostgreSQL check the server once (fail in CI, else skip)."""
    config.addinivalue_line("markers", "sqlite_only: checks SQLite tuning; skipped on PostgreSQL")
    config.addinivalue_line(
        "markers", "database_independent: exercises the search engine, its index or a tool "
        "whatever the database; runs on SQLite only (CI time), not again on PostgreSQL")
    config.addinivalue_line("markers", "postgresql_only: needs PostgreSQL (several hosts on one "
                            "database); skipped on SQLite")
    chosen = config.getoption("--db")
    if chosen:
        # In the environment, so CLI and gunicorn processes started by tests follow it.
        os.environ["KB_TEST_DB"] = chosen
    config.kb_postgres_unavailable = None
    if databases.is_postgresql():
        problem = databases.check_server()
        if problem and databases.required():
            raise pytest.UsageError(f"PostgreSQL is required here (CI): {problem}")
        config.kb_postgres_unavailable = problem


def pytest_report_header(config):
    """Say which database the run uses."""
    return f"database: {databases.backend()}"


def pytest_collection_modifyitems(config, items):
    """Skip everything when PostgreSQL was asked for and is missing; SQLite-only checks on PG."""
    problem = config.kb_postgres_unavailable
    for item in items:
        if problem:
            item.add_marker(pytest.mark.skip(reason=f"PostgreSQL run skipped: {problem}"))
        elif databases.is_postgresql() and item.get_closest_marker("sqlite_only"):
            item.add_marker(pytest.mark.skip(reason="SQLite-specific check"))
        elif databases.is_postgresql() and item.get_closest_marker("database_independent"):
            item.add_marker(pytest.mark.skip(reason="does not depend on the database; "
                                                    "run on SQLite"))
        elif not databases.is_postgresql() and item.get_closest_marker("postgresql_only"):
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (run with --db=postgresql)"))


def pytest_terminal_summary(terminalreporter, config):
    """Repeat why a PostgreSQL run was skipped where the developer will read it."""
    if config.kb_postgres_unavailable:
        terminalreporter.write_line(
            f"PostgreSQL run skipped: {config.kb_postgres_unavailable}", yellow=True)


def pytest_unconfigure(config):
    """Drop whatever databases this session left behind (the template included)."""
    if not config.kb_postgres_unavailable:
        databases.drop_all()


@pytest.fixture(autouse=True)
def _drop_test_databases():
    """Each test's PostgreSQL databases are dropped when it ends."""
    mark = databases.created_count()
    yield
    databases.drop_since(mark)


def build_app(base: Path, *, seeded: bool = False, **overrides):
    """An app whose database, index and content live under ``base``, migrated to head
    (``seeded``: with the demo accounts, helplines and standards as well).

    The database is a copy of a template migrated once per session. On PostgreSQL it is
    named after ``base``: a second app (or process) built on the same folder shares it,
    as a second worker would; on SQLite it is ``base``/kb.sqlite.
    """
    articles = base / "articles"
    articles.mkdir(parents=True, exist_ok=True)
    database_url, at_head = databases.database_for(base, seeded=seeded)
    settings = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "KB_INDEX_DIR": str(base / "index"),
        "KB_ARTICLES_DIR": str(articles),
        "KB_SCRIPTS_DIR": str(base / "scripts"),
        "KB_LOGIN_RATE_LIMIT": "1000 per minute",
    }
    settings.update(overrides)
    app = create_app("testing", settings)
    if not at_head:
        with app.app_context():
            upgrade(directory=str(ROOT / "kb" / "migrations"))
    return app


def write_article(directory: Path, slug: str, *, title: str | None = None, body: str = "",
                  **meta) -> Path:
    """Write an article file with front matter; returns its path."""
    fields = {
        "title": title or slug.replace("-", " ").capitalize(),
        "category": "Call handling",
        "tags": "[]",
        "summary": f"Quick answer for {slug}.",
        "owner": "Contact Centre Manager",
        "review_cycle_months": 12,
        "requires_signoff": "false",
    }
    fields.update(meta)
    front = "\n".join(f"{key}: {value}" for key, value in fields.items())
    path = directory / f"{slug}.md"
    path.write_text(f"---\n{front}\n---\n\n{dedent(body) or 'Body of ' + slug}\n",
                    encoding="utf-8")
    return path


def user_named(username: str):
    """The user called ``username`` (inside an app context), or None."""
    from kb.models import User

    return db.session.scalar(db.select(User).filter_by(username=username))


def every_stored_value(database) -> str:
    """Every value in every table of the app's database, as one string to search."""
    from sqlalchemy import select

    return "\n".join(repr(tuple(row)) for table in database.metadata.sorted_tables
                     for row in database.session.execute(select(table)))


def csrf_token(response) -> str:
    """The CSRF token from a rendered form."""
    match = CSRF_RE.search(response.get_data(as_text=True))
    assert match, "no csrf_token in the page"
    return match.group(1) or match.group(2)


def login(client, username: str, password: str = "demo", next_url: str | None = None):
    """Sign in through the real form (with its CSRF token); returns the POST response."""
    url = "/login" + (f"?next={next_url}" if next_url else "")
    token = csrf_token(client.get(url))
    return client.post(url, data={"username": username, "password": password,
                                  "csrf_token": token})


@pytest.fixture
def app(tmp_path):
    """A fresh app with an empty database and three demo users.

    Its database holds what `make run` (`flask import-content`, `flask seed-demo`) leaves
    behind: the demo accounts, helplines and response standards, seeded once per session
    into a template and copied (see tests/databases.py).
    """
    app = build_app(tmp_path, seeded=True)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def articles_dir(app) -> Path:
    return Path(app.config["KB_ARTICLES_DIR"])


@pytest.fixture
def make_article(articles_dir):
    """Write an article file into the app's content folder."""

    def make(slug: str, **kwargs) -> Path:
        return write_article(articles_dir, slug, **kwargs)

    return make


@pytest.fixture
def two_articles(app, make_article, runner):
    """The app with two articles published by `flask import-content`: swipe-cards
    ("Swipe cards") and bins ("Bin collections")."""
    make_article("swipe-cards", title="Swipe cards", body="Order a replacement fob.")
    make_article("bins", title="Bin collections", body="Bins go out on Tuesday.")
    assert runner.invoke(args=["import-content"]).exit_code == 0
    return app


@pytest.fixture
def scripts_dir(app) -> Path:
    """The app's (empty) call scripts folder."""
    path = Path(app.config["KB_SCRIPTS_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def make_user(app):
    """Create a user with a given role (password 'pw-' + username)."""
    from kb.auth.services import create_user

    def make(username: str, role: str = "agent", **kwargs):
        with app.app_context():
            user = create_user(username, "pw-" + username, role=role, **kwargs)
            db.session.commit()
            return user.id

    return make


@pytest.fixture(scope="session")
def shipped_app(tmp_path_factory):
    """One app with the shipped articles and call scripts imported and indexed (read-only)."""
    base = tmp_path_factory.mktemp("shipped")
    shutil.copytree(SHIPPED_ARTICLES, base / "articles")
    shutil.copytree(SHIPPED_SCRIPTS, base / "scripts")
    app = build_app(base)
    with app.app_context():
        from kb.articles.services import import_articles
        from kb.auth.services import seed_demo_accounts
        from kb.callscripts.services import import_scripts
        from kb.crisis.services import seed_helplines
        from kb.search.services import sync_index
        from kb.tools.duedates.services import seed_standards

        seed_demo_accounts()
        seed_helplines()
        seed_standards()
        db.session.commit()
        report = import_articles(base / "articles")
        assert report.ok, [str(e) for e in report.errors]
        report = import_scripts(base / "scripts")
        assert report.ok, [str(e) for e in report.errors]
        db.session.commit()
        sync_index()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def agent_client(shipped_app):
    """A test client signed in as the demo agent on the shipped content."""
    client = shipped_app.test_client()
    assert login(client, "agent").status_code == 302
    return client


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium through Playwright; skipped (or failed in CI) when missing."""
    from tests.browser import CHROMIUM_ARGS, chromium_path

    path = chromium_path()
    if path is None:
        pytest.skip("Chromium is not installed (apt-get install chromium); browser tests skipped")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def live(shipped_app):
    """The shipped-content app served on a loopback port; yields its base URL."""
    from tests.browser import LiveServer

    with LiveServer(shipped_app) as server:
        yield server.url


@pytest.fixture
def page(browser):
    """A fresh browser tab (clipboard allowed) that fails the test on any JS error."""
    from tests.browser import VIEWPORT, watch_errors

    context = browser.new_context(viewport=VIEWPORT,
                                  permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    errors = watch_errors(page)
    yield page
    context.close()
    assert not errors, f"JavaScript errors or CSP violations: {errors}"


@pytest.fixture
def axe_page(browser):
    """A tab for axe-core checks. axe is injected by the test itself, so this one tab
    is allowed past the site's strict Content-Security-Policy."""
    from tests.browser import VIEWPORT

    context = browser.new_context(viewport=VIEWPORT, bypass_csp=True)
    yield context.new_page()
    context.close()
