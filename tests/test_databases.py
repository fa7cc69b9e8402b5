"""Both databases: migrations up and down, and input SQLite would take but PostgreSQL
refuses gets the same clear answer on either."""

from __future__ import annotations

import sqlalchemy as sa

from kb.extensions import db
from kb.models import Article, CallScript
from tests import databases
from tests.conftest import login
from tests.test_callscripts import SCRIPT


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_migrations_upgrade_downgrade_and_upgrade_again(tmp_path):
    url = databases.empty_database(tmp_path)
    databases.migrate(url)
    assert {"users", "articles", "article_versions", "call_scripts", "helplines",
            "crisis_incidents", "response_standards", "audit_log"} <= _tables(url)
    databases.migrate(url, "base", down=True)
    assert _tables(url) <= {"alembic_version"}
    databases.migrate(url)
    assert "articles" in _tables(url)


RELEASED = "f3b8d1a6c920"  # the schema a centre upgrading from before issue 9 has


def _content(url: str) -> list[tuple]:
    """The articles with their current version's text and author, and the foreign-key
    link from article to version (what an upgrade must never lose or break)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sa.text(
                "SELECT a.slug, v.number, v.markdown, u.username FROM articles a"
                " JOIN article_versions v ON v.id = a.current_version_id"
                " JOIN users u ON u.id = v.author_id ORDER BY a.slug"))]
    finally:
        engine.dispose()


def test_a_database_holding_content_upgrades_and_downgrades_without_losing_it(tmp_path):
    """SQLite rebuilds a table to alter it; with articles and versions pointing at each
    other that must neither fail on the foreign keys nor drop a row."""
    url = databases.empty_database(tmp_path)
    databases.migrate(url, RELEASED)
    databases.insert_old_content(url, {"bins": 2, "rent": 2}, user_id=3, team="Repairs")
    before = _content(url)
    assert before == [("bins", 2, "bins v2", "mo"), ("rent", 2, "rent v2", "mo")]
    databases.migrate(url)
    assert _content(url) == before
    databases.migrate(url, RELEASED, down=True)
    assert _content(url) == before
    databases.migrate(url)
    assert _content(url) == before


def test_over_long_front_matter_is_reported_and_the_rest_import(app, runner, make_article):
    make_article("good-one", body="Fine.")
    make_article("long-title", title="T" * 201, body="Too long a title.")
    make_article("long-owner", owner="O" * 121, body="Too long an owner.")
    result = runner.invoke(args=["import-content"])
    assert result.exit_code == 1
    assert "long-title.md: title is 201 characters; the most is 200" in result.output
    assert "long-owner.md: owner is 121 characters; the most is 120" in result.output
    with app.app_context():
        assert db.session.scalars(db.select(Article.slug)).all() == ["good-one"]


def test_over_long_script_title_is_reported(app, runner, make_article, scripts_dir):
    make_article("swipe-cards", body="Cancel, then order.")
    text = SCRIPT.format(extra="").replace("title: Lost key fob", "title: " + "F" * 201)
    assert "F" * 201 in text
    (scripts_dir / "lost-fob.md").write_text(text, encoding="utf-8")
    result = runner.invoke(args=["import-content"])
    assert result.exit_code == 1
    assert "title is 201 characters; the most is 200" in result.output
    with app.app_context():
        assert db.session.scalars(db.select(CallScript.slug)).all() == []


def test_a_nul_character_in_a_form_is_refused_not_a_server_error(client):
    response = login(client, "agent\x00", "demo")
    assert response.status_code in (200, 400)
    assert "Something went wrong" not in response.get_data(as_text=True)
    # Not signed in: the home page still sends the visitor to the sign-in form.
    assert client.get("/").status_code == 302
