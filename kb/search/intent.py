"""Recognising what a query means (a caller at risk, a hazard in the home) from vocabulary data.

A vocabulary is YAML a manager can read: ``concepts`` are named lists of words and phrases
(for example ``self: [myself, himself, herself]``) and ``patterns`` combine them
(``"[kill_verb] [self]"``). A query is normalised first (contractions and slang rewritten,
inflections stemmed, run-together words split, typos in longer words corrected) and then
matched against every pattern. Pure Python: no app, no database, no whoosh.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import yaml

from kb.search.edits import edit_distance

MAX_TOKENS = 80  # a query is at most 500 characters; longer text is not a search
GAP_WORDS = 3  # how many words "..." may skip
# <number> in a vocabulary means "a lot": ten or more ("took 30 tablets", not "two").
NUMBER_WORDS = frozenset(
    "ten eleven twelve fifteen twenty thirty forty fifty sixty hundred dozen dozens"
    " hundreds".split()
)
MIN_NUMBER = 10
# <age> means an older person's age ("no heating and she is 92").
AGE_RANGE = range(65, 121)
# Inflections the suffix rules below cannot reach.
IRREGULAR = {
    "dying": "die", "died": "die", "dies": "die", "dead": "dead", "lying": "lie",
    "tied": "tie", "tying": "tie", "hung": "hang", "hanged": "hang", "took": "take",
    "taken": "take", "taking": "take", "gone": "go", "went": "go", "going": "go",
    "said": "say", "says": "say", "saying": "say", "felt": "feel", "thought": "think",
    "bought": "buy", "got": "get", "gotten": "get", "getting": "get", "threw": "throw",
    "thrown": "throw", "ate": "eat", "eaten": "eat", "shot": "shoot", "slit": "slit",
    "lives": "live", "living": "live", "lived": "live", "life": "life", "wrote": "write",
    "written": "write", "left": "leave", "done": "do", "does": "do", "did": "do",
    "has": "have", "had": "have", "having": "have", "is": "be", "was": "be", "were": "be",
    "are": "be", "am": "be", "been": "be", "being": "be", "stood": "stand", "sat": "sit",
    "ran": "run", "drove": "drive", "driven": "drive", "made": "make", "found": "find",
    "fell": "fall", "fallen": "fall", "smelt": "smell", "burnt": "burn", "wanna": "wanna",
}
TOKEN_RE = re.compile(r"[a-z0-9]+(?:'[a-z]+)*")
PATTERN_ITEM_RE = re.compile(r"^(!?)(\[[a-z0-9_]+\]|[a-z0-9']+(?:\|[a-z0-9']+)*)(\??)$")
CLITICS = {"n't": ["not"], "'ll": ["will"], "'re": ["are"], "'ve": ["have"], "'m": ["am"],
           "'d": ["would"], "'s": []}
TOP_KEYS = {"name", "article", "rewrites", "ignore", "concepts", "patterns"}


class VocabularyError(ValueError):
    """Vocabulary text that cannot be used; the message names the line."""


def stem(word: str) -> str:
    """A light stem so "overdosed", "overdoses" and "overdose" meet (and "cutting"/"cut")."""
    if word in IRREGULAR:
        return IRREGULAR[word]
    if len(word) <= 3 or not word.isalpha():
        return word
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            if len(word) > 2 and word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]  # cutting -> cut, stabbed -> stab
            break
    else:
        if word.endswith("ies") and len(word) > 4:
            word = word[:-3] + "y"
        elif word.endswith("s") and not word.endswith("ss") and len(word) > 3:
            word = word[:-1]
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]  # hope/hoping -> hop, overdose/overdosing -> overdos
    return word


def typo_allowance(word: str) -> int:
    """Typos tolerated: none under five letters (too many real words), one, two from eight."""
    if len(word) < 5:
        return 0
    return 1 if len(word) < 8 else 2


# ----- the vocabulary format ------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """One pattern element: a concept or literal words, maybe optional, maybe a "not next"."""

    kind: str  # "concept", "words", "gap" (...), "end" ($)
    value: str | frozenset[str] = ""
    optional: bool = False
    negated: bool = False


@dataclass
class Pattern:
    """A parsed pattern and the source line it came from."""

    text: str
    line: int
    items: list[Item]
    # What must be in the query for the pattern to have a chance: a cheap first filter.
    needs_concepts: frozenset[str] = frozenset()
    needs_words: tuple[frozenset[str], ...] = ()


@dataclass
class Vocabulary:
    """A parsed, validated vocabulary."""

    name: str
    article: str
    rewrites: dict[str, list[str]]
    concepts: dict[str, list[tuple[str, ...]]]
    patterns: list[Pattern]
    ignore: frozenset[str] = frozenset()  # filler words dropped before matching ("just")
    # stem of a phrase's first word -> [(concept, stems of the phrase)]
    first_stems: dict[str, list[tuple[str, tuple[str, ...]]]] = field(default_factory=dict)
    known_words: frozenset[str] = frozenset()
    known_stems: frozenset[str] = frozenset()
    typo_targets: tuple[str, ...] = ()


def _line(node) -> int:
    """The 1-based source line of a YAML node."""
    return node.start_mark.line + 1


def _scalar(node, what: str) -> str:
    """A YAML node as lower-case text, or a VocabularyError naming its line."""
    if not isinstance(node, yaml.ScalarNode) or not str(node.value).strip():
        raise VocabularyError(f"Line {_line(node)}: {what} must be some text.")
    return str(node.value).strip().lower()


def _words(text: str) -> list[str]:
    """The words of a phrase as the recogniser sees them ("self-harm" is two)."""
    return TOKEN_RE.findall(text.lower().replace("’", "'").replace("-", " "))


def parse_vocabulary(text: str) -> Vocabulary:
    """Parse and check vocabulary YAML; raises VocabularyError naming the line at fault."""
    try:
        # The C loader (when PyYAML has it) is ten times faster and keeps line marks.
        root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"Line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise VocabularyError(f"{where}not valid YAML ({problem}).") from None
    if not isinstance(root, yaml.MappingNode):
        raise VocabularyError("Line 1: the vocabulary must start with keys such as 'name:', "
                              "'concepts:' and 'patterns:'.")
    sections = {}
    for key, value in root.value:
        name = _scalar(key, "a key")
        if name not in TOP_KEYS:
            raise VocabularyError(f"Line {_line(key)}: unknown key '{name}' (expected one of: "
                                  f"{', '.join(sorted(TOP_KEYS))}).")
        sections[name] = value
    for required in ("name", "concepts", "patterns"):
        if required not in sections:
            raise VocabularyError(f"The vocabulary has no '{required}:' section.")
    vocab_name = _scalar(sections["name"], "'name'")
    article = _scalar(sections["article"], "'article'") if "article" in sections else ""
    rewrites = _parse_rewrites(sections.get("rewrites"))
    concepts = _parse_concepts(sections["concepts"])
    patterns = _parse_patterns(sections["patterns"], concepts)
    ignore = _parse_ignore(sections.get("ignore"))
    return _compile(Vocabulary(vocab_name, article, rewrites, concepts, patterns, ignore))


def _parse_ignore(node) -> frozenset[str]:
    """The ignore section: filler words that never change the meaning."""
    if node is None:
        return frozenset()
    if not isinstance(node, yaml.SequenceNode):
        raise VocabularyError(f"Line {_line(node)}: 'ignore' must be a list of words, "
                              "for example [just, really].")
    return frozenset(_scalar(item, "an ignored word") for item in node.value)


def _parse_rewrites(node) -> dict[str, list[str]]:
    """The rewrites section: one typed word to the words it means."""
    if node is None or (isinstance(node, yaml.ScalarNode) and node.value in ("", "null", "~")):
        return {}
    if not isinstance(node, yaml.MappingNode):
        raise VocabularyError(f"Line {_line(node)}: 'rewrites' must be lines of "
                              "'typed: meant' pairs.")
    out = {}
    for key, value in node.value:
        typed = _scalar(key, "a rewritten word")
        if not TOKEN_RE.fullmatch(typed):
            raise VocabularyError(f"Line {_line(key)}: '{typed}' must be one word "
                                  "(letters, digits, an apostrophe).")
        out[typed] = _words(_scalar(value, f"what '{typed}' means"))
    return out


def _parse_concepts(node) -> dict[str, list[tuple[str, ...]]]:
    """The concepts section: name to a list of phrases (tuples of words)."""
    if not isinstance(node, yaml.MappingNode):
        raise VocabularyError(f"Line {_line(node)}: 'concepts' must be named lists, "
                              "for example 'self: [myself, himself]'.")
    concepts: dict[str, list[tuple[str, ...]]] = {}
    for key, value in node.value:
        name = _scalar(key, "a concept name")
        if not re.fullmatch(r"[a-z0-9_]+", name):
            raise VocabularyError(f"Line {_line(key)}: concept name '{name}' may use only "
                                  "lower-case letters, digits and _.")
        if name in concepts:
            raise VocabularyError(f"Line {_line(key)}: concept '{name}' is defined twice.")
        if not isinstance(value, yaml.SequenceNode) or not value.value:
            raise VocabularyError(f"Line {_line(value)}: concept '{name}' must be a list "
                                  "of words or phrases, for example [myself, himself].")
        phrases = []
        for item in value.value:
            raw = _scalar(item, f"an entry of '{name}'")
            if raw in ("<number>", "<age>"):
                words: tuple[str, ...] = (raw,)
            else:
                exact = raw.startswith("=")  # "=hurting": this form only, not "hurt"
                words = tuple(("=" if exact else "") + w for w in _words(raw.lstrip("=")))
            if not words:
                raise VocabularyError(f"Line {_line(item)}: '{raw}' in '{name}' has no words.")
            phrases.append(words)
        concepts[name] = phrases
    return concepts


def _parse_patterns(node, concepts: dict) -> list[Pattern]:
    """The patterns section, each checked against the concepts."""
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        raise VocabularyError(f"Line {_line(node)}: 'patterns' must be a list of patterns, "
                              "for example - \"[kill_verb] [self]\".")
    patterns = []
    for item in node.value:
        text = _scalar(item, "a pattern")
        items: list[Item] = []
        for part in text.split():
            if part in ("...", "$"):
                items.append(Item("gap" if part == "..." else "end"))
                continue
            match = PATTERN_ITEM_RE.match(part)
            if not match:
                raise VocabularyError(
                    f"Line {_line(item)}: cannot read '{part}' in pattern '{text}'. Use "
                    "[concept], a word, words|like|this, ... for a gap, ? after an optional "
                    "part and ! before a part that must not come next.")
            negated, body, optional = bool(match[1]), match[2], bool(match[3])
            if body.startswith("["):
                name = body[1:-1]
                if name not in concepts:
                    raise VocabularyError(f"Line {_line(item)}: pattern '{text}' uses "
                                          f"[{name}], which is not a concept.")
                items.append(Item("concept", name, optional, negated))
            else:
                stems = frozenset(stem(w) for word in body.split("|") for w in _words(word))
                items.append(Item("words", stems, optional, negated))
        if all(i.kind in ("gap", "end") or i.negated or i.optional for i in items):
            raise VocabularyError(f"Line {_line(item)}: pattern '{text}' needs at least one "
                                  "part that must be there.")
        if items[0].kind == "gap" or items[-1].kind == "gap":
            raise VocabularyError(f"Line {_line(item)}: pattern '{text}' cannot start or "
                                  "end with '...'.")
        if any(i.kind == "end" for i in items[:-1]):
            raise VocabularyError(f"Line {_line(item)}: '$' (the end of the query) can only "
                                  f"come last, in pattern '{text}'.")
        required = [i for i in items if i.kind in ("concept", "words")
                    and not (i.optional or i.negated)]
        patterns.append(Pattern(
            text, _line(item), items,
            frozenset(i.value for i in required if i.kind == "concept"),
            tuple(i.value for i in required if i.kind == "words"),
        ))
    return patterns


def _compile(vocab: Vocabulary) -> Vocabulary:
    """Indexes for matching: phrases by first stem, the words known for splitting and typos."""
    words: set[str] = set()
    for name, phrases in vocab.concepts.items():
        for phrase in phrases:
            # An exact form keeps its "=" so it only meets the same spelling (see _spans).
            stems = tuple(w if w.startswith("=") else stem(w) for w in phrase)
            vocab.first_stems.setdefault(stem(phrase[0].lstrip("=")), []).append((name, stems))
            words.update(w.lstrip("=") for w in phrase if not w.startswith("<"))
    for pattern in vocab.patterns:
        for item in pattern.items:
            if item.kind == "words":
                words.update(item.value)
    for meant in vocab.rewrites.values():
        words.update(meant)
    vocab.known_words = frozenset(words) | frozenset(vocab.rewrites)
    vocab.known_stems = frozenset(stem(w) for w in words)
    vocab.typo_targets = tuple(sorted(
        w for w in words | set(vocab.rewrites) if len(w) >= 5 and w.isalpha()
    ))
    return vocab


# ----- recognising ------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    """Why a query was recognised: the pattern, its line and the words that matched."""

    vocabulary: str
    pattern: str
    line: int
    words: str


class Recogniser:
    """Decides whether a query matches a vocabulary's patterns."""

    def __init__(self, vocab: Vocabulary, is_word: Callable[[str], bool] | None = None) -> None:
        """Compile against ``vocab``; ``is_word`` says which words are real English."""
        self.vocab = vocab
        # A real English word is never "corrected" or split ("fridge" is not "bridge").
        self.is_word = is_word or (lambda _w: False)
        # The typeahead asks about the same prefixes again and again.
        self.match = lru_cache(maxsize=4096)(self._match)
        self._repair = lru_cache(maxsize=16384)(self._repair)  # each word is fixed once

    def tokens(self, query: str) -> list[str]:
        """The query as words: lower case, contractions and slang rewritten, typos fixed."""
        text = query.lower().replace("’", "'").replace("‘", "'")
        out: list[str] = []
        ignore = self.vocab.ignore
        for raw in TOKEN_RE.findall(text)[:MAX_TOKENS]:
            for word in self._expand(raw):
                out.extend(w for w in self._repair(word) if w not in ignore)
        return out

    def _expand(self, raw: str) -> list[str]:
        """One raw token after rewrites and clitics ("doesn't" -> does not)."""
        rewrites = self.vocab.rewrites
        if raw in rewrites:
            return list(rewrites[raw])
        if "'" in raw:
            for clitic, meant in CLITICS.items():
                if raw.endswith(clitic) and len(raw) > len(clitic):
                    head = raw[: -len(clitic)]
                    return [*rewrites.get(head, [head.replace("'", "")]), *meant]
            return [raw.replace("'", "")]
        return [raw]

    def _repair(self, word: str) -> tuple[str, ...]:
        """A word, typo-corrected or split into known words when it is neither."""
        vocab = self.vocab
        if (word in vocab.known_words or stem(word) in vocab.known_stems or len(word) < 5
                or not word.isalpha() or self.is_word(word)):
            return (word,)
        # A near miss of a known word ("sucidal") first, then run-together words.
        limit = typo_allowance(word)
        best, best_distance = None, limit + 1
        for target in vocab.typo_targets:
            allowed = min(limit, typo_allowance(target))
            if allowed < 1 or abs(len(target) - len(word)) > allowed:
                continue
            distance = edit_distance(word, target, allowed)
            if distance <= allowed and distance < best_distance:
                best, best_distance = target, distance
        if best is not None:
            return tuple(vocab.rewrites.get(best, [best]))
        return tuple(self._split(word) or [word])

    def _split(self, word: str) -> list[str] | None:
        """Run-together words ("killmyself", "selfharmed") as the fewest known words."""
        vocab = self.vocab

        def known(piece: str) -> bool:
            """Whether a piece of a run-together word is a vocabulary word."""
            return len(piece) >= 2 and (piece in vocab.known_words or (
                len(piece) >= 4 and stem(piece) in vocab.known_stems))

        best: list[list[str] | None] = [[]] + [None] * len(word)
        for end in range(1, len(word) + 1):
            for start in range(max(0, end - 20), end):
                head = best[start]
                if head is not None and len(head) < 4 and known(word[start:end]):
                    candidate = [*head, word[start:end]]
                    if best[end] is None or len(candidate) < len(best[end]):
                        best[end] = candidate
        found = best[len(word)]
        return found if found and len(found) > 1 else None

    def _match(self, query: str) -> Match | None:
        """The first pattern the query matches, or None (``match`` is this, cached)."""
        words = self.tokens(query)
        if not words:
            return None
        stems = [stem(w) for w in words]
        spans = self._spans(words, stems)
        present = {name for found in spans for name in found}
        stem_set = set(stems)
        for pattern in self.vocab.patterns:
            if not pattern.needs_concepts <= present or any(
                stem_set.isdisjoint(options) for options in pattern.needs_words
            ):
                continue
            for start in range(len(words)):
                end = self._match_items(pattern.items, 0, start, words, stems, spans)
                if end is not None:
                    return Match(self.vocab.name, pattern.text, pattern.line,
                                 " ".join(words[start:end]))
        return None

    def _spans(self, words: list[str], stems: list[str]) -> list[dict[str, set[int]]]:
        """For each position, the concepts starting there and the lengths they cover."""
        spans: list[dict[str, set[int]]] = [{} for _ in words]
        concepts = self.vocab.concepts
        numbers = [name for name, phrases in concepts.items() if ("<number>",) in phrases]
        ages = [name for name, phrases in concepts.items() if ("<age>",) in phrases]
        for pos, word in enumerate(words):
            value = int(word[:6]) if word.isdigit() else None
            if (value is not None and value >= MIN_NUMBER) or word in NUMBER_WORDS:
                for name in numbers:
                    spans[pos].setdefault(name, set()).add(1)
            if value is not None and value in AGE_RANGE:
                for name in ages:
                    spans[pos].setdefault(name, set()).add(1)
            for name, phrase in self.vocab.first_stems.get(stems[pos], ()):
                size = len(phrase)
                if pos + size <= len(words) and all(
                    words[pos + k] == part[1:] if part.startswith("=") else
                    stems[pos + k] == part for k, part in enumerate(phrase)
                ):
                    spans[pos].setdefault(name, set()).add(size)
        return spans

    def _match_items(self, items, index, pos, words, stems, spans) -> int | None:
        """Where the rest of the pattern ends if it matches from ``pos`` (backtracking)."""
        if index == len(items):
            return pos
        item = items[index]
        if item.kind == "end":
            return pos if pos == len(words) else None
        if item.kind == "gap":
            for skip in range(GAP_WORDS + 1):
                if pos + skip > len(words):
                    break
                end = self._match_items(items, index + 1, pos + skip, words, stems, spans)
                if end is not None:
                    return end
            return None
        lengths = self._lengths(item, pos, stems, spans)
        if item.negated:
            if lengths:
                return None
            return self._match_items(items, index + 1, pos, words, stems, spans)
        for size in sorted(lengths, reverse=True):
            end = self._match_items(items, index + 1, pos + size, words, stems, spans)
            if end is not None:
                return end
        if item.optional:
            return self._match_items(items, index + 1, pos, words, stems, spans)
        return None

    @staticmethod
    def _lengths(item: Item, pos: int, stems: list[str], spans) -> set[int]:
        """How many words ``item`` can cover at ``pos`` (empty set: no match)."""
        if pos >= len(stems):
            return set()
        if item.kind == "concept":
            return spans[pos].get(item.value, set())
        return {1} if stems[pos] in item.value else set()
