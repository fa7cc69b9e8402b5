"""Two app hosts on one PostgreSQL database: two real gunicorn instances on their own
ports, each with its own index folder. A manager publishes, edits and archives on host A;
host B's workers follow the database in the background, so B's search answers within
2 seconds without B having served any write."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from whoosh.filedb.filestore import FileStorage
from whoosh.index import FileIndex

from kb.extensions import db
from tests.conftest import CSRF_RE, ROOT, build_app, write_article
from tests.test_gunicorn import _free_port, instance_env

pytestmark = pytest.mark.postgresql_only

BASE_VERSION = re.compile(r'name="base_version" type="hidden" value="(\d+)"')
LAG_LIMIT = 2.0  # seconds, from the publish answering on A to B's index holding it


@contextmanager
def host(env: dict, access_log: Path | None = None, workers: int = 2) -> Iterator[str]:
    """A gunicorn instance with ``env`` on a free loopback port; yields its base URL once
    /healthz answers (``access_log``: where it logs every request), stops it afterwards."""
    port = _free_port()
    args = [sys.executable, "-m", "gunicorn", "--workers", str(workers),
            "--bind", f"127.0.0.1:{port}", "--log-level", "warning"]
    if access_log is not None:
        args += ["--access-logfile", str(access_log)]
    server = subprocess.Popen([*args, "wsgi:app"], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(base, server), timeout=30, what=f"gunicorn on {base}")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=15)


def _answers(base: str, server: subprocess.Popen) -> bool:
    assert server.poll() is None, "gunicorn exited"
    try:
        requests.get(f"{base}/healthz", timeout=10)
        return True
    except (requests.ConnectionError, requests.Timeout):  # still starting
        return False


def wait_for(check: Callable[[], object], *, timeout: float, what: str,
             every: float = 0.05) -> float:
    """Call ``check`` until it returns something true; seconds it took (fails at timeout)."""
    started = time.monotonic()
    for _ in range(int(timeout / every) + 1):
        if check():
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            break
        time.sleep(every)
    pytest.fail(f"{what}: not within {timeout} s")


def indexed_slugs(index_dir: str) -> set[str]:
    """The document keys in a host's index folder, read straight from its files (so no
    request reaches that host); empty while it is being created or swapped."""
    try:
        ix = FileIndex(FileStorage(index_dir, supports_mmap=False), indexname="MAIN")
        with ix.searcher() as searcher:
            return {fields["slug"] for fields in searcher.all_stored_fields()}
    except Exception:  # noqa: BLE001 - not there yet, or a commit removed a file mid-read
        return set()


def signed_in(base: str, username: str, password: str = "demo") -> requests.Session:
    """A browser-like session signed in through the real form (with its CSRF token)."""
    session = requests.Session()
    page = session.get(f"{base}/login", timeout=10)
    response = session.post(f"{base}/login", timeout=10, allow_redirects=False, data={
        "username": username, "password": password,
        "csrf_token": token(page.text)})
    assert response.status_code == 302, f"sign-in as {username} failed: {response.status_code}"
    return session


def token(page: str) -> str:
    """The CSRF token of the first form on a page."""
    match = CSRF_RE.search(page)
    assert match, "no csrf_token in the page"
    return match.group(1) or match.group(2)


def search_total(session: requests.Session, base: str, query: str) -> int:
    response = session.get(f"{base}/api/search", params={"q": query}, timeout=10)
    assert response.status_code == 200
    return response.json()["total"]


def publish(session: requests.Session, base: str, slug: str, markdown: str,
            new: bool = False) -> None:
    """What a manager does in the editor: open it, then press Publish."""
    url = f"{base}/publishing/articles/new" if new else f"{base}/publishing/articles/{slug}/edit"
    page = session.get(url, timeout=10)
    assert page.status_code == 200
    response = session.post(url, timeout=30, allow_redirects=False, data={
        "title": slug.replace("-", " ").capitalize(), "slug": slug, "category": "Repairs",
        "tags": "", "summary": f"Quick answer for {slug}.", "owner": "Repairs",
        "review_cycle_months": "12", "markdown": markdown, "change_summary": "From host A",
        "base_version": BASE_VERSION.search(page.text).group(1), "action": "publish",
        "csrf_token": token(page.text)})
    assert response.status_code == 302, response.text[:500]
    assert response.headers["Location"] == f"/articles/{slug}"


def archive(session: requests.Session, base: str, slug: str) -> None:
    """The manager's Archive button on the article page."""
    page = session.get(f"{base}/articles/{slug}", timeout=10)
    response = session.post(f"{base}/publishing/articles/{slug}/archive", timeout=30,
                            allow_redirects=False,
                            data={"csrf_token": token(page.text)})
    assert response.status_code == 302


@pytest.fixture
def two_hosts(tmp_path):
    """Hosts A and B (two gunicorn workers each) on one database, with one article."""
    (tmp_path / "articles").mkdir()
    write_article(tmp_path / "articles", "bins", title="Bin collections",
                  body="Bins go out on Tuesday.")
    app = build_app(tmp_path, seeded=True)
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
    assert app.test_cli_runner().invoke(args=["import-content"]).exit_code == 0
    envs = {}
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        envs[name] = instance_env(app, tmp_path / name)
        envs[name]["KB_INDEX_DIR"] = str(tmp_path / name / "index")
        # The setting's default, whatever the developer's environment says.
        envs[name].pop("KB_INDEX_FOLLOW_SECONDS", None)
    b_log = tmp_path / "b-access.log"
    with host(envs["a"]) as a, host(envs["b"], access_log=b_log) as b:
        yield a, b, envs["b"]["KB_INDEX_DIR"], b_log
    with app.app_context():
        db.engine.dispose()


def test_what_a_manager_publishes_on_one_host_is_found_on_the_other_within_2_seconds(
        two_hosts):
    a, b, b_index, b_log = two_hosts
    # B's workers fill their new index from the database on their own, with no search.
    wait_for(lambda: "bins" in indexed_slugs(b_index), timeout=15, what="B's first catch-up")
    manager = signed_in(a, "manager")
    agent_on_b = signed_in(b, "agent")

    publish(manager, a, "zebra-crossing", "Report a faded zebrafinch crossing.\n", new=True)
    lag = wait_for(lambda: "zebra-crossing" in indexed_slugs(b_index), timeout=10,
                   what="the new article in B's index")
    assert lag < LAG_LIMIT
    # Every request lands on one of B's two workers: each must answer with it.
    assert [search_total(agent_on_b, b, "zebrafinch") for _ in range(10)] == [1] * 10

    # A new version of an existing article: the number of articles does not change.
    publish(manager, a, "bins", "Bins go out on Tuesday; kingfisher bags on Friday.\n")
    lag = wait_for(lambda: search_total(agent_on_b, b, "kingfisher") == 1, timeout=10,
                   what="the edit in B's search")
    assert lag < LAG_LIMIT

    archive(manager, a, "zebra-crossing")
    lag = wait_for(lambda: "zebra-crossing" not in indexed_slugs(b_index), timeout=10,
                   what="the archived article leaving B's index")
    assert lag < LAG_LIMIT
    assert search_total(agent_on_b, b, "zebrafinch") == 0

    # B only answered: signing in is its one POST; the publishes reached it through the
    # database.
    posts = [line for line in b_log.read_text().splitlines() if '"POST ' in line]
    assert len(posts) == 1 and '"POST /login' in posts[0], posts

