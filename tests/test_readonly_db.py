"""A database that refuses writes: searching still answers, saves say nothing was saved,
and /healthz says the database is read-only."""

from __future__ import annotations

import sqlite3

import pytest

from kb import create_app
from kb.extensions import db
from tests.conftest import csrf_token, login


@pytest.fixture
def read_only(app, make_article, runner):
    """The same instance served again through a read-only SQLite connection (mode=ro)."""
    make_article("swipe-cards", title="Swipe cards", body="Order a replacement fob.")
    assert runner.invoke(args=["import-content"]).exit_code == 0
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    overrides = {key: app.config[key] for key in
                 ("KB_INDEX_DIR", "KB_ARTICLES_DIR", "KB_SCRIPTS_DIR", "KB_LOGIN_RATE_LIMIT")}
    overrides["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///file:{path}?mode=ro&uri=true"
    ro_app = create_app("testing", overrides)
    yield ro_app, path
    with ro_app.app_context():
        db.engine.dispose()


def _incident_count(path: str) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT count(*) FROM crisis_incidents").fetchone()[0]


def test_search_answers_and_saves_say_nothing_was_saved(read_only):
    app, path = read_only
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
    assert _incident_count(path) == 0


def test_other_saves_say_in_words_that_nothing_was_saved(read_only):
    app, _path = read_only
    client = app.test_client()
    login(client, "manager")
    form = client.get("/crisis/helplines/new")
    response = client.post("/crisis/helplines/new", data={
        "csrf_token": csrf_token(form), "name": "Test line", "number": "0800 000 000",
    })
    assert response.status_code == 503
    assert "Nothing was saved" in response.get_data(as_text=True)


def test_health_says_the_database_is_read_only(read_only, app):
    ro_app, _path = read_only
    body = ro_app.test_client().get("/healthz").get_json()
    assert body["db"] == "read-only" and body["status"] == "degraded"
    assert "nothing can be saved" in body["reason"]
    # The same file through a normal connection is fine.
    assert app.test_client().get("/healthz").get_json()["db"] == "ok"
