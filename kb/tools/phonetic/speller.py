"""NATO phonetic spelling and reading it back: plain functions, no Flask."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

MAX_TEXT_LENGTH = 500
MODES = ("auto", "encode", "decode")

# The display spelling is NATO's own (Alfa, Juliett); the common variants are accepted
# when reading back, below.
LETTERS: dict[str, str] = {
    "A": "Alfa", "B": "Bravo", "C": "Charlie", "D": "Delta", "E": "Echo", "F": "Foxtrot",
    "G": "Golf", "H": "Hotel", "I": "India", "J": "Juliett", "K": "Kilo", "L": "Lima",
    "M": "Mike", "N": "November", "O": "Oscar", "P": "Papa", "Q": "Quebec", "R": "Romeo",
    "S": "Sierra", "T": "Tango", "U": "Uniform", "V": "Victor", "W": "Whiskey",
    "X": "X-ray", "Y": "Yankee", "Z": "Zulu",
}  # fmt: skip
DIGITS: dict[str, str] = {
    "0": "Zero", "1": "One", "2": "Two", "3": "Three", "4": "Four",
    "5": "Five", "6": "Six", "7": "Seven", "8": "Eight", "9": "Nine",
}  # fmt: skip
# No word for a space: the words either side are said as separate groups, with a pause.
SYMBOLS: dict[str, str] = {
    "-": "Dash", "@": "At", ".": "Dot", "/": "Slash", "_": "Underscore",
    "'": "Apostrophe", "&": "Ampersand", "+": "Plus", ",": "Comma", "#": "Hash",
    "(": "Open bracket", ")": "Close bracket", ":": "Colon",
}  # fmt: skip
ALPHABET: dict[str, str] = {**LETTERS, **DIGITS, **SYMBOLS}

# Other words people say (or type) for the same character. Keys are lower case, with
# words separated by one space ("x ray" also covers "X-ray" once separators are split).
VARIANTS: dict[str, str] = {
    "alpha": "A", "juliet": "J", "whisky": "W", "xray": "X", "x ray": "X", "exray": "X",
    "nought": "0", "wun": "1", "tree": "3", "fower": "4", "fife": "5",
    "niner": "9", "hyphen": "-", "minus": "-", "at sign": "@", "point": ".",
    "period": ".", "full stop": ".", "forward slash": "/", "stroke": "/",
    "under score": "_", "and sign": "&", "hash sign": "#", "left bracket": "(",
    "right bracket": ")", "space": " ", "blank": " ",
}  # fmt: skip
WORDS: dict[str, str] = {
    **{word.lower().replace("-", " "): char for char, word in ALPHABET.items()},
    **VARIANTS,
}
# Read-back input is split on these: spaces, commas, full stops, hyphens, slashes.
_SEPARATORS = re.compile(r"[\s,;.:\-\u2010-\u2015/|]+")
_EDGE_PUNCTUATION = "\"'`\u2018\u2019\u201c\u201d()[]{}!?<>"
# In the spoken line, groups are joined by a dash standing alone; read back, it is a space.
GROUP_BREAK = " \u2014 "
_GROUP_BREAK = re.compile(r"\s+[\u2013\u2014]\s+")
# A name: letters, with spaces, hyphens or apostrophes between them (Anne-Marie O'Neil).
_NAME = re.compile(r"^[^\W\d_]+(?:(?:\s+|-|['\u2019])[^\W\d_]+)*$")
# In a name a hyphen is said "hyphen" (Smith hyphen Jones); elsewhere, "dash".
NAME_WORDS = {"-": "Hyphen"}
APOSTROPHES = "\u2019"  # a typographic apostrophe (O’Brien) reads as the plain one
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})$")
LONG_RUN = 6  # runs longer than this are split into chunks of at most CHUNK characters
CHUNK = 4
UNREAD_NOTE = "Not a word we recognise; kept as typed"


class PhoneticInputError(ValueError):
    """Text that cannot be spelled; the message is for people."""


@dataclass(frozen=True)
class Entry:
    """One character and the word to say for it; unknown characters keep themselves."""

    char: str
    word: str
    known: bool = True
    note: str = ""

    @property
    def label(self) -> str:
        """The character as shown on screen (a space is invisible, so it is named)."""
        return "space" if self.char.isspace() else self.char

    @property
    def is_gap(self) -> bool:
        """True for a space: nothing is said for it; it ends a group."""
        return self.char.isspace()

    @property
    def is_separator(self) -> bool:
        """True for symbols, which read as their own chunk."""
        return self.known and not self.char.isalnum() and not self.is_gap

    def to_json(self) -> dict:
        """The entry as a JSON object."""
        return {"char": self.char, "word": self.word, "known": self.known, "note": self.note}


@dataclass(frozen=True)
class Reading:
    """A word (or words) heard when reading back, and the character it stands for."""

    heard: str
    char: str
    known: bool = True

    def to_json(self) -> dict:
        """The reading as a JSON object."""
        return {"heard": self.heard, "char": self.char, "known": self.known}


def encode(text: str) -> list[Entry]:
    """Spell text character by character; characters outside the alphabet are flagged.

    A space has an entry with no word (a gap between groups, see ``groups``).
    """
    text = unicodedata.normalize("NFC", text)
    name = is_name(text)
    return [_encode_char(char, name) for char in text]


def is_name(text: str) -> bool:
    """True for a person's or a place's name: letters, and spaces, hyphens or apostrophes."""
    return bool(_NAME.match(text.strip()))


def _encode_char(char: str, in_name: bool = False) -> Entry:
    if in_name and char in NAME_WORDS:
        return Entry(char, NAME_WORDS[char])
    if char in APOSTROPHES:
        return Entry(char, ALPHABET["'"])
    # ASCII only: "ı".upper() is "I" and "ſ".upper() is "S", but neither is that letter.
    if char.isascii() and char.upper() in ALPHABET:
        return Entry(char, ALPHABET[char.upper()])
    if char.isspace():
        return Entry(char, "")
    word = char if char.isprintable() else f"U+{ord(char):04X}"
    return Entry(char, word, known=False, note=describe(char))


def describe(char: str) -> str:
    """A plain description of a character outside the alphabet, to say or check."""
    name = unicodedata.name(char, "")
    text = name.capitalize() if name else f"Character U+{ord(char):04X}"
    base = unicodedata.normalize("NFKD", char)[:1].upper()
    if base != char.upper() and base in LETTERS:
        text += f" (like {LETTERS[base]}, with an accent or mark)"
    elif name and not name.startswith(("LATIN", "DIGIT")) and char.isalpha():
        text += " (not an English letter, even if it looks like one)"
    return text


def spoken(entries: list[Entry]) -> str:
    """The words as one line to read out, a dash between groups: 'Sierra Echo One — Seven'."""
    return GROUP_BREAK.join(" ".join(entry.word for entry in group) for group in groups(entries))


def read(text: str) -> list[Reading]:
    """Read NATO words (and variants, digits, 'S for Sugar') back into characters.

    A dash standing alone between words (the spoken line's group break) reads as a space.
    """
    readings: list[Reading] = []
    for index, part in enumerate(_GROUP_BREAK.split(text)):
        if index:
            readings.append(Reading("\u2014", " "))
        readings.extend(_read_part(part))
    return readings


def _read_part(text: str) -> list[Reading]:
    tokens = [t.strip(_EDGE_PUNCTUATION) for t in _SEPARATORS.split(text)]
    tokens = [t for t in tokens if t]
    readings: list[Reading] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        pair = " ".join(tokens[i : i + 2]).lower()
        if i + 1 < len(tokens) and pair in WORDS:
            readings.append(Reading(" ".join(tokens[i : i + 2]), WORDS[pair]))
            i += 2
        elif token.lower() in WORDS:
            readings.append(Reading(token, WORDS[token.lower()]))
            i += 1
        elif _is_ascii_char(token) and i + 2 < len(tokens) and tokens[i + 1].lower() == "for":
            # "S for Sugar": the caller named the letter, whatever word they used for it.
            readings.append(Reading(" ".join(tokens[i : i + 3]), token.upper()))
            i += 3
        elif _is_ascii_char(token) or (token.isascii() and token.isdigit()):
            readings.append(Reading(token, token.upper()))
            i += 1
        else:
            readings.append(Reading(token, token, known=False))
            i += 1
    return readings


def _is_ascii_char(token: str) -> bool:
    return len(token) == 1 and token.isascii() and token.isalnum()


def decode(text: str) -> str:
    """The text that NATO words spell: decode('Sierra Echo One') == 'SE1'."""
    return "".join(reading.char for reading in read(text))


def looks_like_words(text: str) -> bool:
    """True when text reads as NATO words: two or more, and at least three in four known.

    One word alone ("Mike", "Victor") is more likely a name to spell out, and a slip of
    the keyboard in a longer read-back ("Sierra Echo One Oen") still reads back, flagged.
    """
    readings = read(text)
    words = [r for r in readings if len(r.heard) > 1 and not r.heard.isdigit()]
    known = sum(1 for r in words if r.known)
    return known >= 2 and 3 * (len(words) - known) <= known


def postcode(text: str) -> str | None:
    """A UK postcode written the standard way ('SW1A 1AA'), or None if text is not one."""
    match = _POSTCODE.match(" ".join(text.upper().split()))
    return f"{match.group(1)} {match.group(2)}" if match else None


def groups(entries: list[Entry]) -> list[list[Entry]]:
    """The words to say as separate groups: split at spaces, and a postcode in its halves.

    The spaces themselves are left out: a pause between groups says them.
    """
    found: list[list[Entry]] = []
    word: list[Entry] = []
    for entry in [*entries, Entry(" ", "")]:
        if not entry.is_gap:
            word.append(entry)
        elif word:
            found.append(word)
            word = []
    halves = _postcode_halves(found)
    return halves if halves else [half for word in found for half in _postcode_split(word)]


def _postcode_halves(found: list[list[Entry]]) -> list[list[Entry]] | None:
    """A postcode typed with odd spacing ('SW 1A1AA') still reads in its two halves."""
    if len(found) < 2:
        return None
    run = [entry for word in found for entry in word]
    return _postcode_split(run) if postcode("".join(e.char for e in run)) else None


def _postcode_split(run: list[Entry]) -> list[list[Entry]]:
    if postcode("".join(entry.char for entry in run)):  # typed without its space
        cut = len(run) - 3
        return [run[:cut], run[cut:]]
    return [run]


def chunks(entries: list[Entry]) -> list[list[Entry]]:
    """Split a spelling into short chunks to read with a pause between them."""
    return [chunk for group in groups(entries) for chunk in group_chunks(group)]


def group_chunks(group: list[Entry]) -> list[list[Entry]]:
    """One group in chunks: each symbol alone, and a long run in pieces of up to four."""
    found: list[list[Entry]] = []
    run: list[Entry] = []
    for entry in group:
        if entry.is_separator:
            found.extend(_split_run(run))
            found.append([entry])
            run = []
        else:
            run.append(entry)
    found.extend(_split_run(run))
    return found


def _split_run(run: list[Entry]) -> list[list[Entry]]:
    if not run:
        return []
    if len(run) <= LONG_RUN:
        return [run]
    count = -(-len(run) // CHUNK)
    size, extra = divmod(len(run), count)
    groups, start = [], 0
    for index in range(count):
        end = start + size + (1 if index < extra else 0)
        groups.append(run[start:end])
        start = end
    return groups


def case_hint(text: str) -> str | None:
    """'lower', 'mixed' or None, so the agent knows to say 'all lower case' or 'capital'."""
    letters = [char for char in text if char.isascii() and char.isalpha()]
    if not letters or all(char.isupper() for char in letters):
        return None
    return "lower" if all(char.islower() for char in letters) else "mixed"


@dataclass(frozen=True)
class PhoneticSpelling:
    """The answer to one request: what was typed, how it was read, and the words to say."""

    text: str
    mode: str
    entries: list[Entry]
    readings: list[Reading] = field(default_factory=list)

    @property
    def said(self) -> list[Entry]:
        """The entries that are said: every one but the spaces."""
        return [entry for entry in self.entries if not entry.is_gap]

    @property
    def words(self) -> list[str]:
        """One word per character said (or per unrecognised word when reading back)."""
        return [entry.word for entry in self.said]

    @property
    def spoken(self) -> str:
        """The words as one line."""
        return spoken(self.entries)

    @property
    def decoded(self) -> str:
        """The characters the NATO words stand for (reading back only)."""
        return "".join(reading.char for reading in self.readings)

    @property
    def unknown(self) -> list[str]:
        """Characters (or words, reading back) that are not in the alphabet."""
        if self.mode == "decode":
            return [r.heard for r in self.readings if not r.known]
        return [entry.char for entry in self.entries if not entry.known]

    @property
    def chunks(self) -> list[list[Entry]]:
        """The spelling in short chunks."""
        return chunks(self.entries)

    @property
    def groups(self) -> list[list[Entry]]:
        """The spelling in groups said with a pause between them (words, postcode halves)."""
        return groups(self.entries)

    @property
    def grouped_chunks(self) -> list[list[list[Entry]]]:
        """Each group in its chunks, for the page."""
        return [group_chunks(group) for group in self.groups]

    @property
    def postcode(self) -> str | None:
        """The postcode, when the text is one."""
        return postcode(self.decoded if self.mode == "decode" else self.text)

    @property
    def case_hint(self) -> str | None:
        """Whether letter case needs saying (spelling out only; never for postcodes)."""
        if self.mode != "encode" or self.postcode:
            return None
        return case_hint(self.text)

    def to_json(self) -> dict:
        """The API shape: text, words and spoken (DESIGN.md), with extras."""
        data = {
            "text": self.text,
            "mode": self.mode,
            "words": self.words,
            "spoken": self.spoken,
            "groups": [[entry.word for entry in group] for group in self.groups],
            "entries": [entry.to_json() for entry in self.said],
            "chunks": [[entry.word for entry in chunk] for chunk in self.chunks],
            "unknown": self.unknown,
            "postcode": self.postcode,
        }
        if self.mode == "decode":
            data["decoded"] = self.decoded
            data["readings"] = [reading.to_json() for reading in self.readings]
        return data


def spell(text: str, mode: str = "auto") -> PhoneticSpelling:
    """Spell text out, or read NATO words back ('auto' decides by the words typed)."""
    text = text.strip()
    if mode not in MODES:
        raise PhoneticInputError(f"mode must be one of: {', '.join(MODES)}.")
    if not text:
        raise PhoneticInputError("Type some text to spell (the text parameter is empty).")
    if len(text) > MAX_TEXT_LENGTH:
        raise PhoneticInputError(
            f"That is {len(text)} characters; the speller takes up to {MAX_TEXT_LENGTH} at a "
            "time. Spell it in parts."
        )
    if mode == "auto":
        mode = "decode" if looks_like_words(text) else "encode"
    if mode == "encode":
        return PhoneticSpelling(text, mode, encode(text))
    readings = read(text)
    entries: list[Entry] = []
    for reading in readings:
        if reading.known:
            entries.extend(encode(reading.char))
        else:
            entries.append(Entry(reading.heard, reading.heard, known=False, note=UNREAD_NOTE))
    return PhoneticSpelling(text, mode, entries, readings)
