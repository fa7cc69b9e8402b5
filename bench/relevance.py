"""Relevance report: MRR@10 and hit@3 per query set on the shipped content, with the misses.

Not a test (``tests/test_relevance.py`` asserts the targets): it prints every query that
does not rank an acceptable article first, to see what a change did.
``python bench/relevance.py [-v]``. Builds a temporary instance; touches nothing else.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SETS = {
    "shared": ROOT.parent / "shared" / "eval" / "search-queries.tsv",
    "more": ROOT / "tests" / "data" / "more-queries.tsv",
    "caller": ROOT / "tests" / "data" / "caller-queries.tsv",
    "dev": ROOT / "tests" / "data" / "dev-queries.tsv",
}


def load(path: Path) -> list[tuple[str, list[str]]]:
    """(query, acceptable slugs) rows of a query file; comments and blanks skipped."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            query, slugs = line.split("\t")
            rows.append((query, [s.strip() for s in slugs.split(",")]))
    return rows


def main() -> None:
    """Build a temporary instance with the shipped content and score each query set."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="print hits too")
    parser.add_argument("files", nargs="*", type=Path, help="query files (default: all sets)")
    args = parser.parse_args()
    files = {p.stem: p for p in args.files} or {
        k: (p if p.exists() else ROOT / "tests" / "data" / "search-queries.tsv")
        for k, p in SETS.items()
    }
    with tempfile.TemporaryDirectory(prefix="kb-relevance-") as tmp:
        os.environ["KB_INSTANCE_DIR"] = tmp
        from flask_migrate import upgrade

        from kb import create_app
        from kb.articles.services import import_articles
        from kb.callscripts.services import import_scripts
        from kb.extensions import db
        from kb.search.services import run_search, sync_index

        app = create_app("testing", {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/kb.sqlite",
            "KB_INDEX_DIR": f"{tmp}/index",
        })
        with app.app_context():
            upgrade(directory=str(ROOT / "kb" / "migrations"))
            import_articles(ROOT / "articles")
            import_scripts(ROOT / "scripts")
            db.session.commit()  # as import-content does: commit, then bring the index in step
            sync_index()
            for name, path in files.items():
                rows = load(path)
                rr = hit3 = 0.0
                for query, acceptable in rows:
                    results = run_search(query, limit=10, source="bench")
                    slugs = [h.slug for h in results.hits]
                    rank = next((i for i, s in enumerate(slugs, 1) if s in acceptable), None)
                    rr += 1 / rank if rank else 0
                    hit3 += bool(rank and rank <= 3)
                    if rank != 1 or args.verbose:
                        hint = results.suggestion and f"  (did you mean {results.suggestion})"
                        print(f"  {name}: {query!r} rank {rank} -> {slugs[:3]}{hint or ''}")
                print(f"{name}: {len(rows)} queries, MRR@10 {rr / len(rows):.3f}, "
                      f"hit@3 {hit3 / len(rows):.3f}")


if __name__ == "__main__":
    main()
