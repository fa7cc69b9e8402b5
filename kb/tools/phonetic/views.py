"""Phonetic speller pages: the speller, its live result fragment, the reference card."""

from __future__ import annotations

from flask import render_template, request

from kb.tools import bp
from kb.tools.phonetic.services import CARD_VARIANTS, spell_for_page
from kb.tools.phonetic.speller import DIGITS, LETTERS, MAX_TEXT_LENGTH, SYMBOLS, PhoneticSpelling


def _spell_from_request() -> tuple[str, str, PhoneticSpelling | None, str | None]:
    """The text and mode asked for, the spelling, and an error message for people."""
    text = request.args.get("text", "")
    mode, result, error = spell_for_page(text, request.args.get("mode", "auto"))
    return text, mode, result, error


@bp.route("/phonetic")
def phonetic():
    """The speller: a form that works without JavaScript and updates as you type with it."""
    text, mode, result, error = _spell_from_request()
    return render_template(
        "tools/phonetic.html",
        text=text,
        mode=mode,
        result=result,
        error=error,
        max_length=MAX_TEXT_LENGTH,
    ), (400 if error else 200)


@bp.route("/phonetic/result")
def phonetic_result():
    """Just the result, for the page's live update as the agent types."""
    _text, mode, result, error = _spell_from_request()
    page = render_template("tools/_phonetic_result.html", mode=mode, result=result, error=error)
    return page, (400 if error else 200)


@bp.route("/phonetic/card")
def phonetic_card():
    """A printable one-page reference card of the alphabet, digits and symbols."""
    return render_template(
        "tools/phonetic_card.html",
        letters=LETTERS,
        digits=DIGITS,
        symbols=SYMBOLS,
        variants=CARD_VARIANTS,
    )
