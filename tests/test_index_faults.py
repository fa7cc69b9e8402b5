"""Operators' faults across processes: a lost or damaged index, an unwritable index, and
health that tells the truth on every gunicorn worker."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests import databases
from tests.conftest import ROOT, build_app, login, write_article
from tests.test_callscripts import write_script
from tests.test_gunicorn import _free_port

# The search engine and index, not SQL: run once, on SQLite.
pytestmark = pytest.mark.database_independent


def _get(url: str, token: str | None = None) -> tuple[int, dict, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read().decode()
            return response.status, json.loads(body), body
    except urllib.error.HTTPError as error:
        body = error.read().decode()
        return error.code, json.loads(body or "{}"), body


def _env(base: Path) -> dict:
    return dict(os.environ, KB_ENV="testing", KB_INSTANCE_DIR=str(base),
                KB_DATABASE_URL=databases.database_for(base)[0],
                KB_INDEX_DIR=str(base / "index"), KB_ARTICLES_DIR=str(base / "articles"),
                KB_SCRIPTS_DIR=str(base / "scripts"))


def _flask(env: dict, *args: str) -> subprocess.CompletedProcess:
    """Run ``flask --app kb ARGS`` as its own process."""
    return subprocess.run([sys.executable, "-m", "flask", "--app", "kb", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def instance(tmp_path):
    """A migrated instance with two articles imported, demo users and an agent's token."""
    base = tmp_path
    articles = base / "articles"
    articles.mkdir()
    write_article(articles, "leaks", title="Leaks and water", body="A leak from above.")
    write_article(articles, "swipe-cards", body="Order a replacement fob.")
    (base / "scripts").mkdir()
    app = build_app(base)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["import-content"]).exit_code == 0
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    token = runner.invoke(args=["create-token", "agent"]).output.strip()
    return base, token


@pytest.fixture
def served(instance):
    """Two gunicorn workers serving the instance."""
    base, token = instance
    # These tests damage the index and watch searches and health react; the background
    # follower (kb/search/follow.py, tests/test_follow.py) would repair it within a second.
    env = dict(_env(base), KB_INDEX_FOLLOW_SECONDS="0")
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", "wsgi:app"], cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if _get(f"{url}/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        yield url, token, env, base
    finally:
        server.terminate()
        server.wait(timeout=10)


def _health_on_both_workers(url: str, times: int = 20) -> list[tuple[int, dict, str]]:
    # Keep-alive is off in urllib, so requests are spread over both workers.
    return [_get(f"{url}/healthz") for _ in range(times)]


def _damage(index_dir: Path, how: str) -> None:
    if how == "deleted":
        shutil.rmtree(index_dir)
    else:
        for segment in index_dir.glob("*.seg"):
            segment.write_bytes(os.urandom(64) + b"garbage" * 100)


@pytest.mark.parametrize("how", ["deleted", "garbage"])
def test_a_lost_index_is_refilled_in_full_by_the_next_import(served, how):
    """Item 1: after the index is lost, importing one changed article must not leave an
    index holding only that article while health says ok."""
    url, token, env, base = served
    assert _get(f"{url}/api/search?q=leak", token)[1]["total"] == 1
    _damage(base / "index", how)
    write_article(base / "articles", "swipe-cards", body="Order a replacement zebrafob.")
    result = _flask(env, "import-content")
    assert result.returncode == 0, result.stderr
    time.sleep(0.5)
    for _ in range(10):  # both workers answer from the full index
        assert _get(f"{url}/api/search?q=leak", token)[1]["total"] == 1
        assert _get(f"{url}/api/search?q=zebrafob", token)[1]["total"] == 1
    for code, body, _raw in _health_on_both_workers(url):
        assert code == 200 and body["status"] == "ok", body
        assert body["index"]["documents"] == body["index"]["expected"] == 2


def test_health_is_degraded_while_the_index_is_lost_and_ok_on_every_worker_after_repair(
    served,
):
    """Item 7: health compares the index with the database, shows no paths to anonymous
    callers, and no worker flaps 503 once another process has repaired the index."""
    url, token, env, base = served
    shutil.rmtree(base / "index")
    checks = _health_on_both_workers(url, 10)
    for _code, body, raw in checks:
        assert body["status"] != "ok", body
        assert str(base) not in raw and "/index" not in raw, raw
    assert any(body["status"] == "degraded" and "not in step" in body.get("reason", "")
               for _code, body, _raw in checks)
    result = _flask(env, "reindex", "--if-needed")
    assert result.returncode == 0, result.stderr
    time.sleep(0.2)
    after = _health_on_both_workers(url, 30)
    assert [code for code, _body, _raw in after] == [200] * 30
    assert {body["status"] for _code, body, _raw in after} == {"ok"}
    assert {body["index"]["documents"] for _code, body, _raw in after} == {2}


def test_a_worker_that_finds_the_index_deleted_refills_it_at_the_next_search(served):
    url, token, env, base = served
    shutil.rmtree(base / "index")
    time.sleep(0.1)
    # The first search may answer from the index it just found missing; within a few
    # searches every worker has refilled it from the database, never only a part.
    for _ in range(6):
        found = _get(f"{url}/api/search?q=leak", token)[1]["total"]
    assert found == 1
    assert {body["index"]["documents"] for _c, body, _r in _health_on_both_workers(url)} == {2}


def _with_read_only(folder: Path, argv: list[str]) -> list[str]:
    """``argv`` run with ``folder`` read-only: chmod for an ordinary user; for root (which
    ignores file modes) a read-only bind mount in a private mount namespace."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return argv
    if shutil.which("unshare") is None:
        pytest.skip("running as root without unshare: cannot make a folder read-only")
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("user namespaces unavailable: cannot make a folder read-only as root")
    return ["unshare", "-rm", "sh", "-c", 'mount --bind -o ro "$0" "$0" && exec "$@"',
            str(folder), *argv]


def test_import_with_an_unwritable_index_says_so_keeps_the_change_and_indexes_it_later(
    tmp_path,
):
    """Item 2: a clear message and no traceback, call scripts still imported, exit 1, and
    the database change indexed by the next import once the index is writable."""
    base = tmp_path
    articles = base / "articles"
    articles.mkdir()
    (base / "scripts").mkdir()
    write_article(articles, "swipe-cards", title="Swipe cards", body="Order a new fob.")
    env = _env(base)
    assert _flask(env, "db", "upgrade").returncode == 0
    assert _flask(env, "import-content").returncode == 0
    index_dir = base / "index"
    write_article(articles, "swipe-cards", title="Swipe cards", body="Order a zebrafob.")
    write_script(base / "scripts")
    argv = [sys.executable, "-m", "flask", "--app", "kb", "import-content"]
    try:
        result = subprocess.run(_with_read_only(index_dir, argv), cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=120)
    finally:
        index_dir.chmod(0o755)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "search index not updated" in result.stderr
    assert "cannot be written" in result.stderr
    assert "Articles: 0 new, 1 updated" in result.stdout
    assert "Call scripts: 1 new" in result.stdout
    # Writable again: the file is now "unchanged", yet the import catches the index up.
    result = _flask(env, "import-content")
    assert result.returncode == 0, result.stderr
    assert "1 unchanged" in result.stdout
    app = build_app(base)
    client = app.test_client()
    with app.app_context():
        from kb.auth.services import seed_demo_accounts
        from kb.extensions import db

        seed_demo_accounts()
        db.session.commit()
    login(client, "agent")
    assert client.get("/api/search?q=zebrafob").get_json()["total"] == 1
    assert client.get("/api/search?q=stolen&kind=script").get_json()["total"] == 1
    health = client.get("/healthz").get_json()
    assert health["status"] == "ok" and health["index"]["documents"] == 2


def test_a_running_worker_catches_up_a_database_that_got_ahead(instance, monkeypatch):
    """A change committed without reaching the index (a failed index write, another host)
    shows as degraded health, and the worker's next search catches the index up."""
    monkeypatch.setattr("kb.search.services.CHECK_INTERVAL", 0)
    base, _token = instance
    app = build_app(base)
    client = app.test_client()
    login(client, "agent")
    assert client.get("/api/search?q=fob").get_json()["total"] == 1
    with app.app_context():
        from kb.articles.services import get_article, save_version
        from kb.content.loader import ParsedArticle
        from kb.extensions import db

        save_version(get_article("swipe-cards"), ParsedArticle(
            slug="swipe-cards", title="Swipe cards", category="Call handling",
            summary="Quick answer.", body="Order a replacement zebrafob.", path=""))
        db.session.commit()
    health = client.get("/healthz").get_json()
    assert health["status"] == "degraded" and "1 out of date" in health["reason"]
    assert client.get("/api/search?q=zebrafob").get_json()["total"] == 1
    assert client.get("/healthz").get_json()["status"] == "ok"
