"""From what an agent types to a plan of terms to look up: parsing, synonyms, typos."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from itertools import islice

from whoosh.reading import IndexReader

from kb.search.english import is_english
from kb.search.filler import ROLE_WORDS, filler_spans
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
SYNONYM_WEIGHT = 0.8  # an expansion ranks just below the word actually typed
COMPOUND_WEIGHT = 0.9  # "doorentry" as "door entry", "voice mail" as "voicemail"
PREFIX_WEIGHT = 0.7
COMPLETE_PREFIX_WEIGHT = 0.3  # "phone" is a word already; "phonetic" is a long shot
SPAN_WORD_WEIGHT = 0.5  # each word of a phrase on its own ("gas" of "gas smell")
IDIOM_WORD_WEIGHT = 0.3
ROLE_WEIGHT = 0.3  # "tenant", "caller": who is calling, rarely what about
FUZZY_WEIGHTS = {1: 0.9, 2: 0.7}  # by edits: one slip of a finger is almost surely meant
TIE_BREAK = 0.1  # share of a word's weaker alternatives added to its best one
PREFIX_MIN_CHARS = 2
PREFIX_SCAN = 200  # lexicon entries read for one prefix
PREFIX_STEMS = {2: 3, 3: 5}  # expansions kept by prefix length (else 8): "re" is everything
FUZZY_STEMS = 3
SPLIT_MIN_CHARS = 6  # shorter unknown words are typos, not two words run together

# Text-speak agents type in a hurry, read as the words it stands for ("when do u close").
_TEXT_SPEAK = {"u": "you", "ur": "your", "pls": "please", "plz": "please", "thx": "thanks"}
_QUOTES = str.maketrans({c: '"' for c in "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb"})
# Control, format (zero-width), surrogate and line/paragraph separator characters.
_JUNK_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


# ----- parsing --------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    """One query word: its lower-case form, its stem and where it sits in the text."""

    word: str
    stem: str
    start: int
    end: int
    stop: bool = False  # a stop word: never searched alone, but part of phrases like "packed in"


@dataclass
class ParsedQuery:
    """A cleaned query split into free words and quoted phrases."""

    text: str
    words: list[Token] = field(default_factory=list)  # free words to search (no stop words)
    phrases: list[list[Token]] = field(default_factory=list)
    typing: bool = False  # the last free word may be unfinished (no trailing space)
    # Every free token in order, stop words included, for multi-word synonyms.
    tokens: list[Token] = field(default_factory=list)


def clean_query(raw: str) -> tuple[str, bool]:
    """Remove control characters, normalise quotes, cap the length; returns (text, cut)."""
    # Cut early so a 10,000-character paste costs nothing further down.
    text = (raw or "")[: MAX_QUERY_CHARS * 2].translate(_QUOTES)
    text = "".join(
        " " if unicodedata.category(c) in _JUNK_CATEGORIES or c.isspace() else c for c in text
    )
    cut = len(text) > MAX_QUERY_CHARS or len(raw or "") > MAX_QUERY_CHARS * 2
    return text[:MAX_QUERY_CHARS], cut


def _free_tokens(text: str, start: int, end: int) -> list[Token]:
    """Tokens of unquoted text, without agent filler unless filler is all there is."""
    tokens = [
        Token(w, stem(w), m.start(), m.end(), stop=w in STOP_WORDS)
        for m in TOKEN_RE.finditer(text, start, end)
        if len(w := _TEXT_SPEAK.get(m.group().lower(), m.group().lower())) <= MAX_WORD_CHARS
    ]
    spans = filler_spans(text, start, end)
    if spans:
        kept = [t for t in tokens if not any(a <= t.start < b for a, b in spans)]
        if any(not t.stop for t in kept):
            return kept
    return tokens


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
        if not is_phrase:
            for token in _free_tokens(text, start, end):
                if not token.stop:
                    if count >= MAX_TERMS:
                        break
                    count += 1
                    parsed.words.append(token)
                parsed.tokens.append(token)
            continue
        phrase: list[Token] = []
        for m in TOKEN_RE.finditer(text, start, end):
            word = m.group().lower()
            if word in STOP_WORDS or len(word) > MAX_WORD_CHARS or count >= MAX_TERMS:
                continue
            count += 1
            phrase.append(Token(word, stem(word), m.start(), m.end()))
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
    fallback: bool = False  # only looked up when nothing else in its clause matches


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
    # Spelling fixes that find nothing more ("emergancy" finds "emergency" already):
    # shown only in a suggestion made for another word.
    respellings: dict[Token, str] = field(default_factory=dict)

    def is_empty(self) -> bool:
        """True when nothing searchable is left (only stop words or punctuation)."""
        return not self.clauses

    def highlight(self) -> set[Terms]:
        """Stems and phrases worth marking in snippets."""
        return {alt.terms for clause in self.clauses for alt in clause.alternatives}


class DocFrequencies:
    """``reader.doc_frequency``, remembered: each lookup reads the term table from disk, and
    a search asks about the same terms many times (planning, rarity, every field)."""

    LIMIT = 100_000  # entries before starting afresh (a few MB)

    def __init__(self, reader: IndexReader) -> None:
        self.reader = reader
        self._seen: dict[tuple[str, str], int] = {}

    def __call__(self, fieldname: str, text: str) -> int:
        """Documents with ``text`` in ``fieldname``."""
        key = (fieldname, text)
        found = self._seen.get(key)
        if found is None:
            if len(self._seen) >= self.LIMIT:
                self._seen.clear()
            found = self._seen[key] = self.reader.doc_frequency(fieldname, text)
        return found


class QueryPlanner:
    """Decide the alternatives for each query word against one reader."""

    def __init__(
        self,
        reader: IndexReader,
        spelling: Spelling,
        synonyms: Synonyms,
        df: DocFrequencies | None = None,
    ) -> None:
        self.reader = reader
        self.spelling = spelling
        self.synonyms = synonyms
        self.df = df or DocFrequencies(reader)

    def plan(self, parsed: ParsedQuery) -> Plan:
        """Words become exact/synonym/prefix/fuzzy alternatives; phrases become required."""
        plan = Plan()
        for phrase in parsed.phrases:
            terms = tuple(t.stem for t in phrase)
            plan.clauses.append(Clause([Alternative(terms, 1.0)], required=True))
            for token in phrase:
                self._check_spelling(token, plan)
        tokens = [t for t in parsed.tokens if t.stop or t in parsed.words]
        last = parsed.words[-1] if parsed.words else None
        i = 0
        while i < len(tokens):
            n, expansions = self._synonym_span(tokens, i)
            if n:
                words = [t for t in tokens[i : i + n] if not t.stop]
                plan.clauses.append(self._span_clause(words, expansions, SYNONYM_WEIGHT))
                i += n
                continue
            token = tokens[i]
            if token.stop:
                i += 1
                continue
            joined = self._joined(token, tokens[i + 1] if i + 1 < len(tokens) else None)
            if joined:
                words = [token, tokens[i + 1]]
                plan.clauses.append(self._span_clause(words, [(joined,)], COMPOUND_WEIGHT))
                i += 2
                continue
            typing = parsed.typing and token is last
            plan.clauses.append(self._word_clause(token, typing, plan))
            i += 1
        return plan

    def _synonym_span(self, tokens: list[Token], i: int) -> tuple[int, list[Terms]]:
        """(tokens covered, other terms) of the longest synonym phrase starting at ``i``.

        A phrase matches as typed, stop words included ("packed in", "when do you shut"),
        or on its words alone ("behind on rent" for "behind with rent").
        """
        lookup, longest = self.synonyms.lookup, self.synonyms.max_words
        covered, found = 0, []
        if not tokens[i].stop:
            content = [j for j in range(i, len(tokens)) if not tokens[j].stop][:longest]
            for n in range(len(content), 1, -1):
                others = lookup(tuple(tokens[j].stem for j in content[:n]))
                if others:
                    covered, found = content[n - 1] + 1 - i, others
                    break
        # As typed wins when it covers at least as much.
        for n in range(min(longest, len(tokens) - i), max(1, covered - 1), -1):
            span = tokens[i : i + n]
            if n < covered or all(t.stop for t in span):
                continue
            others = lookup(tuple(t.stem for t in span))
            if others:
                return n, others
        return covered, found

    def _span_clause(self, words: list[Token], others: list[Terms], weight: float) -> Clause:
        """A clause for several typed words read as one term, plus what they stand for."""
        typed = tuple(t.stem for t in words)
        # The one word of an idiom ("packed" of "packed in") means little on its own.
        alts = [Alternative(typed, 1.0 if len(typed) > 1 else IDIOM_WORD_WEIGHT)] if typed else []
        alts += [Alternative(t, weight) for t in others if t != typed]
        if len(typed) > 1:
            # When neither the phrase nor what it stands for is in any article, its words
            # count on their own: "gas smell" finds "gas" (but "self harm" never "self").
            words_alone = dict.fromkeys(typed)
            alts += [Alternative((s,), SPAN_WORD_WEIGHT, fallback=True) for s in words_alone]
        return Clause(alts)

    def _joined(self, token: Token, following: Token | None) -> str | None:
        """The indexed word two neighbouring words make when written as one ("voice mail")."""
        if following is None or following.stop or following.start - token.end > 1:
            return None
        joined = token.word + following.word
        if len(joined) > MAX_WORD_CHARS or not joined.isalpha():
            return None
        return stem(joined) if self.df("words", joined) else None

    def _word_clause(self, token: Token, typing: bool, plan: Plan) -> Clause:
        """One word: as typed, its synonyms, prefixes while typing, else split or typo."""
        role = token.word in ROLE_WORDS and not typing
        alts = [Alternative((token.stem,), ROLE_WEIGHT if role else 1.0)]
        synonyms = self.synonyms.lookup((token.stem,))
        alts += [Alternative(t, SYNONYM_WEIGHT) for t in synonyms]
        expansions: list[str] = []
        if typing and len(token.word) >= PREFIX_MIN_CHARS:
            expansions = self._prefix_stems(token.word, exclude=token.stem)
            complete = self.df("words", token.word) > 0
            weight = COMPLETE_PREFIX_WEIGHT if complete else PREFIX_WEIGHT
            alts += [Alternative((s,), weight) for s in expansions]
        # An abbreviation with synonyms, or an unfinished word that starts real words,
        # is not a typo.
        if not synonyms and not expansions:
            split = self._split(token)
            if split:
                plan.corrections[token] = " ".join(split)
                alts.append(Alternative(tuple(stem(w) for w in split), COMPOUND_WEIGHT))
            else:
                stems, edits = self._check_spelling(token, plan)
                alts += [Alternative((s,), FUZZY_WEIGHTS.get(edits, 0.7)) for s in stems]
        return Clause(alts)

    def _known(self, token: Token) -> bool:
        """Whether the index has the word, or another word with its stem."""
        df = self.df
        return bool(df("words", token.word)) or any(df(f, token.stem) for f in WORD_FIELDS)

    def _split(self, token: Token) -> tuple[str, str] | None:
        """Two indexed words an unknown word is made of ("doorentry" -> door entry)."""
        word = token.word
        if len(word) < SPLIT_MIN_CHARS or not word.isalpha() or self._known(token):
            return None
        df = self.df
        best: tuple[int, int, tuple[str, str]] | None = None
        for cut in range(2, len(word) - 2):
            head, tail = word[:cut], word[cut:]
            if head in STOP_WORDS or tail in STOP_WORDS:
                continue
            rarer = min(self._word_df(head), self._word_df(tail))
            if not rarer:
                continue
            pair = f"{stem(head)}{PAIR_SEP}{stem(tail)}"
            together = df("head_pairs", pair) + df("body_pairs", pair)
            candidate = (together, rarer, (head, tail))
            if best is None or candidate[:2] > best[:2]:
                best = candidate
        if best is None:
            return None
        together, _rarer, (head, tail) = best
        # Only when the articles use the two words together: "childline" is not "child line".
        return (head, tail) if together else None

    def _word_df(self, word: str) -> int:
        """Documents with ``word`` or another form of it ("harmed" counts "harm")."""
        df = self.df
        return df("words", word) or max(df(f, stem(word)) for f in WORD_FIELDS)

    def _check_spelling(self, token: Token, plan: Plan) -> tuple[list[str], int]:
        """Note a better spelling for a word nobody wrote; returns (stems to fuzzy-match,
        edits away)."""
        # A word the index has and a real English word ("smell" is not a typo of "spell")
        # are never corrected or fuzzy-matched: a suggestion must find clearly more.
        if self.df("words", token.word) or is_english(token.word):
            return [], 0
        if self._known(token):
            # The stem already matches ("emergancy" finds "emergency"): nothing more to
            # find, but the right spelling is worth showing if another word gets a fix.
            near = self.spelling.near(token.word, 1) if max_edits(token.word) else {}
            same = sorted(w for w in near if stem(w) == token.stem)
            if same:
                plan.respellings[token] = same[0]
            return [], 0
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

    def _correct(self, token: Token, plan: Plan) -> tuple[list[str], int]:
        """Record the likeliest spelling of an unknown word; returns (stems to fuzzy-match,
        edits away)."""
        maxdist = max_edits(token.word)
        near = self.spelling.near(token.word, maxdist) if maxdist else {}
        if not near:
            return [], 0
        closest = min(near.values())
        df = self.df
        ranked = sorted(
            (w for w, d in near.items() if d == closest), key=lambda w: (-df("words", w), w)
        )
        plan.corrections[token] = ranked[0]
        stems: list[str] = []
        for w in ranked:
            if stem(w) not in stems:
                stems.append(stem(w))
        return stems[:FUZZY_STEMS], closest


def suggestion_for(parsed: ParsedQuery, plan: Plan) -> str | None:
    """The query with each unknown word replaced by its likeliest spelling, if that differs."""
    if not plan.corrections:
        return None
    fixes = {**plan.respellings, **plan.corrections}
    text = parsed.text
    pieces, pos = [], 0
    for token in sorted(fixes, key=lambda t: t.start):
        pieces += [text[pos : token.start], fixes[token]]
        pos = token.end
    pieces.append(text[pos:])
    suggestion = " ".join("".join(pieces).split())
    return suggestion if suggestion.lower() != " ".join(text.split()).lower() else None
