"""Domain synonyms for search, read from a plain text file managers can edit."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

Terms = tuple[str, ...]


def parse_synonyms(text: str, normalise: Callable[[str], Terms]) -> dict[Terms, list[Terms]]:
    """Map each normalised term to the other terms of every group it appears in."""
    table: dict[Terms, list[Terms]] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        group: list[Terms] = []
        for raw in line.split(","):
            terms = normalise(raw)
            # A term made only of stop words (or punctuation) can never match anything.
            if terms and terms not in group:
                group.append(terms)
        if len(group) < 2:
            continue
        for terms in group:
            others = table.setdefault(terms, [])
            others.extend(t for t in group if t != terms and t not in others)
    return table


class Synonyms:
    """Synonym groups from a file, reloaded when the file changes (no reindex needed)."""

    def __init__(self, path: str | Path | None, normalise: Callable[[str], Terms]) -> None:
        self.path = Path(path) if path else None
        self._normalise = normalise
        self._table: dict[Terms, list[Terms]] = {}
        self._max_words = 1
        self._stamp: tuple[int, int] | None = None
        self._lock = threading.Lock()

    def lookup(self, terms: Terms) -> list[Terms]:
        """Other terms equivalent to ``terms`` (normalised stems), or an empty list."""
        return self._table.get(terms, [])

    @property
    def max_words(self) -> int:
        """Longest term (in words), so callers know how far to look ahead."""
        return self._max_words

    def refresh(self) -> None:
        """Reload the file if it changed; called once per search (a stat costs ~2 us)."""
        if self.path is None:
            return
        with self._lock:
            try:
                st = os.stat(self.path)
            except OSError:
                # A missing file means "no synonyms", not a broken search.
                self._table, self._stamp, self._max_words = {}, None, 1
                return
            stamp = (st.st_mtime_ns, st.st_size)
            if stamp == self._stamp:
                return
            try:
                text = self.path.read_text(encoding="utf-8", errors="replace")
            except OSError as exc:
                log.warning("Could not read synonyms file %s: %s", self.path, exc)
                return
            table = parse_synonyms(text, self._normalise)
            self._table = table
            self._max_words = max((len(t) for t in table), default=1)
            self._stamp = stamp
