"""A database that refuses writes: searching still answers, saves say nothing was saved,
and /healthz says the database is read-only."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from kb import create_app
from kb.extensions import db
from kb.models import CrisisIncident
from tests import databases
from tests.conftest import csrf_token, login


def read_only_url(url: str) -> str:
    """The same database through a connection that refuses every write."""
    if not databases.is_postgresql():
        path = url.removeprefix("sqlite:///")
        return f"sqlite:///file:{path}?mode=ro&uri=true"
    parsed = make_url(url)
    options = dict(parsed.query, options="-c default_transaction_read_only=on")
    return parsed.set(query=options).render_as_string(hide_password=False)


@pytest.fixture
def read_only(app, make_article, runner):
    """The same instance served again through a read-only SQLite connection (mode=ro)."""
    make_article("swipe-cards", title="Swipe cards", body="Order a replacement fob.")
    assert runner.invoke(args=["import-content"]).exit_code == 0
    overrides = {key: app.config[key] for key in
                 ("KB_INDEX_DIR", "KB_ARTICLES_DIR", "KB_SCRIPTS_DIR", "KB_LOGIN_RATE_LIMIT")}
    overrides["SQLALCHEMY_DATABASE_URI"] = read_only_url(app.config["SQLALCHEMY_DATABASE_URI"])
    ro_app = create_app("testing", overrides)
    yield ro_app, app
    with ro_app.app_context():
        db.engine.dispose()


def _incident_count(app) -> int:
    """Incidents stored, read through the ordinary (writable) connection."""
    with app.app_context():
        return db.session.scalar(db.select(db.func.count(CrisisIncident.id)))


def test_search_answers_and_saves_say_nothing_was_saved(read_only):
    app, writable = read_only
    client = app.test_client()
    assert login(client, "agent").status_code == 302  # signing in writes nothing
    response = client.get("/api/search?q=fob")
    assert response.status_code == 200
    assert [r["slug"] for r in response.get_json()["results"]] == ["swipe-cards"]
    assert client.get("/search?q=fob").status_code == 200

    form = client.get("/crisis/incidents/new")
    words = "Said they had taken tablets and were alone."
    response = client.post("/crisis/incidents/new", data={
        "csrf_token": csrf_token(form), "occurred_at": "2026-01-15T10:00",
        "what_was_said": words, "emergency_services_called": "yes",
    })
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "This record was NOT saved" in page
    assert words in page  # still in the form, to copy or submit again
    assert _incident_count(writable) == 0


def test_other_saves_say_in_words_that_nothing_was_saved(read_only):
    app, _writable = read_only
    client = app.test_client()
    login(client, "manager")
    form = client.get("/crisis/helplines/new")
    response = client.post("/crisis/helplines/new", data={
        "csrf_token": csrf_token(form), "name": "Test line", "number": "0800 000 000",
    })
    assert response.status_code == 503
    assert "Nothing was saved" in response.get_data(as_text=True)


def test_health_says_the_database_is_read_only(read_only, app):
    ro_app, _writable = read_only
    body = ro_app.test_client().get("/healthz").get_json()
    assert body["db"] == "read-only" and body["status"] == "degraded"
    assert "nothing can be saved" in body["reason"]
    # The same file through a normal connection is fine.
    assert app.test_client().get("/healthz").get_json()["db"] == "ok"
