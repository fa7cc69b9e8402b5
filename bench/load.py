"""Bounded loopback load: signed-in agents searching, reading, walking scripts and posting
crisis incident records against real gunicorn (2 workers) on a temporary instance.

Not a test: it prints numbers and exits (1 if any request failed or any incident record
is missing or duplicated). ``python bench/load.py`` (60 s, 32 concurrent clients) or
``python bench/load.py --seconds 10 --concurrency 8``.
"""

from __future__ import annotations

import argparse
import html
import os
import random
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import defaultdict
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
QUERIES = ["repair", "leak", "complaint", "arrears", "samaritans", "fob", "ASB", "OOH",
           "emergancy repiar", "hold", "voicemail", "rep", "compl", '"working days"']
# Share of each action in the mix (a contact centre mostly searches and reads).
MIX = [("search", 50), ("article", 25), ("script", 15), ("incident", 10)]


def percentile(values: list[float], pct: float) -> float:
    """The pct-th percentile of values (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))]


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Report redirects instead of following them, so each request is measured alone."""

    def redirect_request(self, *args, **kwargs):  # noqa: D102 - urllib API
        return None


class Agent:
    """One signed-in browser: its own cookies and CSRF tokens."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(CookieJar()), NoRedirect())

    def request(self, path: str, data: dict | None = None) -> tuple[int, str, str]:
        """(status, body, Location) for one GET or form POST."""
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(self.base + path, data=body, timeout=30) as response:
                return response.status, response.read().decode(), ""
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace"), \
                error.headers.get("Location", "")

    def sign_in(self, username: str) -> None:
        """Sign in through the real form with its CSRF token."""
        _status, page, _ = self.request("/login")
        token = CSRF.search(page).group(1)
        status, _body, _ = self.request("/login", {"username": username, "password": "demo",
                                                   "csrf_token": token})
        if status != 302:
            raise RuntimeError(f"sign-in failed with {status}")


def prepare(instance: Path) -> dict:
    """A temporary instance with the shipped content and demo accounts; returns its env."""
    shutil.copytree(ROOT / "articles", instance / "articles")
    shutil.copytree(ROOT / "scripts", instance / "scripts")
    env = dict(os.environ, KB_ENV="development", KB_INSTANCE_DIR=str(instance),
               KB_DATABASE_URL=f"sqlite:///{instance / 'kb.sqlite'}",
               KB_INDEX_DIR=str(instance / "index"),
               KB_ARTICLES_DIR=str(instance / "articles"),
               KB_SCRIPTS_DIR=str(instance / "scripts"),
               # Every client signs in from 127.0.0.1: the per-address limit would stop them.
               KB_LOGIN_RATE_LIMIT="10000 per minute")
    for args in (["db", "upgrade"], ["import-content"], ["seed-demo"]):
        subprocess.run([sys.executable, "-m", "flask", "--app", "kb", *args], cwd=ROOT,
                       env=env, check=True, capture_output=True)
    return env


def main() -> int:
    """Run the load and print the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()

    instance = Path(tempfile.mkdtemp(prefix="kb-load-"))
    server = None
    try:
        env = prepare(instance)
        slugs = sorted(p.stem for p in (instance / "articles").glob("*.md"))
        scripts = sorted(p.stem for p in (instance / "scripts").glob("*.md")
                         if p.name != "README.md")
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind",
             f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
            cwd=ROOT, env=env)
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2)
                break
            except OSError:
                time.sleep(0.1)
        timings: dict[str, list[float]] = defaultdict(list)
        errors: list[str] = []
        posted: list[str] = []
        lock = threading.Lock()
        deadline = time.monotonic() + args.seconds
        kinds = [kind for kind, weight in MIX for _ in range(weight)]

        def timed(kind: str, agent: Agent, path: str, data: dict | None = None,
                  expect: int = 200) -> tuple[int, str]:
            started = time.perf_counter()
            status, body, _location = agent.request(path, data)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                timings[kind].append(elapsed)
                if status != expect:
                    errors.append(f"{kind} {path}: {status}")
            return status, body

        def client(number: int) -> None:
            agent = Agent(base)
            agent.sign_in("manager" if number % 8 == 0 else "agent")
            rng = random.Random(number)
            while time.monotonic() < deadline:
                kind = rng.choice(kinds)
                if kind == "search":
                    query = urllib.parse.quote(rng.choice(QUERIES))
                    timed(kind, agent, f"/api/search?q={query}&source=typeahead")
                elif kind == "article":
                    timed(kind, agent, f"/articles/{rng.choice(slugs)}")
                elif kind == "script":
                    slug = rng.choice(scripts)
                    _status, page = timed(kind, agent, f"/scripts/{slug}/")
                    step = re.search(rf'href="(/scripts/{re.escape(slug)}/[^"#]+)"', page)
                    if step:
                        timed(kind, agent, html.unescape(step.group(1)))
                else:
                    _status, page = timed("incident form", agent, "/crisis/incidents/new")
                    token = CSRF.search(page)
                    marker = f"load-{uuid.uuid4().hex}"
                    status, _body = timed("incident post", agent, "/crisis/incidents/new", {
                        "csrf_token": token.group(1) if token else "",
                        "occurred_at": "2026-11-02T10:00",
                        "what_was_said": f"Load test record {marker}.",
                        "emergency_services_called": "no",
                    }, expect=302)
                    if status == 302:
                        with lock:
                            posted.append(marker)

        started = time.monotonic()
        threads = [threading.Thread(target=client, args=(n,)) for n in range(args.concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started

        with sqlite3.connect(instance / "kb.sqlite") as conn:
            stored = [row[0] for row in conn.execute(
                "SELECT what_was_said FROM crisis_incidents WHERE what_was_said LIKE "
                "'Load test record load-%'")]
        counts: dict[str, int] = defaultdict(int)
        for text in stored:
            counts[text.removeprefix("Load test record ").rstrip(".")] += 1
        missing = [m for m in posted if counts.get(m, 0) == 0]
        duplicated = [m for m, n in counts.items() if n > 1]
        unexpected = [m for m in counts if m not in set(posted)]

        every = [ms for values in timings.values() for ms in values]
        print(f"{args.concurrency} clients for {elapsed:.1f} s against gunicorn (2 workers)")
        print(f"requests: {len(every)}  errors: {len(errors)}  "
              f"throughput: {len(every) / elapsed:.0f} requests/s")
        print(f"all requests  p50 {percentile(every, 50):7.1f} ms  "
              f"p95 {percentile(every, 95):7.1f} ms  p99 {percentile(every, 99):7.1f} ms")
        for kind in sorted(timings):
            values = timings[kind]
            print(f"{kind:14s} {len(values):6d}  p50 {percentile(values, 50):7.1f} ms  "
                  f"p95 {percentile(values, 95):7.1f} ms  p99 {percentile(values, 99):7.1f} ms")
        print(f"incidents posted: {len(posted)}  stored exactly once: "
              f"{len(posted) - len(missing) - len(duplicated)}  missing: {len(missing)}  "
              f"duplicated: {len(duplicated)}  not posted by us: {len(unexpected)}")
        for error in errors[:10]:
            print(f"  error: {error}")
        return 1 if errors or missing or duplicated or unexpected else 0
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
