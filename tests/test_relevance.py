"""Relevance: MRR@10 and hit@3 over agent queries, through GET /api/search as the eval says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kb.search.synonyms import normalise_terms
from tests.conftest import ROOT, SHIPPED_ARTICLES

# The search engine and index, not SQL: run once, on SQLite.
pytestmark = pytest.mark.database_independent

SHARED_SET = ROOT.parent / "shared" / "eval" / "search-queries.tsv"
LOCAL_COPY = ROOT / "tests" / "data" / "search-queries.tsv"
OUR_SET = ROOT / "tests" / "data" / "more-queries.tsv"
CALLER_SET = ROOT / "tests" / "data" / "caller-queries.tsv"
# Each set on its own must reach these (issue 6): held-out sets are scored the same way.
MIN_MRR = 0.95
MIN_HIT3 = 0.98


def load(path: Path) -> list[tuple[str, list[str]]]:
    """(query, acceptable slugs) rows of a query file."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        query, slugs = line.split("\t")
        rows.append((query, [s.strip() for s in slugs.split(",")]))
    return rows


def sections(path: Path) -> dict[str, list[tuple[str, list[str]]]]:
    """Rows of a query file grouped by its "# section: NAME" comments."""
    out: dict[str, list[tuple[str, list[str]]]] = {}
    current = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if match := re.match(r"# section: (\w+)", line):
            current = match.group(1)
        elif line.strip() and not line.startswith("#"):
            query, slugs = line.split("\t")
            out.setdefault(current, []).append((query, [s.strip() for s in slugs.split(",")]))
    return out


def score(client, rows) -> tuple[float, float, list[str]]:
    """Mean reciprocal rank over the top 10, hit@3, and the misses for the message."""
    total_rr, hits3, misses = 0.0, 0, []
    for query, acceptable in rows:
        data = client.get("/api/search", query_string={"q": query, "limit": 10}).get_json()
        slugs = [r["slug"] for r in data["results"]]
        rank = next((i for i, s in enumerate(slugs, 1) if s in acceptable), None)
        total_rr += 1 / rank if rank else 0
        hits3 += bool(rank and rank <= 3)
        if rank != 1:
            misses.append(f"{query!r}: rank {rank}, got {slugs[:3]}")
    return total_rr / len(rows), hits3 / len(rows), misses


@pytest.mark.parametrize(
    "path",
    [SHARED_SET if SHARED_SET.exists() else LOCAL_COPY, OUR_SET, CALLER_SET],
    ids=["shared-set", "our-set", "caller-set"],
)
def test_relevance(agent_client, path):
    rows = load(path)
    mrr, hit3, misses = score(agent_client, rows)
    print(f"\n{path.name}: {len(rows)} queries, MRR@10 {mrr:.3f}, hit@3 {hit3:.3f}")
    assert mrr >= MIN_MRR, misses
    assert hit3 >= MIN_HIT3, misses


def title_stems(slug: str) -> set[str]:
    """Stems of an article's title, read from its file."""
    text = (SHIPPED_ARTICLES / f"{slug}.md").read_text(encoding="utf-8")
    title = re.search(r"^title: (.+)$", text, re.MULTILINE)
    assert title, slug
    return set(normalise_terms(title.group(1)))


def test_caller_set_is_what_the_issue_asks_for():
    """80+ queries: a quarter typos, a quarter paraphrases sharing no word with the title."""
    groups = sections(CALLER_SET)
    total = sum(len(rows) for rows in groups.values())
    assert total >= 80
    assert len(groups["typo"]) >= total / 4
    assert len(groups["paraphrase"]) >= total / 4
    assert len(groups["jargon"]) >= 20
    for query, slugs in groups["paraphrase"]:
        shared = set(normalise_terms(query)) & title_stems(slugs[0])
        assert not shared, f"{query!r} shares {shared} with the title of {slugs[0]}"
    # Every slug is a shipped article, and no query is in the other sets (kept separate).
    for query, slugs in load(CALLER_SET):
        assert all((SHIPPED_ARTICLES / f"{s}.md").exists() for s in slugs), query
    others = {q.lower() for path in (LOCAL_COPY, OUR_SET) for q, _ in load(path)}
    assert not others & {q.lower() for q, _ in load(CALLER_SET)}
