"""What to offer when a search finds nothing: the categories and call scripts whose names
and tags come closest to the words typed, by partial and fuzzy matching of each word.

``closest`` is app-free (a unit test gives it candidates); ``empty_help`` gathers the
candidates from the search providers, so any kind of document registered with search is
offered without a change here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from flask import current_app

from kb.search import providers
from kb.search.synonyms import STOP_WORDS, stem

WORD_RE = re.compile(r"[a-z0-9]+")
# Words closer than this (difflib's ratio: 1.0 is the same word) count as a near miss.
FUZZY_RATIO = 0.75
MAX_CATEGORIES = 5
MAX_DOCUMENTS = 5
# Articles are what the search itself looked through; the help offers the other kinds.
SEARCHED_KIND = "article"


@dataclass(frozen=True)
class Candidate:
    """Something to offer: its kind ("category" or a document kind), name, link and the
    words it answers to (its name, tags and category)."""

    kind: str
    label: str
    url: str
    words: frozenset[str]


@dataclass
class EmptyHelp:
    """The offer for one query: the closest categories and documents, and whether any of
    them was actually close (otherwise they are simply a place to start)."""

    categories: list[Candidate] = field(default_factory=list)
    documents: list[Candidate] = field(default_factory=list)
    close: bool = False
    documents_label: str = "Call scripts"


def words_of(text: str) -> frozenset[str]:
    """The words of ``text`` worth matching: lower case, two letters or more, no stop words."""
    return frozenset(w for w in WORD_RE.findall(text.lower())
                     if len(w) >= 2 and w not in STOP_WORDS)


def closeness(typed: str, known: str) -> float:
    """How close a typed word is to a known one, from 0 (not at all) to 1 (the same)."""
    if typed == known or stem(typed) == stem(known):
        return 1.0
    shorter, longer = sorted((typed, known), key=len)
    if len(shorter) >= 3 and longer.startswith(shorter):
        return 0.8  # "safeg" for "safeguarding", "repairs" for "repair"
    if len(shorter) >= 4 and shorter in longer:
        return 0.6  # "guard" in "safeguarding"
    if min(len(typed), len(known)) >= 4:
        ratio = SequenceMatcher(None, typed, known).ratio()
        if ratio >= FUZZY_RATIO:
            return ratio * 0.9  # "complaynt" for "complaint"
    return 0.0


def score(typed: Iterable[str], candidate: Candidate) -> float:
    """The sum, over the typed words, of each one's best closeness to the candidate."""
    return sum(max((closeness(word, known) for known in candidate.words), default=0.0)
               for word in typed)


def closest(query: str, candidates: list[Candidate], limit: int) -> list[Candidate]:
    """The candidates that come close to the query, closest first (none when none does)."""
    typed = words_of(query)
    scored = [(score(typed, c), c) for c in candidates]
    return [c for s, c in sorted((p for p in scored if p[0] > 0),
                                 key=lambda p: (-p[0], p[1].label.lower()))][:limit]


def _candidates() -> tuple[list[Candidate], dict[str, list[Candidate]]]:
    """Every category (by article count, most first) and, per other kind of document,
    every current one; cached until the database's documents change."""
    cache = current_app.extensions.setdefault("kb_search_nearby", {})
    watermark = tuple((kind, *p.watermark()) for kind, p in providers.registered().items())
    if cache.get("watermark") == watermark:
        return cache["categories"], cache["documents"]
    counts: dict[str, int] = {}
    for provider in providers.registered().values():
        for name, count in getattr(provider, "categories", list)():
            counts[name] = counts.get(name, 0) + count
    categories = [Candidate("category", name, "", words_of(name))
                  for name, _n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    documents: dict[str, list[Candidate]] = {}
    for kind, provider in providers.registered().items():
        if kind == SEARCHED_KIND:
            continue
        documents[kind] = sorted(
            (Candidate(kind, doc.title, provider.url(doc.slug),
                       words_of(" ".join([doc.title, doc.category, *doc.tags])))
             for doc in provider.documents()),
            key=lambda c: c.label.lower(),
        )
    cache.update(watermark=watermark, categories=categories, documents=documents)
    return categories, documents


def empty_help(query: str, kind: str = "script") -> EmptyHelp:
    """The categories and documents of ``kind`` closest to ``query``; when nothing is
    close, the biggest categories and the first documents, as a place to start."""
    categories, documents = _candidates()
    docs = documents.get(kind, [])
    near_categories = closest(query, categories, MAX_CATEGORIES)
    near_documents = closest(query, docs, MAX_DOCUMENTS)
    label = providers.get(kind).label if kind in providers.kinds() else "Call scripts"
    if near_categories or near_documents:
        return EmptyHelp(near_categories, near_documents, close=True, documents_label=label)
    return EmptyHelp(categories[:MAX_CATEGORIES], docs[:MAX_DOCUMENTS], close=False,
                     documents_label=label)
