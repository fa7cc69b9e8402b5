"""Answering a search from an open index: plan the query, score, filter and build hits.

A mixin of SearchIndex (kb/search/engine.py), which owns opening, repair and writes.
"""

from __future__ import annotations

import time

from whoosh import query as wq
from whoosh.reading import IndexReader
from whoosh.searching import Searcher

from kb.search.documents import Hit, Results
from kb.search.query import (
    DocFrequencies,
    ParsedQuery,
    Plan,
    QueryPlanner,
    parse_query,
    suggestion_for,
)
from kb.search.scoring import Scorer
from kb.search.snippets import make_snippet

MAX_LIMIT = 100


class Searching:
    """The reading half of SearchIndex."""

    def search(
        self,
        query: str,
        *,
        category: str | None = None,
        kind: str | None = None,
        limit: int = 10,
    ) -> Results:
        """Search titles, tags, summaries and bodies; never raises on odd input."""
        started = time.perf_counter()
        parsed = parse_query(query)
        hits: list[Hit] = []
        total, suggestion = 0, None
        if parsed.words or parsed.phrases:
            self.synonyms.refresh()
            with self._lock:
                for attempt in range(2):
                    try:
                        searcher = self._current()
                        plan = self._plan(searcher, parsed)
                        suggestion = suggestion_for(parsed, plan)
                        if not plan.is_empty():
                            limit = min(max(1, limit), MAX_LIMIT)
                            total, hits = self._run(searcher, plan, category, kind, limit)
                        break
                    except Exception as exc:  # noqa: BLE001 - a search box must never 500
                        hits, total, suggestion = [], 0, None
                        # Retry once only if the index reopened cleanly (a passing race).
                        if attempt or not self._failed(exc):
                            break
        took = (time.perf_counter() - started) * 1000
        return Results(query, total, hits, suggestion, took)

    def suggest(self, query: str) -> str | None:
        """A corrected query ("did you mean") built from the index vocabulary, or None."""
        parsed = parse_query(query)
        if not parsed.words and not parsed.phrases:
            return None
        self.synonyms.refresh()
        with self._lock:
            try:
                return suggestion_for(parsed, self._plan(self._current(), parsed))
            except Exception as exc:  # noqa: BLE001
                self._failed(exc)
                return None

    def _plan(self, searcher: Searcher, parsed: ParsedQuery) -> Plan:
        reader = searcher.reader()
        self._spelling.sync(reader)
        self._lengths.sync(reader)
        planner = QueryPlanner(
            reader, self._spelling, self.synonyms, self._doc_frequencies(reader)
        )
        return planner.plan(parsed)

    def _doc_frequencies(self, reader: IndexReader) -> DocFrequencies:
        """Remembered term counts for this reader (a new searcher starts afresh)."""
        if self._df is None or self._df.reader is not reader:
            self._df = DocFrequencies(reader)
        return self._df

    def _filter(self, searcher: Searcher, name: str, value: str) -> set[int]:
        key = (name, value)
        if key not in self._filters:  # cleared whenever the searcher is replaced
            self._filters[key] = set(searcher.docs_for_query(wq.Term(name, value)))
        return self._filters[key]

    def _run(
        self, searcher: Searcher, plan: Plan, category: str | None, kind: str | None, limit: int
    ) -> tuple[int, list[Hit]]:
        allowed: set[int] | None = None
        for name, value in (("category", category), ("kind", kind)):
            if value:
                docs = self._filter(searcher, name, value)
                allowed = docs if allowed is None else allowed & docs
        if allowed is not None and not allowed:
            return 0, []
        scorer = Scorer(searcher, self._lengths, self._doc_frequencies(searcher.reader()))
        total, top = scorer.run(plan, allowed, limit)
        highlight = plan.highlight()
        hits = []
        for score, docnum in top:
            stored = searcher.stored_fields(docnum)
            body, summary = stored.get("body", ""), stored.get("summary", "")
            hits.append(
                Hit(
                    slug=stored["slug"],
                    kind=stored.get("kind", ""),
                    title=stored.get("title", ""),
                    summary=summary,
                    category=stored.get("category", ""),
                    snippet=make_snippet(body, summary, highlight),
                    score=round(score, 4),
                )
            )
        return total, hits

    def categories(self) -> list[str]:
        """Categories of the documents currently indexed, sorted."""
        with self._lock:
            try:
                searcher = self._current()
            except Exception as exc:  # noqa: BLE001
                self._failed(exc)
                return []
            found = []
            for btext in searcher.reader().lexicon("category"):
                value = btext.decode("utf-8")
                if searcher.document_number(category=value) is not None:  # skips deleted
                    found.append(value)
            return sorted(found, key=str.lower)
