"""BM25 scoring of a query plan, term-at-a-time over whole posting lists."""

from __future__ import annotations

import heapq
import math

from whoosh.reading import IndexReader
from whoosh.searching import Searcher

from kb.search.query import (
    PAIR_FIELDS,
    TIE_BREAK,
    WORD_FIELDS,
    Alternative,
    Clause,
    DocFrequencies,
    Plan,
)
from kb.search.synonyms import PAIR_SEP
from kb.search.whoosh_internals import byte_to_length, length_column, postings

K1 = 1.2
# Aboutness: a document whose title, tags or quick answer carry the query's words (or
# what they stand for) is about them; one that only mentions them in its body is not.
# The share of the query's clauses matched there lifts the score by up to this much.
HEAD_BONUS = 0.6
# Coordination: the share of the query a document matches, by rarity, to this power.
# Below 1 so that missing one of two words halves nothing: "arrerars letter" wants the
# arrears article, which never says "letter", over a letters article that says arrears once.
COORD_POWER = 0.5
HEAD_FIELDS = frozenset({"title", "tags", "summary", "head_pairs"})
_LENGTHS = [byte_to_length(b) for b in range(256)]


class FieldLengths:
    """Per-segment field lengths for BM25, read once per process (segments are immutable)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], bytes] = {}

    def sync(self, reader: IndexReader) -> None:
        """Forget segments the reader no longer has (merged away)."""
        segments = (leaf.segment() for leaf, _ in reader.leaf_readers())
        live = {segment.segment_id() for segment in segments if segment is not None}
        self._cache = {k: v for k, v in self._cache.items() if k[0] in live}

    def of(self, leaf: IndexReader, fieldname: str) -> bytes:
        """One whoosh length byte per document of the segment."""
        key = (leaf.segment().segment_id(), fieldname)
        if key not in self._cache:
            raw = length_column(leaf, fieldname)
            self._cache[key] = raw + bytes(max(0, leaf.doc_count_all() - len(raw)))
        return self._cache[key]


class Scorer:
    """BM25 scoring term-at-a-time over whole posting lists."""

    # Whoosh's own matchers cost ~40 us per matching document in Python, and phrase or
    # coordination queries disable its block skipping (measured: p95 220 ms at 10,000
    # documents). Reading each posting list once as arrays and summing scores in a dict
    # is ~10x cheaper, gives exact totals and lets a word's alternatives (synonyms,
    # prefixes, typos) count once, at their best.

    def __init__(
        self, searcher: Searcher, lengths: FieldLengths, df: DocFrequencies | None = None
    ) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self.df = df or DocFrequencies(self.reader)
        self.lengths = lengths
        self.doc_count = self.reader.doc_count_all()
        self.leaves = list(self.reader.leaf_readers())

    def run(self, plan: Plan, allowed: set[int] | None, limit: int) -> tuple[int, list]:
        """(number of matching documents, top ``limit`` (score, docnum) pairs)."""
        totals: dict[int, float] = {}
        matched: dict[int, float] = {}
        about: dict[int, float] = {}
        required: set[int] | None = None
        everything = 0.0
        for clause in plan.clauses:
            scores, head, weight = self.clause(clause)
            everything += weight
            if clause.required:
                required = set(scores) if required is None else required & scores.keys()
            for doc, score in scores.items():
                totals[doc] = totals.get(doc, 0.0) + score
                matched[doc] = matched.get(doc, 0.0) + weight
            for doc, credit in head.items():
                about[doc] = about.get(doc, 0.0) + weight * credit
        docs = totals.keys() if required is None else required
        if allowed is not None:
            docs = [d for d in docs if d in allowed]
        everything = everything or 1.0
        # Coordination: a document with every word beats one with a few, all else equal,
        # the words counted by rarity (missing "letter" costs less than missing "arrears");
        # and one about them (title, tags, quick answer) beats one that mentions them.
        share = {m: (m / everything) ** COORD_POWER for m in set(matched.values())}
        bonus = HEAD_BONUS / everything
        ranked = (
            (totals[d] * share[matched[d]] * (1 + bonus * about.get(d, 0.0)), -d) for d in docs
        )
        top = heapq.nlargest(limit, ranked)
        return len(docs), [(score, -neg) for score, neg in top]

    def clause(self, clause: Clause) -> tuple[dict[int, float], dict[int, float], float]:
        """doc -> score of the best alternative plus a little of the others; doc -> weight
        of the best alternative in the title, tags or summary; and the clause's weight
        (its rarest alternative's rarity, 0 when nothing has it)."""
        if len(clause.alternatives) == 1:  # most words: nothing to merge
            alt = clause.alternatives[0]
            scores, in_head, rarity = self.alternative(alt)
            weight = rarity * alt.weight if scores else 0.0
            return scores, dict.fromkeys(in_head, alt.weight), weight
        best: dict[int, float] = {}
        total: dict[int, float] = {}
        head: dict[int, float] = {}
        weight = 0.0
        found = False  # something other than a fallback matched
        for alt in clause.alternatives:
            if alt.fallback and found:
                continue
            scores, in_head, rarity = self.alternative(alt)
            found = found or bool(scores and not alt.fallback)
            if scores:
                weight = max(weight, rarity * alt.weight)
            for doc, score in scores.items():
                total[doc] = total.get(doc, 0.0) + score
                if score > best.get(doc, 0.0):
                    best[doc] = score
            for doc in in_head:
                head[doc] = max(head.get(doc, 0.0), alt.weight)
        scores = {d: b + TIE_BREAK * (total[d] - b) for d, b in best.items()}
        return scores, head, weight

    def alternative(self, alt: Alternative) -> tuple[dict[int, float], set[int], float]:
        """doc -> score of one word (summed over fields) or one phrase (via shingles), the
        documents that have it in their title, tags or summary, and how rare it is."""
        terms = alt.terms
        if len(terms) == 1:
            fields, keys = WORD_FIELDS, [terms[0]]
        else:
            fields = PAIR_FIELDS
            keys = [f"{a}{PAIR_SEP}{b}" for a, b in zip(terms, terms[1:], strict=False)]
        out: dict[int, float] = {}
        head: set[int] = set()
        df = self.df
        for fieldname, (boost, b) in fields.items():
            scores: dict[int, float] | None = None
            for key in keys:
                found = df(fieldname, key)
                part = {}
                if found:
                    part = self.term(fieldname, key, boost * alt.weight * self.idf(found), b)
                if scores is None:
                    scores = part
                else:  # every pair of a phrase must be present
                    scores = {d: s + part[d] for d, s in scores.items() if d in part}
                if not scores:
                    break
            for doc, score in (scores or {}).items():
                out[doc] = out.get(doc, 0.0) + score
            if scores and fieldname in HEAD_FIELDS:
                head.update(scores)
        # How rare it is in whole documents, for coordination: a word in one title but
        # in every body ("phone") is common.
        rarity = max(self.idf(max(df(f, key) for f in fields)) for key in keys)
        return out, head, rarity

    def idf(self, df: int) -> float:
        """BM25 inverse document frequency of a term found in ``df`` documents."""
        n = self.doc_count
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def term(self, fieldname: str, text: str, boost: float, b: float) -> dict[int, float]:
        """doc -> BM25 term-frequency score of one term in one field, times ``boost``."""
        btext = text.encode("utf-8")
        n = self.doc_count
        avgdl = (self.reader.field_length(fieldname) / n) or 1.0
        scale, k_base, k_len = boost * (K1 + 1), K1 * (1 - b), K1 * b / avgdl
        lengths_of = _LENGTHS
        out: dict[int, float] = {}
        for leaf, offset in self.leaves:
            ids, weights = postings(leaf, fieldname, btext)
            if not ids:
                continue
            lengths = self.lengths.of(leaf, fieldname)
            deleted = leaf.deleted_docs_set if leaf.has_deletions() else ()
            for doc, tf in zip(ids, weights, strict=False):
                if deleted and doc in deleted:
                    continue
                norm = k_base + k_len * lengths_of[lengths[doc]]
                out[offset + doc] = scale * tf / (tf + norm)
        return out
