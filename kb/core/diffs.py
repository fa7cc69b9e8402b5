"""Word-level diffs of two texts, with long unchanged stretches folded for display.

Used wherever someone must see what changed: version history, approval, publish conflicts
and (issue 10) what an agent is asked to re-acknowledge. Plain Python on ``difflib``; the
Jinja macro ``macros/diff.html`` ``render_diff(diff)`` shows a ``Diff``.

The texts are first matched line by line (fast, and keeps a moved paragraph readable); the
lines that differ are then matched word by word, so a one-word edit shows as one word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher

# A word, a run of whitespace, or one other character: joined back they give the text.
_TOKENS = re.compile(r"\w+|\s+|[^\w\s]")
_WORD = re.compile(r"\w")

EQUAL, INSERT, DELETE = "equal", "insert", "delete"


@dataclass(frozen=True)
class Piece:
    """A stretch of text that is unchanged, inserted or deleted."""

    op: str
    text: str


@dataclass(frozen=True)
class Block:
    """A run of pieces shown together; a folded block is unchanged text hidden by default."""

    pieces: tuple[Piece, ...]
    folded: bool = False
    lines: int = 0  # how many lines a folded block hides


@dataclass(frozen=True)
class Diff:
    """The blocks of a diff and how many words it inserts and deletes."""

    blocks: tuple[Block, ...] = field(default_factory=tuple)
    inserted_words: int = 0
    deleted_words: int = 0

    @property
    def identical(self) -> bool:
        """True when the two texts are the same."""
        return not self.inserted_words and not self.deleted_words and not any(
            piece.op != EQUAL for block in self.blocks for piece in block.pieces
        )


def _words(text: str) -> int:
    """How many words a stretch of text holds (punctuation-only edits count as one)."""
    count = sum(1 for token in _TOKENS.findall(text) if _WORD.search(token))
    return count or (1 if text.strip() else 0)


def _word_pieces(old: str, new: str) -> list[Piece]:
    """The word-by-word difference of two stretches of text."""
    a, b = _TOKENS.findall(old), _TOKENS.findall(new)
    pieces: list[Piece] = []
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            pieces.append(Piece(EQUAL, "".join(a[i1:i2])))
            continue
        if i2 > i1:
            pieces.append(Piece(DELETE, "".join(a[i1:i2])))
        if j2 > j1:
            pieces.append(Piece(INSERT, "".join(b[j1:j2])))
    return pieces


def _merge(pieces: list[Piece]) -> list[Piece]:
    """Join neighbouring pieces of the same kind, dropping empty ones."""
    merged: list[Piece] = []
    for piece in pieces:
        if not piece.text:
            continue
        if merged and merged[-1].op == piece.op:
            merged[-1] = Piece(piece.op, merged[-1].text + piece.text)
        else:
            merged.append(piece)
    return merged


def word_diff(old: str, new: str, *, context: int = 2) -> Diff:
    """The word-level diff from ``old`` to ``new``.

    Unchanged stretches longer than ``2 * context + 1`` lines are folded, keeping
    ``context`` lines either side of each change visible. Line endings are normalised.
    """
    old = old.replace("\r\n", "\n")
    new = new.replace("\r\n", "\n")
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    pieces: list[Piece] = []
    inserted = deleted = 0
    for op, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        before, after = "".join(a[i1:i2]), "".join(b[j1:j2])
        if op == "equal":
            pieces.append(Piece(EQUAL, before))
            continue
        changed = _word_pieces(before, after) if op == "replace" else (
            [Piece(DELETE, before)] if before else []) + ([Piece(INSERT, after)] if after else [])
        for piece in changed:
            if piece.op == INSERT:
                inserted += _words(piece.text)
            elif piece.op == DELETE:
                deleted += _words(piece.text)
        pieces.extend(changed)
    return Diff(tuple(_fold(_merge(pieces), context)), inserted, deleted)


def _fold(pieces: list[Piece], context: int) -> list[Block]:
    """Group pieces into blocks, folding the middle of long unchanged stretches."""
    blocks: list[Block] = []
    current: list[Piece] = []

    def flush() -> None:
        if current:
            blocks.append(Block(tuple(current)))
            current.clear()

    for index, piece in enumerate(pieces):
        if piece.op != EQUAL:
            current.append(piece)
            continue
        lines = piece.text.splitlines(keepends=True)
        keep_head = context if index > 0 else 0  # after a change
        keep_tail = context if index < len(pieces) - 1 else 0  # before a change
        # The rest of a changed line (or its start) belongs with the change, not the context.
        if keep_head and not pieces[index - 1].text.endswith("\n"):
            keep_head += 1
        if keep_tail and not piece.text.endswith("\n"):
            keep_tail += 1
        if len(lines) <= keep_head + keep_tail + 1:
            current.append(piece)
            continue
        head, tail = lines[:keep_head], lines[len(lines) - keep_tail:] if keep_tail else []
        middle = lines[keep_head:len(lines) - keep_tail]
        if head:
            current.append(Piece(EQUAL, "".join(head)))
        flush()
        blocks.append(Block((Piece(EQUAL, "".join(middle)),), folded=True, lines=len(middle)))
        if tail:
            current.append(Piece(EQUAL, "".join(tail)))
    flush()
    return blocks
