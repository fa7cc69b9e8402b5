"""From what an agent types to ranked documents and highlighted snippets."""

from __future__ import annotations

import heapq
import html
import math
import re
import unicodedata
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import islice

from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher
from whoosh.matching import FilterMatcher
from whoosh.reading import IndexReader, TermNotFound
from whoosh.searching import Searcher
from whoosh.util.numeric import byte_to_length, length_to_byte

from kb.search.synonyms import (
    MAX_WORD_CHARS,
    PAIR_SEP,
    STOP_WORDS,
    TOKEN_RE,
    Spelling,
    Synonyms,
    Terms,
    max_edits,
    stem,
)

MAX_QUERY_CHARS = 200
MAX_TERMS = 16
# Field -> (boost, BM25 length normalisation). A title hit matters most, then tags
# (curated by editors), then the summary; short fields are barely length-normalised.
WORD_FIELDS = {"title": (3.0, 0.5), "tags": (2.0, 0.3), "summary": (1.5, 0.5), "body": (1.0, 0.75)}
# Phrases are matched on two-word shingles, so every lookup is a plain term read.
PAIR_FIELDS = {"head_pairs": (2.5, 0.5), "body_pairs": (1.0, 0.75)}
K1 = 1.2
SYNONYM_WEIGHT = 0.8  # an expansion ranks just below the word actually typed
PREFIX_WEIGHT = 0.7
FUZZY_WEIGHT = 0.7
TIE_BREAK = 0.1  # share of a word's weaker alternatives added to its best one
PREFIX_MIN_CHARS = 2
PREFIX_SCAN = 200  # lexicon entries read for one prefix
PREFIX_STEMS = {2: 3, 3: 5}  # expansions kept by prefix length (else 8): "re" is everything
FUZZY_STEMS = 3
SNIPPET_CHARS = 200

_QUOTES = str.maketrans({c: '"' for c in "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb"})
# Control, format (zero-width), surrogate and line/paragraph separator characters.
_JUNK_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
_LENGTHS = [byte_to_length(b) for b in range(256)]


# ----- parsing --------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    """One query word: its lower-case form, its stem and where it sits in the text."""

    word: str
    stem: str
    start: int
    end: int


@dataclass
class ParsedQuery:
    """A cleaned query split into free words and quoted phrases."""

    text: str
    words: list[Token] = field(default_factory=list)
    phrases: list[list[Token]] = field(default_factory=list)
    typing: bool = False  # the last free word may be unfinished (no trailing space)


def clean_query(raw: str) -> tuple[str, bool]:
    """Remove control characters, normalise quotes, cap the length; returns (text, cut)."""
    # Cut early so a 10,000-character paste costs nothing further down.
    text = (raw or "")[: MAX_QUERY_CHARS * 2].translate(_QUOTES)
    text = "".join(
        " " if unicodedata.category(c) in _JUNK_CATEGORIES or c.isspace() else c for c in text
    )
    cut = len(text) > MAX_QUERY_CHARS or len(raw or "") > MAX_QUERY_CHARS * 2
    return text[:MAX_QUERY_CHARS], cut


def parse_query(raw: str) -> ParsedQuery:
    """Split a raw query into words and "quoted phrases" (an unclosed quote is ignored)."""
    text, cut = clean_query(raw)
    parsed = ParsedQuery(text=text)
    quotes = [i for i, c in enumerate(text) if c == '"']
    spans: list[tuple[int, int, bool]] = []  # (start, end, is_phrase)
    pos = 0
    for open_at, close_at in zip(quotes[::2], quotes[1::2], strict=False):
        spans.append((pos, open_at, False))
        spans.append((open_at + 1, close_at, True))
        pos = close_at + 1
    spans.append((pos, len(text), False))
    count = 0
    for start, end, is_phrase in spans:
        phrase: list[Token] = []
        for m in TOKEN_RE.finditer(text, start, end):
            word = m.group().lower()
            if word in STOP_WORDS or len(word) > MAX_WORD_CHARS or count >= MAX_TERMS:
                continue
            count += 1
            token = Token(word, stem(word), m.start(), m.end())
            (phrase if is_phrase else parsed.words).append(token)
        if phrase:
            parsed.phrases.append(phrase)
    last = parsed.words[-1] if parsed.words else None
    parsed.typing = bool(last and not cut and last.end == len(text) and text[-1].isalnum())
    return parsed


# ----- planning -------------------------------------------------------------------


@dataclass(frozen=True)
class Alternative:
    """One way a query word may appear: stems (several = a phrase) and a weight."""

    terms: Terms
    weight: float


@dataclass
class Clause:
    """One query word, synonym phrase or quoted phrase and its alternatives."""

    alternatives: list[Alternative]
    required: bool = False  # quoted phrases must match


@dataclass
class Plan:
    """What to look up for one search, plus typo corrections for the suggestion."""

    clauses: list[Clause] = field(default_factory=list)
    corrections: dict[Token, str] = field(default_factory=dict)

    def is_empty(self) -> bool:
        """True when nothing searchable is left (only stop words or punctuation)."""
        return not self.clauses

    def highlight(self) -> set[Terms]:
        """Stems and phrases worth marking in snippets."""
        return {alt.terms for clause in self.clauses for alt in clause.alternatives}


class QueryPlanner:
    """Decide the alternatives for each query word against one reader."""

    def __init__(self, reader: IndexReader, spelling: Spelling, synonyms: Synonyms) -> None:
        self.reader = reader
        self.spelling = spelling
        self.synonyms = synonyms

    def plan(self, parsed: ParsedQuery) -> Plan:
        """Words become exact/synonym/prefix/fuzzy alternatives; phrases become required."""
        plan = Plan()
        for phrase in parsed.phrases:
            terms = tuple(t.stem for t in phrase)
            plan.clauses.append(Clause([Alternative(terms, 1.0)], required=True))
            for token in phrase:
                self._check_spelling(token, plan)
        words = parsed.words
        i = 0
        while i < len(words):
            n = self._synonym_span(words, i)
            if n > 1:
                terms = tuple(t.stem for t in words[i : i + n])
                alts = [Alternative(terms, 1.0)]
                alts += [Alternative(t, SYNONYM_WEIGHT) for t in self.synonyms.lookup(terms)]
                plan.clauses.append(Clause(alts))
                i += n
                continue
            typing = parsed.typing and i == len(words) - 1
            plan.clauses.append(self._word_clause(words[i], typing, plan))
            i += 1
        return plan

    def _synonym_span(self, words: list[Token], i: int) -> int:
        """Length of the longest multi-word synonym entry starting at word ``i`` (or 0)."""
        for n in range(min(self.synonyms.max_words, len(words) - i), 1, -1):
            if self.synonyms.lookup(tuple(t.stem for t in words[i : i + n])):
                return n
        return 0

    def _word_clause(self, token: Token, typing: bool, plan: Plan) -> Clause:
        alts = [Alternative((token.stem,), 1.0)]
        synonyms = self.synonyms.lookup((token.stem,))
        alts += [Alternative(t, SYNONYM_WEIGHT) for t in synonyms]
        expansions: list[str] = []
        if typing and len(token.word) >= PREFIX_MIN_CHARS:
            expansions = self._prefix_stems(token.word, exclude=token.stem)
            alts += [Alternative((s,), PREFIX_WEIGHT) for s in expansions]
        # An abbreviation with synonyms, or an unfinished word that starts real words,
        # is not a typo.
        if not synonyms and not expansions:
            alts += [Alternative((s,), FUZZY_WEIGHT) for s in self._check_spelling(token, plan)]
        return Clause(alts)

    def _check_spelling(self, token: Token, plan: Plan) -> list[str]:
        """Note a better spelling for a word the index lacks; returns stems to fuzzy-match."""
        df = self.reader.doc_frequency
        if df("words", token.word):
            return []
        if any(df(f, token.stem) for f in WORD_FIELDS):
            # The stem already matches ("emergancy" -> "emerg"), so no fuzzy terms, but
            # a one-edit word with the same stem still makes the better suggestion.
            self._correct(token, plan, same_stem=True)
            return []
        return self._correct(token, plan)

    def _prefix_stems(self, prefix: str, exclude: str) -> list[str]:
        """Stems of the most frequent indexed words starting with ``prefix``."""
        best: dict[str, int] = {}
        for btext, info in islice(self.reader.iter_prefix("words", prefix), PREFIX_SCAN):
            s = stem(btext.decode("utf-8"))
            if s != exclude:
                best[s] = max(best.get(s, 0), info.doc_frequency())
        ranked = sorted(best, key=lambda s: (-best[s], s))
        return ranked[: PREFIX_STEMS.get(len(prefix), 8)]

    def _correct(self, token: Token, plan: Plan, same_stem: bool = False) -> list[str]:
        """Record the likeliest spelling of an unknown word; return stems to fuzzy-match."""
        maxdist = min(max_edits(token.word), 1 if same_stem else 2)
        near = self.spelling.near(token.word, maxdist) if maxdist else {}
        if same_stem:
            near = {w: d for w, d in near.items() if stem(w) == token.stem}
        if not near:
            return []
        closest = min(near.values())
        df = self.reader.doc_frequency
        ranked = sorted(
            (w for w, d in near.items() if d == closest), key=lambda w: (-df("words", w), w)
        )
        plan.corrections[token] = ranked[0]
        stems: list[str] = []
        for w in ranked:
            if stem(w) not in stems:
                stems.append(stem(w))
        return stems[:FUZZY_STEMS]


# ----- scoring --------------------------------------------------------------------


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
            try:  # one read of the raw column instead of a lookup per document
                column = leaf._perdoc._cached_reader(f"_{fieldname}_len", LENGTHS_COLUMN)
                raw = column._dbfile.get(column._basepos, column._count)
            except Exception:  # noqa: BLE001 - slower public route if internals moved
                docs = range(leaf.doc_count_all())
                raw = bytes(length_to_byte(leaf.doc_field_length(d, fieldname)) for d in docs)
            self._cache[key] = raw + bytes(max(0, leaf.doc_count_all() - len(raw)))
        return self._cache[key]


class Scorer:
    """BM25 scoring term-at-a-time over whole posting lists."""

    # Whoosh's own matchers cost ~40 us per matching document in Python, and phrase or
    # coordination queries disable its block skipping (measured: p95 220 ms at 10,000
    # documents). Reading each posting list once as arrays and summing scores in a dict
    # is ~10x cheaper, gives exact totals and lets a word's alternatives (synonyms,
    # prefixes, typos) count once, at their best.

    def __init__(self, searcher: Searcher, lengths: FieldLengths) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self.lengths = lengths
        self.doc_count = self.reader.doc_count_all()
        self.leaves = list(self.reader.leaf_readers())

    def run(self, plan: Plan, allowed: set[int] | None, limit: int) -> tuple[int, list]:
        """(number of matching documents, top ``limit`` (score, docnum) pairs)."""
        totals: dict[int, float] = {}
        matched: dict[int, int] = {}
        required: set[int] | None = None
        for clause in plan.clauses:
            scores = self.clause(clause)
            if clause.required:
                required = set(scores) if required is None else required & scores.keys()
            for doc, score in scores.items():
                totals[doc] = totals.get(doc, 0.0) + score
                matched[doc] = matched.get(doc, 0) + 1
        docs = totals.keys() if required is None else required
        if allowed is not None:
            docs = [d for d in docs if d in allowed]
        n = len(plan.clauses)
        # Coordination: a document with every word beats one with a few, all else equal.
        ranked = ((totals[d] * matched[d] / n, -d) for d in docs)
        top = heapq.nlargest(limit, ranked)
        return len(docs), [(score, -neg) for score, neg in top]

    def clause(self, clause: Clause) -> dict[int, float]:
        """doc -> score of the best alternative plus a little of the others."""
        best: dict[int, float] = {}
        total: dict[int, float] = {}
        for alt in clause.alternatives:
            for doc, score in self.alternative(alt).items():
                total[doc] = total.get(doc, 0.0) + score
                if score > best.get(doc, 0.0):
                    best[doc] = score
        return {d: b + TIE_BREAK * (total[d] - b) for d, b in best.items()}

    def alternative(self, alt: Alternative) -> dict[int, float]:
        """doc -> score of one word (summed over fields) or one phrase (via shingles)."""
        terms = alt.terms
        if len(terms) == 1:
            fields, keys = WORD_FIELDS, [terms[0]]
        else:
            fields = PAIR_FIELDS
            keys = [f"{a}{PAIR_SEP}{b}" for a, b in zip(terms, terms[1:], strict=False)]
        out: dict[int, float] = {}
        for fieldname, (boost, b) in fields.items():
            scores: dict[int, float] | None = None
            for key in keys:
                part = self.term(fieldname, key, boost * alt.weight, b)
                if scores is None:
                    scores = part
                else:  # every pair of a phrase must be present
                    scores = {d: s + part[d] for d, s in scores.items() if d in part}
                if not scores:
                    break
            for doc, score in (scores or {}).items():
                out[doc] = out.get(doc, 0.0) + score
        return out

    def term(self, fieldname: str, text: str, boost: float, b: float) -> dict[int, float]:
        """doc -> BM25 score of one term in one field."""
        btext = text.encode("utf-8")
        df = self.reader.doc_frequency(fieldname, btext)
        if not df:
            return {}
        n = self.doc_count
        idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        avgdl = (self.reader.field_length(fieldname) / n) or 1.0
        scale, k_base, k_len = boost * idf * (K1 + 1), K1 * (1 - b), K1 * b / avgdl
        lengths_of = _LENGTHS
        out: dict[int, float] = {}
        for leaf, offset in self.leaves:
            ids, weights = _postings(leaf, fieldname, btext)
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


def _postings(leaf: IndexReader, fieldname: str, btext: bytes) -> tuple[array, array]:
    """All (docnum, term frequency) postings of a term in one segment, deletions included."""
    ids, weights = array("I"), array("f")
    try:
        m = leaf.postings(fieldname, btext)
    except TermNotFound:
        return ids, weights
    if isinstance(m, FilterMatcher):  # deletions: the caller skips them itself
        m = m.child
    if isinstance(m, W3LeafMatcher):
        # Whole blocks at a time: one unpickle per block instead of calls per posting.
        while m.is_active():
            m._read_ids()
            m._read_weights()
            ids.extend(m._ids)
            weights.extend(m._weights)
            m._next_block()
    else:
        while m.is_active():
            ids.append(m.id())
            weights.append(m.weight())
            m.next()
    return ids, weights


def suggestion_for(parsed: ParsedQuery, plan: Plan) -> str | None:
    """The query with each unknown word replaced by its likeliest spelling, if that differs."""
    if not plan.corrections:
        return None
    text = parsed.text
    pieces, pos = [], 0
    for token in sorted(plan.corrections, key=lambda t: t.start):
        pieces += [text[pos : token.start], plan.corrections[token]]
        pos = token.end
    pieces.append(text[pos:])
    suggestion = " ".join("".join(pieces).split())
    return suggestion if suggestion.lower() != " ".join(text.split()).lower() else None


# ----- snippets -------------------------------------------------------------------

_SPACE_RE = re.compile(r"\s+")


def _stem_pattern(stems: Iterable[str]) -> re.Pattern[str] | None:
    """A regex for words that may stem to one of ``stems`` (each hit is checked after)."""
    # Porter turns a final "y" into "i" (happy -> happi): match on what precedes it.
    heads = {s[:-1] if s.endswith("i") and len(s) > 2 else s for s in stems}
    if not heads:
        return None
    alternation = "|".join(re.escape(h) for h in sorted(heads, key=len, reverse=True))
    return re.compile(rf"\b(?:{alternation})\w*", re.IGNORECASE)


def _adjacent(text: str, a: tuple[int, int, str], b: tuple[int, int, str]) -> bool:
    """Whether only punctuation or stop words separate two matched words."""
    gap = text[a[1] : b[0]]
    return all(w.lower() in STOP_WORDS for w in TOKEN_RE.findall(gap))


def _spans(text: str, wanted: set[Terms], cap: int = 40) -> list[tuple[int, int]]:
    """Character spans of matched words; words of a phrase count only inside the phrase."""
    singles = {t[0] for t in wanted if len(t) == 1}
    phrases = [t for t in wanted if len(t) > 1]
    stems = singles.union(*phrases)
    pattern = _stem_pattern(stems)
    if pattern is None:
        return []
    found: list[tuple[int, int, str]] = []
    for m in pattern.finditer(text):
        s = stem(m.group().lower())
        if s in stems:
            found.append((m.start(), m.end(), s))
            if len(found) >= cap * 2:  # enough to pick a good window; stop early
                break
    keep = {i for i, f in enumerate(found) if f[2] in singles}
    for phrase in phrases:
        n = len(phrase)
        for i in range(len(found) - n + 1):
            run = found[i : i + n]
            if tuple(f[2] for f in run) == phrase and all(
                _adjacent(text, run[k], run[k + 1]) for k in range(n - 1)
            ):
                keep.update(range(i, i + n))
    return [found[i][:2] for i in sorted(keep)][:cap]


def _best_window(text: str, spans: list[tuple[int, int]], width: int) -> int:
    """Start of the window showing the most distinct matched words (earliest on ties)."""
    best_start, best_score = spans[0][0], -1
    for i, (start, _end) in enumerate(spans):
        inside = [text[s:e].lower() for s, e in spans[i:] if e <= start + width - 40]
        score = len(set(inside)) * 10 + len(inside)
        if score > best_score:
            best_start, best_score = start, score
    return best_start


def _window(text: str, start: int, width: int) -> tuple[int, int]:
    """A window of about ``width`` characters from a little before ``start``, on word ends."""
    # Start a little before the match, but never leave unused room at the end.
    begin = max(0, min(start - 40, len(text) - width))
    if begin > 0:
        space = text.find(" ", begin, start)
        begin = space + 1 if space != -1 else begin
    end = min(len(text), begin + width)
    if end < len(text):
        space = text.rfind(" ", begin + width // 2, end)
        end = space if space != -1 else end
    return begin, end


def _render(text: str, begin: int, end: int, spans: list[tuple[int, int]]) -> str:
    out, pos = [], begin
    for s, e in spans:
        if s >= pos and e <= end:
            out += [html.escape(text[pos:s]), "<mark>", html.escape(text[s:e]), "</mark>"]
            pos = e
    out.append(html.escape(text[pos:end]))
    return (
        ("\u2026 " if begin else "") + "".join(out).strip() + (" \u2026" if end < len(text) else "")
    )


def make_snippet(body: str, summary: str, wanted: set[Terms], width: int = SNIPPET_CHARS) -> str:
    """Escaped HTML around the best match in the body (else summary), matches in <mark>."""
    body = _SPACE_RE.sub(" ", body or "").strip()
    summary = _SPACE_RE.sub(" ", summary or "").strip()
    for text in (body, summary):
        spans = _spans(text, wanted)
        if spans:
            begin, end = _window(text, _best_window(text, spans, width), width)
            return _render(text, begin, end, spans)
    text = body or summary
    return _render(text, *_window(text, 0, width), [])
