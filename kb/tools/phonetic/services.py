"""Phonetic speller rules for the pages: which mode, the spelling or a message for people."""

from __future__ import annotations

from kb.tools.phonetic.speller import MODES, PhoneticInputError, PhoneticSpelling, spell

# Spellings the card mentions as "also heard"; the reader accepts these and a few more.
CARD_VARIANTS = {
    "A": "Alpha",
    "J": "Juliet",
    "W": "Whisky",
    "9": "Niner",
    "0": "Nought",
    "-": "Hyphen",
    ".": "Point, full stop",
    "/": "Stroke",
}


def spell_for_page(text: str, mode: str) -> tuple[str, PhoneticSpelling | None, str | None]:
    """The mode used (anything unknown reads as auto), the spelling, and an error message."""
    if mode not in MODES:
        mode = "auto"
    if not text.strip():
        return mode, None, None
    try:
        return mode, spell(text, mode), None
    except PhoneticInputError as error:
        return mode, None, str(error)
