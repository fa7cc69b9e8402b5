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
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO users (id, username, display_name, role, team, password_hash,"
                " active, created_at, session_version) VALUES (3, 'mo', 'Mo', 'manager',"
                " 'Repairs', 'x', true, '2026-01-01 00:00:00', 1)"))
            for ident, slug in ((1, "bins"), (2, "rent")):
                connection.execute(sa.text(
                    "INSERT INTO articles (id, slug, title, category, tags, summary, owner,"
                    " requires_signoff, review_cycle_months, created_at, updated_at) VALUES"
                    f" ({ident}, '{slug}', 'T', 'C', '[]', '', '', false, 12,"
                    " '2026-01-01 00:00:00', '2026-01-01 00:00:00')"))
                for number in (1, 2):
                    connection.execute(sa.text(
                        "INSERT INTO article_versions (id, article_id, number, title, markdown,"
                        " sha256, author_id, created_at, change_summary, summary, material)"
                        f" VALUES ({ident * 10 + number}, {ident}, {number}, 'T',"
                        f" '{slug} v{number}', 'ab', 3, '2026-03-04 10:00:00', '', '', true)"))
                connection.execute(sa.text(
                    f"UPDATE articles SET current_version_id = {ident * 10 + 2}"
                    f" WHERE id = {ident}"))
    finally:
        engine.dispose()
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
