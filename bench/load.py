"""Bounded loopback load: signed-in agents searching, reading, walking scripts and posting
crisis incident records against real gunicorn (2 workers) on a temporary instance.

Not a test: it prints numbers and exits (1 if any request failed or any incident record
is missing or duplicated). ``python bench/load.py`` (60 s, 32 concurrent clients) or
``python bench/load.py --seconds 10 --concurrency 8``.

``--hosts 2``: two gunicorn instances, each with its own index folder, on one PostgreSQL
database, behind a round-robin proxy (bench/proxy.py); a manager publishes on the first
host during the load, and the lag until the second host's search finds it is reported.
The database: a new one on the server of KB_TEST_DATABASE_URL (``eval "$(.ci/postgres
start)"``), dropped afterwards, or ``--database-url`` (an empty database of your own).
"""

from __future__ import annotations

import argparse
import html
import json
import os
import random
import re
import shutil
import socket
import statistics
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
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from http.cookiejar import CookieJar
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from proxy import RoundRobinProxy  # noqa: E402 - bench/ is not a package

ROOT = Path(__file__).resolve().parent.parent
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                  r'name="csrf_token" value="([^"]+)"')
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


def csrf(page: str) -> str:
    """The CSRF token of the first form on a page ("" if none)."""
    match = CSRF.search(page)
    return (match.group(1) or match.group(2)) if match else ""


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
        status, _body, _ = self.request("/login", {"username": username, "password": "demo",
                                                   "csrf_token": csrf(page)})
        if status != 302:
            raise RuntimeError(f"sign-in failed with {status}")


def flask(env: dict, *args: str) -> str:
    """Run ``flask --app kb ARGS`` for the instance in ``env``; its output."""
    return subprocess.run([sys.executable, "-m", "flask", "--app", "kb", *args], cwd=ROOT,
                          env=env, check=True, capture_output=True, text=True).stdout


def prepare(instance: Path, database_url: str) -> dict:
    """An instance with the shipped content and demo accounts; returns its env."""
    shutil.copytree(ROOT / "articles", instance / "articles")
    shutil.copytree(ROOT / "scripts", instance / "scripts")
    env = dict(os.environ, KB_ENV="development", KB_INSTANCE_DIR=str(instance),
               KB_SECRET_KEY=uuid.uuid4().hex * 2,  # one key for every host
               KB_DATABASE_URL=database_url,
               KB_INDEX_DIR=str(instance / "index"),
               KB_ARTICLES_DIR=str(instance / "articles"),
               KB_SCRIPTS_DIR=str(instance / "scripts"),
               # Every client signs in from 127.0.0.1: the per-address limit would stop them.
               KB_LOGIN_RATE_LIMIT="10000 per minute")
    for args in (["db", "upgrade"], ["import-content"], ["seed-demo"]):
        flask(env, *args)
    return env


@contextmanager
def postgres_database(given: str | None) -> Iterator[str]:
    """The database for several hosts: ``given`` as it is, or a new one on the server of
    KB_TEST_DATABASE_URL, dropped afterwards."""
    if given:
        yield given
        return
    server = os.environ.get("KB_TEST_DATABASE_URL")
    if not server:
        raise SystemExit("--hosts 2 needs PostgreSQL: eval \"$(.ci/postgres start)\" first, "
                         "or give --database-url")
    name = f"kb_load_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(server).set(database=name).render_as_string(
            hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def gunicorn(env: dict, workers: int) -> Iterator[str]:
    """gunicorn serving ``env``'s instance on a free loopback port; yields its base URL."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind",
         f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=10)
                break
            except urllib.error.HTTPError:
                break  # it answers
            except OSError:
                if server.poll() is not None:
                    raise SystemExit(f"gunicorn on port {port} exited") from None
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def wait_until_indexed(base: str, timeout: float = 300.0) -> None:
    """Wait until the host's /healthz says its index holds every document (a new host
    fills its own index from the database in the background first)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=30) as response:
                if json.loads(response.read()).get("index", {}).get("status") == "ok":
                    return
        except (OSError, ValueError):
            pass  # not answering yet, or 503 while the index is behind
        time.sleep(0.5)
    raise SystemExit(f"{base}: the index did not catch up within {timeout:.0f} s")


def publish_lags(first: str, second: str, count: int, started: float,
                 deadline: float) -> list[float]:
    """Publish ``count`` new articles as a manager on host ``first``, spread evenly over
    the load; for each, seconds from the publish answering until ``second``'s search finds
    it (polled every 20 ms; inf if not within 10 s). Publishes nothing after ``deadline``."""
    manager, agent = Agent(first), Agent(second)
    manager.sign_in("manager")
    agent.sign_in("agent")
    spacing = (deadline - started) / (count + 1)
    lags: list[float] = []
    for number in range(count):
        wait = started + spacing * (number + 1) - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        if time.monotonic() > deadline:
            break
        word = f"lagprobe{uuid.uuid4().hex[:10]}"
        slug = f"lag-probe-{number}-{word[-6:]}"
        _status, page, _ = manager.request("/publishing/articles/new")
        status, _body, _ = manager.request("/publishing/articles/new", {
            "title": f"Lag probe {number}", "slug": slug, "category": "Load test",
            "tags": "", "summary": "Published by bench/load.py.", "owner": "Bench",
            "review_cycle_months": "12", "markdown": f"The {word} procedure.\n",
            "change_summary": "Lag probe", "base_version": "0", "action": "publish",
            "csrf_token": csrf(page)})
        published = time.monotonic()
        if status != 302:
            raise RuntimeError(f"publishing on {first} answered {status}")
        lag = float("inf")
        for _ in range(500):
            _status, body, _ = agent.request(f"/api/search?q={word}&source=typeahead")
            if f'"{slug}"' in body:
                lag = time.monotonic() - published
                break
            if time.monotonic() - published > 10:
                break
            time.sleep(0.02)
        lags.append(lag)
    return lags


def main() -> int:
    """Run the load and print the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--hosts", type=int, default=1,
                        help="gunicorn instances behind a round-robin proxy (2 or more: "
                        "PostgreSQL, each host with its own index folder)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per host")
    parser.add_argument("--publishes", type=int, default=5,
                        help="lag probes published during the load (--hosts 2 or more)")
    parser.add_argument("--database-url", default=None,
                        help="an empty PostgreSQL database for --hosts 2 (default: a new "
                        "one on the server of KB_TEST_DATABASE_URL)")
    args = parser.parse_args()
    if args.hosts < 1 or args.workers < 1 or args.concurrency < 1:
        parser.error("--hosts, --workers and --concurrency must be at least 1")

    instance = Path(tempfile.mkdtemp(prefix="kb-load-"))
    try:
        with ExitStack() as stack:
            if args.hosts == 1:
                database_url = f"sqlite:///{instance / 'kb.sqlite'}"
            else:
                database_url = stack.enter_context(postgres_database(args.database_url))
            env = prepare(instance, database_url)
            bases = []
            for number in range(args.hosts):
                # The first host keeps the index the import built; each other host
                # starts with an empty folder of its own and fills it from the database.
                folder = instance / ("index" if number == 0 else f"index-{number}")
                host_env = dict(env, KB_INDEX_DIR=str(folder))
                bases.append(stack.enter_context(gunicorn(host_env, args.workers)))
            for host in bases:
                wait_until_indexed(host)
            if args.hosts == 1:
                base = bases[0]
            else:
                proxy = stack.enter_context(RoundRobinProxy(bases))
                base = proxy.url
            return run_load(args, instance, database_url, base, bases)
    finally:
        shutil.rmtree(instance, ignore_errors=True)


def run_load(args, instance: Path, database_url: str, base: str, bases: list[str]) -> int:
    """The load itself, through ``base``; prints the numbers; the exit code."""
    slugs = sorted(p.stem for p in (instance / "articles").glob("*.md"))
    scripts = sorted(p.stem for p in (instance / "scripts").glob("*.md")
                     if p.name != "README.md")
    timings: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    posted: list[str] = []
    lags: list[float] = []
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
                marker = f"load-{uuid.uuid4().hex}"
                status, _body = timed("incident post", agent, "/crisis/incidents/new", {
                    "csrf_token": csrf(page),
                    "occurred_at": "2026-11-02T10:00",
                    "what_was_said": f"Load test record {marker}.",
                    "emergency_services_called": "no",
                }, expect=302)
                if status == 302:
                    with lock:
                        posted.append(marker)

    def prober() -> None:
        try:
            lags.extend(publish_lags(bases[0], bases[1], args.publishes,
                                     deadline - args.seconds, deadline))
        except Exception as error:  # noqa: BLE001 - reported with the other errors
            with lock:
                errors.append(f"lag probe: {type(error).__name__}: {error}")

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(args.concurrency)]
    if len(bases) > 1 and args.publishes > 0:
        threads.append(threading.Thread(target=prober))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started

    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        stored = list(connection.execute(sa.text(
            "SELECT what_was_said FROM crisis_incidents WHERE what_was_said LIKE "
            "'Load test record load-%'")).scalars())
    engine.dispose()
    counts: dict[str, int] = defaultdict(int)
    for text in stored:
        counts[text.removeprefix("Load test record ").rstrip(".")] += 1
    missing = [m for m in posted if counts.get(m, 0) == 0]
    duplicated = [m for m, n in counts.items() if n > 1]
    unexpected = [m for m in counts if m not in set(posted)]

    every = [ms for values in timings.values() for ms in values]
    if len(bases) == 1:
        print(f"{args.concurrency} clients for {elapsed:.1f} s against gunicorn "
              f"({args.workers} workers)")
    else:
        print(f"{args.concurrency} clients for {elapsed:.1f} s against {len(bases)} gunicorn "
              f"hosts ({args.workers} workers each, own index folders) on one PostgreSQL, "
              "through a round-robin proxy")
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
    late = [lag for lag in lags if lag == float("inf")]
    if len(bases) > 1:
        found = [lag for lag in lags if lag != float("inf")]
        if found:
            print(f"publish on host 1 -> found by host 2's search: {len(lags)} publishes, "
                  f"median {statistics.median(found):.2f} s, max {max(found):.2f} s, "
                  f"not found within 10 s: {len(late)}")
        else:
            print(f"publish-to-search lag: no probe found ({len(lags)} published)")
    for error in errors[:10]:
        print(f"  error: {error}")
    return 1 if errors or missing or duplicated or unexpected or late else 0


if __name__ == "__main__":
    sys.exit(main())
