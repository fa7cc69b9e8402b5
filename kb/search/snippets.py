"""Highlighted snippets: the best window of a document's text around the matched words."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from kb.search.synonyms import STOP_WORDS, TOKEN_RE, Terms, stem

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
    """Escaped ``text[begin:end]`` with the spans in <mark>, ellipses where it was cut."""
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
