"""Search benchmark: build, raw query, HTTP latency and throughput, publish-to-searchable.

Not a test: it prints numbers. ``make bench`` or ``python bench/search.py --articles 10000``.
Everything happens in a temporary instance folder; gunicorn serves it on a free port.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.corpus import generate  # noqa: E402

# A fixed mixed list: single words, two words, phrases, misspellings, and prefixes typed
# letter by letter, the way the search box sends them while an agent types.
QUERIES = [
    "repair", "complaint", "arrears", "samaritans", "leaseholder", "voicemail",
    "emergency repair", "stage 2 complaint", "rent arrears", "hold etiquette",
    "water leak ceiling", "card payment", "housing officer appointment",
    '"working days"', '"out of hours"', '"anti-social behaviour"',
    "complant", "emergancy repiar", "samartians", "voicemial callback", "arreers",
    "r", "re", "rep", "repa", "repai", "repair", "repair t", "repair ti", "repair tim",
    "c", "co", "com", "comp", "compl", "complai", "complain",
    "ASB", "OOH", "fob", "self harm",
]


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def build_instance(instance: Path, n: int) -> dict:
    """Create the database with n synthetic articles and build the index; returns timings."""
    os.environ["KB_INSTANCE_DIR"] = str(instance)
    from flask_migrate import upgrade

    from kb import create_app
    from kb.articles.services import save_version
    from kb.auth.services import create_token, seed_demo_accounts
    from kb.content.loader import ParsedArticle
    from kb.extensions import db
    from kb.search.services import get_index, rebuild

    app = create_app("development", {"KB_ARTICLES_DIR": str(instance / "no-articles")})
    with app.app_context():
        upgrade(directory=str(ROOT / "kb" / "migrations"))
        seed_demo_accounts()
        started = time.perf_counter()
        for i, doc in enumerate(generate(n)):
            save_version(None, ParsedArticle(
                slug=doc.slug, title=doc.title, category=doc.category, summary=doc.summary,
                body=doc.body, path="", tags=list(doc.tags)))
            if i % 1000 == 999:
                db.session.commit()
        db.session.commit()
        load_s = time.perf_counter() - started
        started = time.perf_counter()
        count = rebuild()
        build_s = time.perf_counter() - started
        token = create_token("agent", "bench")
        db.session.commit()  # services flush; whoever calls them commits
        index = get_index()
        raw = []
        for _ in range(3):
            for query in QUERIES:
                t0 = time.perf_counter()
                index.search(query, limit=10)
                raw.append((time.perf_counter() - t0) * 1000)
    return {
        "documents": count,
        "load_s": load_s,
        "build_s": build_s,
        "index_mb": dir_size(Path(app.config["KB_INDEX_DIR"])) / 1e6,
        "raw": raw,
        "token": token,
        "db": app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"),
    }


class Client:
    """A keep-alive HTTP client for one thread."""

    def __init__(self, port: int, token: str):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str) -> tuple[int, dict]:
        self.conn.request("GET", path, headers=self.headers)
        response = self.conn.getresponse()
        body = response.read()
        return response.status, json.loads(body) if body else {}


def http_run(port: int, token: str, concurrency: int, rounds: int) -> tuple[list[float], float]:
    """Each thread sends the query list ``rounds`` times; returns latencies and req/s."""
    latencies: list[float] = []
    lock = threading.Lock()

    def worker(offset: int) -> None:
        client = Client(port, token)
        mine = []
        for r in range(rounds):
            for i in range(len(QUERIES)):
                query = QUERIES[(i + offset + r) % len(QUERIES)]
                t0 = time.perf_counter()
                status, _ = client.get("/api/search?" + urlencode({"q": query, "limit": 10}))
                mine.append((time.perf_counter() - t0) * 1000)
                assert status == 200, status
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(k * 7,)) for k in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, len(latencies) / (time.perf_counter() - started)


def worker_rss_mb(master_pid: int) -> list[float]:
    """Peak resident memory (VmHWM) of each gunicorn worker."""
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master_pid)],
                         capture_output=True, text=True).stdout.split()
    peaks = []
    for pid in out:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) / 1024)
    return peaks


def publish_to_searchable(instance: Path, port: int, token: str) -> tuple[float, float]:
    """Publish a new article from another process (the import command) and poll a search
    on the running server until it is found. Returns (seconds from starting the command,
    seconds from the command's exit) until the server's search finds the article."""
    word = f"zebrafinch{int(time.time())}"
    articles = instance / "publish"
    articles.mkdir(exist_ok=True)
    no_scripts = instance / "no-scripts"
    no_scripts.mkdir(exist_ok=True)
    (articles / "bench-publish.md").write_text(
        f"---\ntitle: Benchmark publish\ncategory: Call handling\n---\nThe {word} procedure.\n")
    env = dict(os.environ, KB_INSTANCE_DIR=str(instance))
    client = Client(port, token)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "flask", "--app", "kb", "import-content",
                    "--articles", str(articles), "--scripts", str(no_scripts)],
                   env=env, cwd=ROOT, check=True, capture_output=True)
    imported = time.perf_counter()
    while time.perf_counter() - imported < 10:
        _, data = client.get("/api/search?" + urlencode({"q": word}))
        if data.get("total"):
            seen = time.perf_counter()
            return seen - started, seen - imported
        time.sleep(0.01)
    return float("nan"), float("nan")


def fts5_floor(n: int) -> list[float]:
    """The same queries against SQLite FTS5 (porter, bm25) on the same corpus."""
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE docs USING fts5(title, summary, tags, body, "
                 "tokenize='porter')")
    conn.executemany("INSERT INTO docs VALUES (?, ?, ?, ?)",
                     ((d.title, d.summary, " ".join(d.tags), d.body) for d in generate(n)))
    times = []
    for _ in range(3):
        for query in QUERIES:
            words = [w for w in query.replace('"', " ").split() if w.isalnum()]
            if not words:
                continue
            expr = " OR ".join(f'"{w}"' for w in words[:-1])
            last = f'"{words[-1]}"*'
            expr = f"{expr} OR {last}" if expr else last
            t0 = time.perf_counter()
            conn.execute("SELECT rowid, bm25(docs, 3.0, 1.5, 2.0, 1.0), "
                         "snippet(docs, 3, '<mark>', '</mark>', '…', 24) FROM docs "
                         "WHERE docs MATCH ? ORDER BY bm25(docs, 3.0, 1.5, 2.0, 1.0) LIMIT 10",
                         (expr,)).fetchall()
            times.append((time.perf_counter() - t0) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5, help="passes over the query list")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="kb-bench-") as tmp:
        instance = Path(tmp)
        print(f"Generating {args.articles:,} articles and building the index…", flush=True)
        built = build_instance(instance, args.articles)
        port = free_port()
        env = dict(os.environ, KB_INSTANCE_DIR=str(instance), KB_ENV="development")
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(args.workers), "--bind",
             f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
            cwd=ROOT, env=env)
        try:
            for _ in range(200):
                try:
                    Client(port, built["token"]).get("/healthz")
                    break
                except OSError:
                    time.sleep(0.1)
            # Warm each worker (first request opens the searcher), not measured.
            http_run(port, built["token"], args.workers * 2, 1)
            c1, rps1 = http_run(port, built["token"], 1, args.rounds)
            c8, rps8 = http_run(port, built["token"], 8, args.rounds)
            publish_s = publish_to_searchable(instance, port, built["token"])
            rss = worker_rss_mb(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=10)
        fts = fts5_floor(args.articles)

    raw = built["raw"]
    rows = [
        ("articles", f"{built['documents']:,}"),
        ("database load (s)", f"{built['load_s']:.1f}"),
        ("index build (s)", f"{built['build_s']:.1f}"),
        ("index size (MB)", f"{built['index_mb']:.1f}"),
        ("raw index query p50 / p95 (ms)",
         f"{percentile(raw, 50):.1f} / {percentile(raw, 95):.1f}"),
        ("/api/search c=1 p50 / p95 (ms)", f"{percentile(c1, 50):.1f} / {percentile(c1, 95):.1f}"),
        ("/api/search c=1 requests/s", f"{rps1:.0f}"),
        ("/api/search c=8 p50 / p95 (ms)", f"{percentile(c8, 50):.1f} / {percentile(c8, 95):.1f}"),
        ("/api/search c=8 requests/s", f"{rps8:.0f}"),
        ("publish to searchable (s)",
         f"{publish_s[0]:.2f} incl. command start-up; {publish_s[1]:.3f} after it exits"),
        ("peak RSS per worker (MB)", ", ".join(f"{r:.0f}" for r in rss)),
        ("SQLite FTS5 floor p50 / p95 (ms)",
         f"{percentile(fts, 50):.2f} / {percentile(fts, 95):.2f}"),
        ("our /api/search p50 vs FTS5 p50", f"{percentile(c1, 50) / percentile(fts, 50):.1f}x"),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"\n{'measure'.ljust(width)}  value")
    print(f"{'-' * width}  -----")
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")
    print(f"\n{len(QUERIES)} queries x {args.rounds} rounds; machine: {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
