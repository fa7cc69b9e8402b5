"""Real gunicorn with two workers: searches keep answering while another process
publishes, and every worker sees the change within a second; so does a publish made
through one worker's publishing API."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import ROOT, build_app, write_article


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, token: str) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, {}


def instance_env(app, base: Path, **settings: str) -> dict:
    """The environment a CLI or gunicorn process needs to serve ``app``'s instance in
    ``base`` (its database, index and content folders), plus ``settings``."""
    return dict(os.environ, KB_ENV="testing", KB_INSTANCE_DIR=str(base),
                KB_DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
                KB_INDEX_DIR=app.config["KB_INDEX_DIR"],
                KB_ARTICLES_DIR=app.config["KB_ARTICLES_DIR"],
                KB_SCRIPTS_DIR=app.config["KB_SCRIPTS_DIR"], **settings)


@contextmanager
def gunicorn(env: dict, workers: int = 2) -> Iterator[str]:
    """Real gunicorn with ``workers`` processes on a free loopback port; yields its base
    URL once /healthz answers, and stops it afterwards."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(workers),
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
        cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=10):
                    break
            except urllib.error.HTTPError:
                break  # it answers (a degraded index is still an answer)
            except OSError:
                assert server.poll() is None, "gunicorn exited"
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def served(tmp_path):
    """Two gunicorn workers on a temporary instance with two articles."""
    articles = tmp_path / "articles"
    articles.mkdir()
    write_article(articles, "hold-etiquette", body="Ask before you put a caller on hold.")
    write_article(articles, "swipe-cards", body="Order a replacement fob.")
    (tmp_path / "scripts").mkdir()
    app = build_app(tmp_path)
    env = instance_env(app, tmp_path)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["import-content"]).exit_code == 0
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    token = runner.invoke(args=["create-token", "agent"]).output.strip()
    with gunicorn(env) as base:
        yield base, token, env, articles


def test_workers_answer_during_a_publish_and_see_it_within_a_second(served):
    base, token, env, articles = served
    statuses: list[int] = []
    stop = threading.Event()

    def hammer() -> None:
        while not stop.is_set():
            statuses.append(_get(f"{base}/api/search?q=hold", token)[0])

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        write_article(articles, "new-procedure", body="The zebrafinch procedure.")
        subprocess.run([sys.executable, "-m", "flask", "--app", "kb", "import-content"],
                       cwd=ROOT, env=env, check=True, capture_output=True)
        time.sleep(1.0)
        # Many requests land on both workers: every one of them must see the article.
        seen = [_get(f"{base}/api/search?q=zebrafinch", token)[1]["total"] for _ in range(20)]
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert seen == [1] * 20
    assert statuses and set(statuses) == {200}


def _put(url: str, token: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="PUT",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def test_a_publish_through_one_worker_is_found_on_every_worker_within_a_second(served):
    base, token, env, _articles = served
    manager = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "kb", "create-token", "manager"],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout.strip()
    status, body = _put(f"{base}/api/articles/swipe-cards", manager, {
        "base_version": 1, "markdown": "Order a replacement fob: the kookaburra form.",
        "change_summary": "The form's name", "material": True})
    assert status == 200, body
    assert body["version"] == 2
    time.sleep(1.0)
    seen = [_get(f"{base}/api/search?q=kookaburra", token)[1]["total"] for _ in range(20)]
    assert seen == [1] * 20
    # The same edit again, based on the version it replaced, overwrites nothing.
    status, body = _put(f"{base}/api/articles/swipe-cards", manager, {
        "base_version": 1, "markdown": "Something else.", "change_summary": "Stale"})
    assert status == 409 and body["current"]["version"] == 2
