"""Search through the app: hostile input, index lifecycle, reindex, freshness."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, login

HOSTILE = [
    '"unbalanced quote',
    "(unbalanced bracket",
    "brackets ) ( ] [ { }",
    "AND",
    "OR",
    "NOT",
    "repair AND",
    "NOT NOT NOT",
    "*",
    "?",
    "title:",
    "title:repair^99",
    "repair~5",
    "a" * 10_000,
    "repair " * 2_000,
    "\x00\x01\x02 repair \x7f",
    "ремонт квартиры",
    "修理 漏水",
    "إصلاح",
    "😀 emoji leak 💧",
    "%s %n {0} ${x}",
    "'; DROP TABLE articles; --",
    "<script>alert(1)</script>",
    "   ",
    "",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_malformed_queries_never_error(agent_client, query):
    response = agent_client.get("/api/search", query_string={"q": query})
    assert response.status_code == 200
    data = response.get_json()
    assert isinstance(data["results"], list)
    page = agent_client.get("/search", query_string={"q": query})
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.get_data(as_text=True)


def _import(runner, make_article):
    make_article("hold-etiquette", title="Hold etiquette",
                 body="Always ask the caller's permission before putting them on hold.")
    make_article("swipe-cards", title="Swipe cards", body="Replacement fob for door entry.")
    assert runner.invoke(args=["import-content"]).exit_code == 0


def _slugs(client, query):
    return [r["slug"] for r in client.get(f"/api/search?q={query}").get_json()["results"]]


def _fresh_worker(app):
    """A new app object on the same database and index: what a restarted worker sees."""
    from tests.conftest import build_app

    base = Path(app.config["KB_INDEX_DIR"]).parent
    return build_app(base)


def test_missing_index_is_rebuilt_at_start_up(app, runner, make_article):
    _import(runner, make_article)
    shutil.rmtree(app.config["KB_INDEX_DIR"])
    worker = _fresh_worker(app)
    client = worker.test_client()
    login(client, "agent")
    assert _slugs(client, "permission hold") == ["hold-etiquette"]
    assert client.get("/healthz").get_json()["index"]["documents"] == 2


def test_corrupt_index_is_rebuilt_at_start_up(app, runner, make_article):
    _import(runner, make_article)
    index_dir = Path(app.config["KB_INDEX_DIR"])
    for path in index_dir.iterdir():
        path.write_bytes(b"\x00garbage" * 100)
    worker = _fresh_worker(app)
    client = worker.test_client()
    login(client, "agent")
    assert _slugs(client, "fob") == ["swipe-cards"]


def test_stale_index_is_caught_up_at_start_up(app, runner, make_article):
    _import(runner, make_article)
    # Another host changed the database while this index was not watching.
    with app.app_context():
        from kb.articles.services import get_article, save_version
        from kb.content.loader import ParsedArticle
        from kb.extensions import db

        article = get_article("swipe-cards")
        save_version(article, ParsedArticle(
            slug="swipe-cards", title="Swipe cards", category="Call handling",
            summary="Quick answer.", body="Lost key fob: cancel it and order a new one.",
            path=""))
        db.session.commit()
    worker = _fresh_worker(app)
    client = worker.test_client()
    login(client, "agent")
    assert _slugs(client, "cancel lost") == ["swipe-cards"]


def test_reindex_command_rebuilds_with_progress(app, runner, make_article):
    _import(runner, make_article)
    result = runner.invoke(args=["reindex"])
    assert result.exit_code == 0, result.output
    assert "Indexed 2 article(s)" in result.output
    assert "indexed article" not in result.output  # a summary, not a line per document
    verbose = runner.invoke(args=["reindex", "--verbose"]).output
    assert verbose.count("  indexed article ") == 2 and "Indexed 2 article(s)" in verbose
    result = runner.invoke(args=["reindex", "--if-needed"])
    assert "0 added, 0 updated, 0 removed" in result.output


def test_health_names_a_broken_index(app, client):
    index_dir = Path(app.config["KB_INDEX_DIR"])
    shutil.rmtree(index_dir, ignore_errors=True)
    index_dir.write_text("not a directory")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["index"]["status"] != "ok"
    # Search answers with an empty result instead of an error.
    login(client, "agent")
    assert client.get("/api/search?q=hold").status_code == 200


def test_publish_in_another_process_is_seen_without_restart(app, client, make_article):
    login(client, "agent")
    assert _slugs(client, "zebrafinch") == []
    make_article("new-procedure", body="The zebrafinch procedure for testing freshness.")
    env_script = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from tests.conftest import build_app;"
        "from pathlib import Path;"
        "app = build_app(Path(sys.argv[2]));"
        "r = app.test_cli_runner().invoke(args=['import-content']);"
        "sys.exit(r.exit_code)"
    )
    base = Path(app.config["KB_INDEX_DIR"]).parent
    subprocess.run([sys.executable, "-c", env_script, str(ROOT), str(base)], check=True,
                   cwd=ROOT, capture_output=True)
    assert _slugs(client, "zebrafinch") == ["new-procedure"]


def test_index_corrupted_while_serving_is_refilled(app, runner, make_article, monkeypatch):
    # Repairs are attempted at most every few seconds; the test need not wait for that.
    monkeypatch.setattr("kb.search.engine.REOPEN_INTERVAL", 0)
    _import(runner, make_article)
    client = app.test_client()
    login(client, "agent")
    assert _slugs(client, "fob") == ["swipe-cards"]  # this worker is now "ready"
    index_dir = Path(app.config["KB_INDEX_DIR"])
    shutil.rmtree(index_dir)
    index_dir.mkdir()
    (index_dir / "_MAIN_1.toc").write_bytes(b"\x00garbage")
    # The engine notices, recreates the index empty, and the next search refills it.
    for _ in range(3):
        found = _slugs(client, "fob")
        if found:
            break
    assert found == ["swipe-cards"]
    assert client.get("/healthz").get_json()["index"]["status"] == "ok"
