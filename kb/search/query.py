"""Turn what an agent types into a whoosh query: words, phrases, prefixes, typos, synonyms."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import islice

from whoosh import query as wq
from whoosh.analysis import LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.lang.porter import stem as porter_stem
from whoosh.reading import IndexReader

from kb.search.synonyms import Synonyms, Terms

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
MAX_QUERY_CHARS = 200
MAX_TERMS = 16
MAX_WORD_CHARS = 40

# Field -> boost. A title hit matters most, then tags (curated), then the summary.
FIELD_BOOSTS = {"title": 3.0, "tags": 2.0, "summary": 1.5, "body": 1.0}
SYNONYM_WEIGHT = 0.8
PREFIX_WEIGHT = 0.7
FUZZY_WEIGHT = 0.7
PREFIX_MIN_CHARS = 2
PREFIX_SCAN = 200  # lexicon entries read for one prefix
PREFIX_STEMS = 8  # most frequent expansions kept
FUZZY_STEMS = 3
FUZZY_MIN_CHARS = 4

_QUOTES = str.maketrans({c: '"' for c in "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb"})
# Control, format (zero-width) and separator characters other than a plain space.
_JUNK_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def text_analyzer():
    """Analyzer for the searchable text fields: tokens, lower case, short stop list, stems."""
    return (
        RegexTokenizer(TOKEN_PATTERN)
        | LowercaseFilter()
        | StopFilter(stoplist=STOP_WORDS, minsize=1, maxsize=MAX_WORD_CHARS)
        | StemFilter()
    )


def word_analyzer():
    """Analyzer for the unstemmed vocabulary field used for prefixes and spelling."""
    return (
        RegexTokenizer(TOKEN_PATTERN)
        | LowercaseFilter()
        | StopFilter(stoplist=STOP_WORDS, minsize=1, maxsize=MAX_WORD_CHARS)
    )


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Porter stem of a lower-case word (the same function the index uses)."""
    return porter_stem(word)


def words_of(text: str) -> list[str]:
    """Lower-case, non-stop tokens of ``text``, as the index sees them before stemming."""
    out = []
    for m in TOKEN_RE.finditer(text):
        w = m.group().lower()
        if w not in STOP_WORDS and len(w) <= MAX_WORD_CHARS:
            out.append(w)
    return out


def normalise_terms(text: str) -> Terms:
    """Stems of ``text`` as a tuple: the key used for synonym lookup."""
    return tuple(stem(w) for w in words_of(text))


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

    def tokens(self) -> list[Token]:
        """Every token, in the order typed."""
        return sorted([*self.words, *(t for p in self.phrases for t in p)], key=lambda t: t.start)


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


def _osa_distance(a: str, b: str, limit: int) -> int:
    """Edit distance counting a swap of neighbours as one edit; > limit means "too far"."""
    # Trim the common ends first: typos are local, so the DP runs on a few letters.
    i, la, lb = 0, len(a), len(b)
    while i < la and i < lb and a[i] == b[i]:
        i += 1
    while la > i and lb > i and a[la - 1] == b[lb - 1]:
        la -= 1
        lb -= 1
    a, b = a[i:la], b[i:lb]
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    if not a or not b:
        return max(len(a), len(b))
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for x in range(1, len(a) + 1):
        cur = [x] + [0] * len(b)
        for y in range(1, len(b) + 1):
            cost = a[x - 1] != b[y - 1]
            best = min(prev[y] + 1, cur[y - 1] + 1, prev[y - 1] + cost)
            if x > 1 and y > 1 and a[x - 1] == b[y - 2] and a[x - 2] == b[y - 1]:
                best = min(best, prev2[y - 2] + 1)
            cur[y] = best
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


class Vocabulary:
    """Indexed words bucketed by (first letter, length) for typo lookup, cached per segment.

    Segments never change once written, so a new commit only costs reading the small
    new segment's lexicon; big merged segments are read once per process.
    """

    def __init__(self) -> None:
        self._segments: dict[str, dict[tuple[str, int], list[str]]] = {}

    def sync(self, reader: IndexReader) -> None:
        """Make the cache match the reader's segments."""
        live: dict[str, IndexReader] = {}
        for leaf, _offset in reader.leaf_readers():
            segment = leaf.segment()
            if segment is not None:
                live[segment.segment_id()] = leaf
        for segid in list(self._segments):
            if segid not in live:
                del self._segments[segid]
        for segid, leaf in live.items():
            if segid not in self._segments:
                buckets: dict[tuple[str, int], list[str]] = {}
                for btext in leaf.lexicon("words"):
                    word = btext.decode("utf-8")
                    if word.isalpha():
                        buckets.setdefault((word[0], len(word)), []).append(word)
                self._segments[segid] = buckets

    def near(self, word: str, maxdist: int) -> dict[str, int]:
        """Indexed words within ``maxdist`` edits of ``word`` that share its first letter."""
        found: dict[str, int] = {}
        first, size = word[0], len(word)
        for buckets in self._segments.values():
            for length in range(size - maxdist, size + maxdist + 1):
                for cand in buckets.get((first, length), ()):
                    if cand != word and cand not in found:
                        dist = _osa_distance(word, cand, maxdist)
                        if dist <= maxdist:
                            found[cand] = dist
        return found


def _max_edits(word: str) -> int:
    """Typos allowed for a word: none when short (too many false friends), two when long."""
    if len(word) < FUZZY_MIN_CHARS or not word.isalpha():
        return 0
    return 1 if len(word) < 7 else 2


@dataclass
class Plan:
    """The whoosh query parts for one search, plus what to highlight and suggest."""

    required: list[wq.Query] = field(default_factory=list)  # quoted phrases
    clauses: list[wq.Query] = field(default_factory=list)  # one per word (or synonym phrase)
    highlight: set[Terms] = field(default_factory=set)  # stems/phrases to mark in snippets
    corrections: dict[Token, str] = field(default_factory=dict)  # unknown word -> best guess

    def is_empty(self) -> bool:
        """True when nothing searchable is left (e.g. only stop words or punctuation)."""
        return not self.required and not self.clauses


class QueryPlanner:
    """Build a Plan for one parsed query against one reader."""

    def __init__(self, reader: IndexReader, vocabulary: Vocabulary, synonyms: Synonyms) -> None:
        self.reader = reader
        self.vocabulary = vocabulary
        self.synonyms = synonyms

    def plan(self, parsed: ParsedQuery) -> Plan:
        """Turn words into weighted alternatives (exact, synonym, prefix, fuzzy)."""
        plan = Plan()
        for phrase in parsed.phrases:
            terms = tuple(t.stem for t in phrase)
            plan.required.append(self._clause([(terms, 1.0)], plan))
            for token in phrase:
                if not self.known(token):
                    self._correct(token, plan)
        words = parsed.words
        i = 0
        while i < len(words):
            n = self._synonym_span(words, i)
            if n > 1:
                terms = tuple(t.stem for t in words[i : i + n])
                alts = [(terms, 1.0)] + [(t, SYNONYM_WEIGHT) for t in self.synonyms.lookup(terms)]
                plan.clauses.append(self._clause(alts, plan))
                i += n
                continue
            token = words[i]
            typing = parsed.typing and i == len(words) - 1
            plan.clauses.append(self._word_clause(token, typing, plan))
            i += 1
        return plan

    def known(self, token: Token) -> bool:
        """Whether the word (or its stem) occurs anywhere in the index."""
        reader = self.reader
        if reader.doc_frequency("words", token.word):
            return True
        return any(reader.doc_frequency(f, token.stem) for f in FIELD_BOOSTS)

    def _synonym_span(self, words: list[Token], i: int) -> int:
        """Length of the longest multi-word synonym entry starting at word ``i`` (or 0)."""
        longest = min(self.synonyms.max_words, len(words) - i)
        for n in range(longest, 1, -1):
            if self.synonyms.lookup(tuple(t.stem for t in words[i : i + n])):
                return n
        return 0

    def _word_clause(self, token: Token, typing: bool, plan: Plan) -> wq.Query:
        alts: list[tuple[Terms, float]] = [((token.stem,), 1.0)]
        synonyms = self.synonyms.lookup((token.stem,))
        alts += [(t, SYNONYM_WEIGHT) for t in synonyms]
        known = bool(synonyms) or self.known(token)
        if typing and len(token.word) >= PREFIX_MIN_CHARS:
            expansions = self._prefix_stems(token.word, exclude=token.stem)
            alts += [((s,), PREFIX_WEIGHT) for s in expansions]
            # An unfinished word that starts real words is not a typo.
            known = known or bool(expansions)
        if not known:
            alts += [((s,), FUZZY_WEIGHT) for s in self._correct(token, plan)]
        return self._clause(alts, plan)

    def _prefix_stems(self, prefix: str, exclude: str) -> list[str]:
        """Stems of the most frequent indexed words starting with ``prefix``."""
        best: dict[str, int] = {}
        for btext, info in islice(self.reader.iter_prefix("words", prefix), PREFIX_SCAN):
            s = stem(btext.decode("utf-8"))
            if s != exclude:
                best[s] = max(best.get(s, 0), info.doc_frequency())
        ranked = sorted(best, key=lambda s: (-best[s], s))
        return ranked[:PREFIX_STEMS]

    def _correct(self, token: Token, plan: Plan) -> list[str]:
        """Record the likeliest spelling of an unknown word; return stems to fuzzy-match."""
        maxdist = _max_edits(token.word)
        if not maxdist:
            return []
        near = self.vocabulary.near(token.word, maxdist)
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
            s = stem(w)
            if s not in stems:
                stems.append(s)
        return stems[:FUZZY_STEMS]

    def _clause(self, alts: Iterable[tuple[Terms, float]], plan: Plan) -> wq.Query:
        """One Or over every field for every alternative, with field and alternative weights."""
        seen: set[Terms] = set()
        parts: list[wq.Query] = []
        for terms, weight in alts:
            if terms in seen:
                continue
            seen.add(terms)
            plan.highlight.add(terms)
            for fieldname, boost in FIELD_BOOSTS.items():
                if len(terms) == 1:
                    parts.append(wq.Term(fieldname, terms[0], boost=boost * weight))
                else:
                    parts.append(wq.Phrase(fieldname, list(terms), boost=boost * weight))
        return parts[0] if len(parts) == 1 else wq.Or(parts)


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


# ----- snippets ----------------------------------------------------------------

SNIPPET_CHARS = 200
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
    begin = max(0, start - 40)
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
    return ("\u2026 " if begin else "") + "".join(out).strip() + (" \u2026" if end < len(text) else "")


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
