"""Word-level diffs (kb/core/diffs.py) and how the macro shows them."""

from __future__ import annotations

from flask import render_template_string

from kb.core.diffs import DELETE, EQUAL, INSERT, word_diff


def ops(diff):
    """(op, text) of every piece, folded blocks included."""
    return [(piece.op, piece.text) for block in diff.blocks for piece in block.pieces]


def test_a_one_word_edit_shows_as_that_word_only():
    diff = word_diff("Call back within 3 working days.\n", "Call back within 5 working days.\n")
    assert ops(diff) == [
        (EQUAL, "Call back within "), (DELETE, "3"), (INSERT, "5"), (EQUAL, " working days.\n"),
    ]
    assert (diff.inserted_words, diff.deleted_words) == (1, 1)
    assert not diff.identical


def test_identical_texts_are_identical_and_fold_entirely():
    text = "".join(f"line {n}\n" for n in range(20))
    diff = word_diff(text, text)
    assert diff.identical
    assert [block.folded for block in diff.blocks] == [True]
    assert diff.blocks[0].lines == 20


def test_long_unchanged_stretches_fold_keeping_context_around_the_change():
    old = "".join(f"line {n}\n" for n in range(30))
    new = old.replace("line 15\n", "line fifteen\n")
    diff = word_diff(old, new, context=2)
    folded = [block for block in diff.blocks if block.folded]
    assert [block.lines for block in folded] == [13, 12]
    shown = "".join(p.text for b in diff.blocks if not b.folded for p in b.pieces)
    assert "line 13\nline 14\n" in shown and "line 16\nline 17\n" in shown
    assert "line 12\n" not in shown and "line 18\n" not in shown
    # Nothing is lost: the pieces still spell out both texts.
    assert "".join(t for op, t in ops(diff) if op != INSERT) == old
    assert "".join(t for op, t in ops(diff) if op != DELETE) == new


def test_added_and_removed_lines_and_line_endings():
    diff = word_diff("a\r\nb\r\n", "a\nb\nc d\n")
    assert ops(diff) == [(EQUAL, "a\nb\n"), (INSERT, "c d\n")]
    assert (diff.inserted_words, diff.deleted_words) == (2, 0)
    assert word_diff("x\n", "").deleted_words == 1
    assert word_diff("", "").identical


def test_the_macro_marks_changes_by_more_than_colour(app):
    with app.test_request_context():
        html = render_template_string(
            '{% from "macros/diff.html" import render_diff %}{{ render_diff(d) }}',
            d=word_diff("<b>old</b> words\n" + "same\n" * 10, "<b>new</b> words\n" + "same\n" * 10),
        )
    assert "<del><span class=\"visually-hidden\">[deleted: </span>old" in html
    assert "<ins><span class=\"visually-hidden\">[inserted: </span>new" in html
    assert "&lt;b&gt;" in html and "<b>" not in html  # the text is escaped, never markup
    assert "<details class=\"diff-fold\"><summary>8 unchanged lines</summary>" in html
    assert "+1 word added" in html and "1 word removed" in html
