"""Relevance: MRR and hit@3 over agent queries, through GET /api/search as the eval says."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT

SHARED_SET = ROOT.parent / "shared" / "eval" / "search-queries.tsv"
LOCAL_COPY = ROOT / "tests" / "data" / "search-queries.tsv"
OUR_SET = ROOT / "tests" / "data" / "more-queries.tsv"


def load(path: Path) -> list[tuple[str, list[str]]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        query, slugs = line.split("\t")
        rows.append((query, [s.strip() for s in slugs.split(",")]))
    return rows


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


@pytest.mark.parametrize("path", [SHARED_SET if SHARED_SET.exists() else LOCAL_COPY, OUR_SET],
                         ids=["shared-set", "our-set"])
def test_relevance(agent_client, path):
    rows = load(path)
    mrr, hit3, misses = score(agent_client, rows)
    print(f"\n{path.name}: {len(rows)} queries, MRR {mrr:.3f}, hit@3 {hit3:.3f}")
    assert mrr >= 0.90, misses
    assert hit3 >= 0.95, misses
