"""Phonetic speller: the pure encode/decode rules, the page and the API contract."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kb.tools.phonetic.speller import (
    ALPHABET,
    MAX_TEXT_LENGTH,
    PhoneticInputError,
    chunks,
    decode,
    encode,
    groups,
    looks_like_words,
    postcode,
    read,
    spell,
    spoken,
)

SUPPORTED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 -@."


# --- encode -----------------------------------------------------------------------------


def test_encode_letters_digits_and_symbols():
    entries = encode("SE1 1AA")
    assert [e.word for e in entries] == ["Sierra", "Echo", "One", "", "One", "Alfa", "Alfa"]
    assert all(e.known for e in entries)
    assert [e.is_gap for e in entries].count(True) == 1  # the space is a pause, not a word
    assert spoken(encode("j.doe-2@x.uk")) == (
        "Juliett Dot Delta Oscar Echo Dash Two At X-ray Dot Uniform Kilo"
    )


def test_encode_keeps_the_characters_typed_and_ignores_case_for_words():
    entries = encode("sE1")
    assert [e.char for e in entries] == ["s", "E", "1"]
    assert [e.word for e in entries] == ["Sierra", "Echo", "One"]


def test_whole_alphabet_has_a_word_each():
    assert len({word for char, word in ALPHABET.items() if char.isalpha()}) == 26
    assert [ALPHABET[d] for d in "0123456789"] == [
        "Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine",
    ]  # fmt: skip


@pytest.mark.parametrize("char", ["é", "ß", "😀", "а", "Ж", "€", "\u0131"])
def test_unknown_characters_pass_through_flagged(char):
    (entry,) = encode(char)
    assert entry.known is False
    assert entry.char == char and entry.word == char
    assert entry.note  # described in words for the agent


def test_lookalike_letters_are_not_spelled_as_english_letters():
    # Cyrillic "а" and dotless "ı" look like (or upper-case to) A and I, but are not them.
    assert [e.known for e in encode("аı")] == [False, False]
    assert "not an English letter" in encode("а")[0].note
    assert "like Echo" in encode("é")[0].note


def test_control_characters_are_named_not_printed():
    (entry,) = encode("\x07")
    assert entry.word == "U+0007" and not entry.known


def test_spoken_includes_unknown_characters_as_typed():
    assert spoken(encode("Zoë")) == "Zulu Oscar ë"


# --- decode -----------------------------------------------------------------------------


def test_decode_simple():
    assert decode("Sierra Echo One") == "SE1"


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("alpha ALFA Alfa", "AAA"),
        ("Juliet Juliett", "JJ"),
        ("X-ray Xray X ray x-RAY", "XXXX"),
        ("Whisky Whiskey", "WW"),
        ("Niner Nine Nought Zero", "9900"),
        ("Sierra,Echo, One", "SE1"),
        ("Sierra-Echo-One", "SE1"),
        ("sierra. echo; one", "SE1"),
        ("Sierra Whiskey One Alfa Space One Alfa Alfa", "SW1A 1AA"),
        ("Sierra Whiskey One Alfa — One Alfa Alfa", "SW1A 1AA"),  # the spoken line's break
        ("Sierra Whiskey One Alfa – One Alfa Alfa", "SW1A 1AA"),
        ("Sierra—Echo—One", "SE1"),  # a dash between words without spaces is no break
        ("Juliett Dot Smith", "J.Smith"),
        ("Bravo At Hyphen Dash Minus Full stop Underscore", "B@---._"),
        ("Sierra Echo 1", "SE1"),
        ("S for Sugar E for Edward", "SE"),
    ],
)
def test_decode_tolerates_variants_and_separators(words, expected):
    assert decode(words) == expected


def test_decode_passes_unknown_words_through_flagged():
    readings = read("Sierra Banana Echo")
    assert [(r.char, r.known) for r in readings] == [("S", True), ("Banana", False), ("E", True)]
    assert decode("Sierra Banana Echo") == "SBananaE"


def test_decode_of_nothing_is_nothing():
    assert decode("") == "" and decode(" , - ") == ""


def _said_in_groups(text):
    """What a listener takes down: each group's characters, one space between groups."""
    return " ".join("".join(entry.char for entry in group) for group in groups(encode(text)))


@given(st.text(alphabet=SUPPORTED, max_size=60))
def test_round_trip(text):
    heard = decode(spoken(encode(text)))
    assert heard.replace(" ", "") == "".join(text.split()).upper()  # every character said
    assert heard == _said_in_groups(text).upper()  # and each pause reads back as a space


@given(st.text(alphabet="".join(ALPHABET) + " abcxyz", max_size=40))
def test_round_trip_over_every_named_symbol(text):
    heard = decode(spoken(encode(text)))
    assert heard == _said_in_groups(text).upper()


def test_round_trip_keeps_the_words_apart():
    assert decode(spoken(encode("Mary Ann  Smith"))) == "MARY ANN SMITH"
    assert decode(spoken(encode("se1 7pb"))) == "SE1 7PB"


@given(st.text(max_size=80))
def test_encode_never_fails_and_flags_only_what_it_cannot_spell(text):
    entries = encode(text)
    for entry in entries:
        assert entry.word or entry.is_gap
        if not entry.known:
            assert entry.char.upper() not in ALPHABET or not entry.char.isascii()


# --- reading naturally --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sw1a1aa", "SW1A 1AA"),
        ("SE1 7PB", "SE1 7PB"),
        ("cr0  1ea", "CR0 1EA"),
        ("M1 1AE", "M1 1AE"),
        ("SE1", None),
        ("hello", None),
        ("12345", None),
    ],
)
def test_postcode(text, expected):
    assert postcode(text) == expected


def test_spaces_make_groups_and_are_not_said():
    assert spoken(encode("SE1 7PB")) == "Sierra Echo One — Seven Papa Bravo"
    assert "Space" not in spoken(encode("Flat 2  Hill Road"))
    words = [[e.word for e in group] for group in groups(encode("Mary Ann Smith"))]
    assert words == [["Mike", "Alfa", "Romeo", "Yankee"], ["Alfa", "November", "November"],
                     ["Sierra", "Mike", "India", "Tango", "Hotel"]]
    assert groups(encode("  ")) == []


def test_chunks_split_at_spaces_and_symbols():
    words = [[e.word for e in group] for group in chunks(encode("SW1A 1AA"))]
    assert words == [["Sierra", "Whiskey", "One", "Alfa"], ["One", "Alfa", "Alfa"]]
    email = [[e.char for e in group] for group in chunks(encode("jo@x.uk"))]
    assert email == [["j", "o"], ["@"], ["x"], ["."], ["u", "k"]]


@pytest.mark.parametrize("text", ["SW1A1AA", "SW1A 1AA", "sw1a   1aa", "SW 1A1AA"])
def test_a_postcode_reads_in_two_halves_however_it_is_spaced(text):
    assert [[e.char.upper() for e in g] for g in groups(encode(text))] == [
        ["S", "W", "1", "A"], ["1", "A", "A"]]
    assert spoken(encode(text)) == "Sierra Whiskey One Alfa — One Alfa Alfa"


def test_a_postcode_in_an_address_still_splits_in_halves():
    said = spoken(encode("Flat 2, SE17PB"))
    assert said == "Foxtrot Lima Alfa Tango — Two Comma — Sierra Echo One — Seven Papa Bravo"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Smith-Jones", "Sierra Mike India Tango Hotel Hyphen Juliett Oscar November Echo Sierra"),
        ("Anne-Marie O'Neil", "Alfa November November Echo Hyphen Mike Alfa Romeo India Echo"
         " — Oscar Apostrophe November Echo India Lima"),
        ("O’Brien", "Oscar Apostrophe Bravo Romeo India Echo November"),  # typographic
        ("ref-12", "Romeo Echo Foxtrot Dash One Two"),  # not a name: a dash
    ],
)
def test_names_say_hyphen_and_apostrophe(text, expected):
    assert spoken(encode(text)) == expected
    assert all(entry.known for entry in encode(text))


def test_long_references_read_in_short_chunks():
    groups = chunks(encode("HRR0012345678"))
    assert [len(g) for g in groups] == [4, 3, 3, 3]
    assert "".join(e.char for g in groups for e in g) == "HRR0012345678"


@pytest.mark.parametrize(
    ("text", "decodes"),
    [
        ("Sierra Echo One", True),
        ("Mike", False),
        ("Mike Oscar", True),
        ("SE1 1AA", False),
        ("Flat Hotel Lima", False),
        ("Sierra Echo One Space Oen", True),
        ("John Smith", False),
    ],
)
def test_auto_detect(text, decodes):
    assert looks_like_words(text) is decodes
    assert spell(text).mode == ("decode" if decodes else "encode")


def test_spell_explicit_modes_override_detection():
    assert spell("Mike Oscar", "encode").spoken.startswith("Mike India Kilo Echo — Oscar")
    assert spell("Mike", "decode").decoded == "M"


def test_spell_case_hint():
    assert spell("jo@x.uk").case_hint == "lower"
    assert spell("JoSmith").case_hint == "mixed"
    assert spell("SE1").case_hint is None
    assert spell("se1 7pb").case_hint is None  # postcodes are case-blind


@pytest.mark.parametrize("text", ["", "   "])
def test_spell_rejects_empty_text(text):
    with pytest.raises(PhoneticInputError):
        spell(text)


def test_spell_rejects_long_text_and_bad_mode():
    with pytest.raises(PhoneticInputError, match=str(MAX_TEXT_LENGTH)):
        spell("A" * (MAX_TEXT_LENGTH + 1))
    spell("A" * MAX_TEXT_LENGTH)  # the limit itself is fine
    with pytest.raises(PhoneticInputError, match="mode"):
        spell("SE1", "sideways")


# --- API ----------------------------------------------------------------------------------


def test_api_contract(agent_client):
    data = agent_client.get("/api/phonetic?text=SE1").get_json()
    assert {"text", "words", "spoken"} <= set(data)
    assert data["text"] == "SE1"
    assert data["words"] == ["Sierra", "Echo", "One"]
    assert data["spoken"] == "Sierra Echo One"


def test_api_postcode_and_unknown_characters(agent_client):
    data = agent_client.get("/api/phonetic", query_string={"text": "SW1A 1AA é"}).get_json()
    assert data["spoken"] == "Sierra Whiskey One Alfa — One Alfa Alfa — é"
    assert data["words"] == ["Sierra", "Whiskey", "One", "Alfa", "One", "Alfa", "Alfa", "é"]
    assert data["groups"] == [["Sierra", "Whiskey", "One", "Alfa"], ["One", "Alfa", "Alfa"], ["é"]]
    # The words, the entries and the groups describe the same characters said.
    assert [entry["word"] for entry in data["entries"]] == data["words"]
    assert [word for group in data["groups"] for word in group] == data["words"]
    assert data["unknown"] == ["é"]
    assert data["entries"][-1] == {
        "char": "é",
        "word": "é",
        "known": False,
        "note": data["entries"][-1]["note"],
    }
    assert data["chunks"][0] == ["Sierra", "Whiskey", "One", "Alfa"]


def test_api_spells_nato_words_out_unless_asked_to_decode(agent_client):
    # The contract's shape must not depend on what is typed, so encode is the API default.
    spelled = agent_client.get("/api/phonetic?text=Mike+Oscar").get_json()
    assert spelled["mode"] == "encode" and spelled["words"][:4] == ["Mike", "India", "Kilo", "Echo"]
    decoded = agent_client.get("/api/phonetic?text=sierra+echo+one+banana&mode=decode").get_json()
    assert decoded["decoded"] == "SE1banana"
    assert decoded["words"] == ["Sierra", "Echo", "One", "banana"]
    assert decoded["unknown"] == ["banana"]
    auto = agent_client.get("/api/phonetic?text=Sierra+Echo&mode=auto").get_json()
    assert auto["mode"] == "decode" and auto["decoded"] == "SE"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "text"),
        ("?text=", "empty"),
        ("?text=%20%20", "empty"),
        (f"?text={'A' * 501}", "500"),
        ("?text=SE1&mode=upside", "mode"),
    ],
)
def test_api_bad_input_is_400_json(agent_client, query, message):
    response = agent_client.get(f"/api/phonetic{query}")
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "bad_request" and message in body["message"]


def test_api_needs_sign_in(shipped_app):
    response = shipped_app.test_client().get("/api/phonetic?text=SE1")
    assert response.status_code == 401


# --- pages ---------------------------------------------------------------------------------


def test_page_without_text_shows_the_form(agent_client):
    page = agent_client.get("/tools/phonetic").get_data(as_text=True)
    assert '<form class="phonetic-form"' in page and 'name="text"' in page
    assert 'value="auto" checked' in page
    assert "js/phonetic.js" in page and "<script>" not in page
    assert "/tools/phonetic/card" in page and "/articles/phonetic-alphabet" in page


def test_page_works_without_javascript(agent_client):
    response = agent_client.get("/tools/phonetic?text=SW1A+1AA")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Sierra Whiskey One Alfa — One Alfa Alfa</textarea>" in page  # copyable line
    assert 'class="ph-word">Whiskey<' in page  # the list
    assert "Postcode <strong>SW1A 1AA</strong>" in page
    assert page.count('class="ph-group"') == 2
    assert page.index("First half") < page.index("Second half")
    assert ">Space<" not in page and "␣" not in page
    assert 'data-copy="ph-spoken" hidden' in page  # Copy appears only with JavaScript


def test_page_shows_each_word_as_a_group(agent_client):
    page = agent_client.get("/tools/phonetic?text=Mary+Ann+Smith-Jones").get_data(as_text=True)
    assert page.count('class="ph-group"') == 3
    assert "Word 1 of 3" in page and "Word 3 of 3" in page
    assert "In 3 words: say each word, then pause" in page
    assert 'class="ph-word">Hyphen<' in page and "Space" not in page
    one_word = agent_client.get("/tools/phonetic?text=Smith").get_data(as_text=True)
    assert "ph-group__label" not in one_word  # one group needs no label


def test_page_flags_unknown_characters_in_words(agent_client):
    page = agent_client.get("/tools/phonetic", query_string={"text": "Zoë"}).get_data(as_text=True)
    assert "Not in the alphabet" in page
    assert "Check with the caller" in page
    assert "with diaeresis" in page


def test_page_decode_mode(agent_client):
    page = agent_client.get("/tools/phonetic?text=Sierra+Echo+One+Kiwi").get_data(as_text=True)
    assert 'value="SE1Kiwi"' in page
    assert "Not recognised, kept as typed" in page
    assert "/tools/phonetic?text=Sierra+Echo+One+Kiwi&amp;mode=encode" in page  # way out


def test_page_explicit_mode_and_bad_mode(agent_client):
    page = agent_client.get("/tools/phonetic?text=Mike&mode=decode").get_data(as_text=True)
    assert 'value="M"' in page and 'value="decode" checked' in page
    page = agent_client.get("/tools/phonetic?text=SE1&mode=nope").get_data(as_text=True)
    assert 'value="auto" checked' in page and "Sierra Echo One" in page


def test_page_too_long_text_explains(agent_client):
    response = agent_client.get("/tools/phonetic", query_string={"text": "A" * 501})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "up to 500" in page and 'aria-invalid="true"' in page


def test_result_fragment(agent_client):
    response = agent_client.get("/tools/phonetic/result?text=SE1")
    fragment = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Sierra Echo One" in fragment and "<html" not in fragment
    assert agent_client.get("/tools/phonetic/result?text=").get_data(as_text=True).strip() == ""


def test_output_is_escaped(agent_client):
    page = agent_client.get("/tools/phonetic", query_string={"text": "<b>x"}).get_data(as_text=True)
    assert "<b>x" not in page and "&lt;" in page


def test_reference_card(agent_client):
    page = agent_client.get("/tools/phonetic/card").get_data(as_text=True)
    for word in ("Alfa", "Juliett", "X-ray", "Zulu", "Zero", "Niner", "Dash", "Underscore"):
        assert word in page
    assert "Space" not in page and "No word for a space" in page
    assert "print.css" in page and "data-print hidden" in page
