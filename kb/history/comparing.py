"""Comparing two versions: their Markdown, and their text as readers see it rendered."""

from __future__ import annotations

from functools import lru_cache

from kb.content.render import html_to_text, render_markdown
from kb.core.diffs import Diff, word_diff


def source_diff(older, newer) -> Diff:
    """The word-level diff of two versions' Markdown (or script source)."""
    return word_diff(older.markdown, newer.markdown)


def rendered_diff(older, newer) -> Diff:
    """The same diff over the rendered text, so markup changes that read the same vanish."""
    return word_diff(rendered_text(older.sha256, older.markdown),
                     rendered_text(newer.sha256, newer.markdown))


@lru_cache(maxsize=256)
def rendered_text(_sha256: str, markdown: str) -> str:
    """Plain text of rendered Markdown, one line per block (cached: versions never change)."""
    return html_to_text(render_markdown(markdown).html)


def header_diff(older, newer) -> list[tuple[str, Diff]]:
    """Title and quick answer, when they differ between the two versions."""
    changed = []
    for label, name in (("Title", "title"), ("Quick answer", "summary")):
        before, after = getattr(older, name, None), getattr(newer, name, None)
        if before is not None and after is not None and before != after:
            changed.append((label, word_diff(before, after)))
    return changed
