"""The sign-in limits shared through Redis: failures on host A count on host B; sign-in
keeps working (counted per process) when Redis goes away; production refuses to start
when the configured store does not answer.

Real redis-server and real gunicorn processes: one process's Flask-Limiter cannot show
anything shared. The database plays no part, so these run in the SQLite run only. Redis
is KB_TEST_REDIS_URL when set (`.ci/redis`), otherwise a private redis-server on a free
port; without redis-server the tests are skipped, or fail when KB_REQUIRE_REDIS=1.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from tests import databases
from tests.conftest import ROOT, build_app
from tests.test_gunicorn import _free_port, instance_env
from tests.test_multihost import host, token, wait_for

pytestmark = pytest.mark.skipif(
    databases.is_postgresql(),
    reason="the shared store is Redis; the database plays no part (run in the SQLite run)")

WRONG = "not-the-password"


def _redis_missing() -> None:
    reason = "redis-server is not installed (apt-get install redis-server)"
    if os.environ.get("KB_REQUIRE_REDIS") == "1":
        pytest.fail(f"KB_REQUIRE_REDIS=1: {reason}")
    pytest.skip(reason)


@contextmanager
def private_redis(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """A redis-server of this test's own: loopback, a free port, nothing kept on disk."""
    binary = shutil.which("redis-server")
    if binary is None:
        _redis_missing()
    port = _free_port()
    folder = tmp_path / "redis"
    folder.mkdir()
    server = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--dir", str(folder),
         "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        wait_for(lambda: _pong(url, server), timeout=10, what="redis-server")
        yield url, server
    finally:
        server.terminate()
        server.wait(timeout=10)


def _pong(url: str, server: subprocess.Popen) -> bool:
    import redis

    assert server.poll() is None, "redis-server exited"
    try:
        return bool(redis.Redis.from_url(url, socket_timeout=1).ping())
    except redis.ConnectionError:
        return False


@pytest.fixture
def redis_url(tmp_path) -> Iterator[str]:
    """The Redis to share: the run's own (KB_TEST_REDIS_URL) or a private one."""
    given = os.environ.get("KB_TEST_REDIS_URL")
    if given:
        yield given
        return
    with private_redis(tmp_path) as (url, _server):
        yield url


def serving_env(app, tmp_path: Path, name: str, store: str) -> dict:
    """One host's environment: ``app``'s database, an index of its own, the store given."""
    env = instance_env(app, tmp_path / name)
    (tmp_path / name).mkdir(exist_ok=True)
    # Testing always counts in memory; the development settings read KB_RATELIMIT_STORAGE.
    env.update(KB_ENV="development", KB_SECRET_KEY="one-key-for-every-host-" + "x" * 16,
               KB_INDEX_DIR=str(tmp_path / name / "index"), KB_RATELIMIT_STORAGE=store,
               KB_LOGIN_RATE_LIMIT="1000 per minute", KB_LOGIN_ACCOUNT_LIMIT="5 per 5 minutes",
               KB_INDEX_FOLLOW_SECONDS="0")
    return env


def attempt(base: str, username: str, password: str) -> int:
    """One sign-in through the form; the status code (302 signed in, 200 refused with a
    message, 429 this account must wait)."""
    session = requests.Session()
    page = session.get(f"{base}/login", timeout=10)
    return session.post(f"{base}/login", timeout=10, allow_redirects=False, data={
        "username": username, "password": password, "csrf_token": token(page.text)},
    ).status_code


def test_failed_sign_ins_on_one_host_count_on_the_other(tmp_path, redis_url):
    # Redis may be shared with other tests: an account name of this test's own.
    username = f"pat{secrets.token_hex(4)}"
    app = build_app(tmp_path, seeded=True)
    from kb.auth.services import create_user
    from kb.extensions import db

    with app.app_context():
        create_user(username, "pat-password", role="agent")
        db.session.commit()
        db.engine.dispose()
    env_a = serving_env(app, tmp_path, "a", redis_url)
    env_b = serving_env(app, tmp_path, "b", redis_url)
    with host(env_a, workers=1) as a, host(env_b, workers=1) as b:
        assert [attempt(a, username, WRONG) for _ in range(5)] == [200] * 5
        # The sixth try, on the other host and with the right password, waits.
        assert attempt(b, username, "pat-password") == 429
        # Only that account: another signs in on B as usual.
        assert attempt(b, "agent", "demo") == 302


def test_sign_in_keeps_working_when_the_store_goes_away(tmp_path):
    app = build_app(tmp_path, seeded=True)
    with private_redis(tmp_path) as (url, server):
        env = serving_env(app, tmp_path, "a", url)
        with host(env, workers=1) as a:
            assert attempt(a, "agent", "demo") == 302
            server.terminate()
            server.wait(timeout=10)
            # Counted in this process now: sign-in answers, and still stops a guesser.
            assert attempt(a, "agent", "demo") == 302
            assert [attempt(a, "manager", WRONG) for _ in range(5)] == [200] * 5
            assert attempt(a, "manager", "demo") == 429


def test_production_refuses_to_start_when_the_store_does_not_answer(tmp_path):
    env = serving_env(build_app(tmp_path), tmp_path, "a", f"redis://kb:secret@127.0.0.1:{_free_port()}/0")
    env.update(KB_ENV="production", KB_SECRET_KEY=secrets.token_hex(32))
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind",
         f"127.0.0.1:{_free_port()}", "--log-level", "warning", "wsgi:app"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert time.monotonic() - started < 60
    ours = [line for line in result.stderr.splitlines() if "KB_RATELIMIT_STORAGE" in line]
    assert len(ours) == 1, result.stderr
    assert "does not answer" in ours[0] and "secret" not in ours[0]
