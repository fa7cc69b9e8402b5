"""Words: how text becomes terms, which terms are equivalent, and how to spell them."""

from __future__ import annotations

import logging
import os
import re
import threading
from functools import lru_cache
from pathlib import Path

from whoosh.analysis import BiWordFilter, StandardAnalyzer, StemmingAnalyzer
from whoosh.lang.porter import stem as porter_stem
from whoosh.reading import IndexReader

from kb.search.edits import edit_distance, one_edit

log = logging.getLogger(__name__)

Terms = tuple[str, ...]

# Words like "not", "no", "out", "off", "over", "up", "hold", "back" and single
# digits ("stage 2") carry meaning on a call, so the list is deliberately short:
# only words that never narrow a contact-centre search. "s"/"t" are the tails of
# "tenant's" and "can't" after tokenising.
STOP_WORDS = frozenset(
    "a an and are as at be been but by can could did do does for from had has have"
    " how i if in into is it its me my of on or our s so t than that the their them"
    " then there these they this those to was we were what when where which who"
    " why will with would you your".split()
)
# Same tokens as whoosh's default pattern, minus "*" (wildcards are not syntax here).
TOKEN_PATTERN = r"\w+(?:\.\w+)*"
TOKEN_RE = re.compile(TOKEN_PATTERN)
MAX_WORD_CHARS = 40
PAIR_SEP = " "


def text_analyzer():
    """Analyzer for the searchable text fields: whoosh's stemming analyzer, short stop list."""
    # minsize=1 keeps digits ("stage 2") and single letters ("band d").
    return StemmingAnalyzer(TOKEN_PATTERN, stoplist=STOP_WORDS, minsize=1, maxsize=MAX_WORD_CHARS)


def pair_analyzer():
    """Analyzer for shingle fields: neighbouring stems joined ("work day") for phrases."""
    return text_analyzer() | BiWordFilter(sep=PAIR_SEP)


def word_analyzer():
    """Analyzer for the unstemmed vocabulary field used for prefixes and spelling."""
    return StandardAnalyzer(TOKEN_PATTERN, stoplist=STOP_WORDS, minsize=1, maxsize=MAX_WORD_CHARS)


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Porter stem of a lower-case word (the same function the index uses)."""
    return porter_stem(word)


def words_of(text: str) -> list[str]:
    """Lower-case, non-stop tokens of ``text``, as the index sees them before stemming."""
    words = (m.group().lower() for m in TOKEN_RE.finditer(text))
    return [w for w in words if w not in STOP_WORDS and len(w) <= MAX_WORD_CHARS]


def normalise_terms(text: str) -> Terms:
    """Stems of ``text`` as a tuple: the key used for synonym lookup."""
    return tuple(stem(w) for w in words_of(text))


# ----- synonyms -------------------------------------------------------------------


def _forms(raw: str) -> tuple[Terms, Terms | None]:
    """(how a term is matched in a query, how it is searched for or None) for one term.

    Stop words count when matching ("packed in", "when do you shut"), since the index has
    none they are left out when searching. A term that is one word plus stop words, or has
    several stop words, is only recognised in queries: "packed in" searched as "pack", or
    "what time do you close" as "time close", would find the wrong things.
    """
    words = [m.group().lower() for m in TOKEN_RE.finditer(raw)]
    words = [w for w in words if len(w) <= MAX_WORD_CHARS]
    typed = tuple(stem(w) for w in words)
    content = tuple(stem(w) for w in words if w not in STOP_WORDS)
    stops = len(typed) - len(content)
    searchable = bool(content) and (stops == 0 or (stops == 1 and len(content) >= 2))
    return typed, content if searchable else None


def parse_synonyms(text: str) -> dict[Terms, list[Terms]]:
    """Map each normalised term to the other terms of every group it appears in."""
    # Keys are what a query may contain (as typed, and without its stop words when that
    # is still a phrase); values are what to search for instead.
    table: dict[Terms, list[Terms]] = {}
    for line in text.splitlines():
        group: list[tuple[Terms, Terms | None]] = []
        for raw in line.split("#", 1)[0].split(","):
            typed, searched = _forms(raw)
            # A term made only of stop words (or punctuation) can never match anything.
            if normalise_terms(raw) and (typed, searched) not in group:
                group.append((typed, searched))
        if len(group) < 2:
            continue
        for typed, searched in group:
            others = [s for _, s in group if s is not None and s != searched]
            for key in {typed, searched} - {None}:
                entry = table.setdefault(key, [])
                entry.extend(t for t in others if t != key and t not in entry)
                if not entry:
                    del table[key]
    return table


class Synonyms:
    """Synonym groups from a file (reloaded when it changes) or from text (use_text)."""

    def __init__(self, path: str | Path | None) -> None:
        self.path = Path(path) if path else None
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

    def use_text(self, text: str) -> None:
        """Use these groups from now on (text kept in the database), not the file."""
        table = parse_synonyms(text)
        with self._lock:
            self.path = None  # the database owns the synonyms now; stop watching the file
            self._table = table
            self._max_words = max((len(t) for t in table), default=1)
            self._stamp = None

    def refresh(self) -> None:
        """Reload the file if it changed; called once per search (a stat costs ~2 us)."""
        if self.path is None:
            return
        with self._lock:
            if self.path is None:  # use_text ran meanwhile
                return
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
            self._table = parse_synonyms(text)
            self._max_words = max((len(t) for t in self._table), default=1)
            self._stamp = stamp


# ----- spelling -------------------------------------------------------------------


def max_edits(word: str) -> int:
    """Typos tolerated in a word: none when short (too many false friends), two when long."""
    if len(word) < 4 or not word.isalpha():
        return 0
    return 1 if len(word) < 9 else 2


class Spelling:
    """Indexed words bucketed by first letters and length, cached per index segment."""

    # Segments never change once written, so a commit only costs reading the new
    # (usually tiny) segment's lexicon; a big merged segment is read once per process.

    def __init__(self, fieldname: str = "words") -> None:
        self.fieldname = fieldname
        self._buckets: dict[str, dict[tuple[str, int], list[str]]] = {}
        self._live: list[tuple[str, IndexReader]] = []

    def sync(self, reader: IndexReader) -> None:
        """Follow the reader's segments, forgetting merged-away ones."""
        self._live = [
            (leaf.segment().segment_id(), leaf)
            for leaf, _offset in reader.leaf_readers()
            if leaf.segment() is not None
        ]
        live = {segid for segid, _ in self._live}
        self._buckets = {k: v for k, v in self._buckets.items() if k in live}

    def near(self, word: str, maxdist: int) -> dict[str, int]:
        """Indexed words one edit from ``word``, else two; they share its first letter(s)."""
        # Buckets keep this to a few hundred cheap comparisons, where whoosh's FuzzyTerm
        # walks the lexicon (~0.1-1 s at 10,000 documents).
        found = {c: 1 for c in self._candidates(word, 1) if one_edit(word, c)}
        if not found and maxdist >= 2:
            found = {c: 2 for c in self._candidates(word, 2) if edit_distance(word, c, 2) <= 2}
        return found

    def _candidates(self, word: str, dist: int) -> set[str]:
        """Words sharing the first ``dist`` letters, within ``dist`` of the length."""
        out: set[str] = set()
        head, size = word[:dist], len(word)
        for segid, leaf in self._live:
            buckets = self._buckets.get(segid)
            if buckets is None:
                buckets = self._buckets[segid] = {}
                for btext in leaf.lexicon(self.fieldname):
                    w = btext.decode("utf-8")
                    if w.isalpha():
                        buckets.setdefault((w[:1], len(w)), []).append(w)
                        buckets.setdefault((w[:2], len(w)), []).append(w)
            for length in range(size - dist, size + dist + 1):
                out.update(buckets.get((head, length), ()))
        out.discard(word)
        return out
