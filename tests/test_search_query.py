"""How a query is read: agent filler, phrase synonyms, compound words, real-word spelling
and aboutness (kb.search.query, filler, english, scoring), on small indexes of our own."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kb.search.engine import SearchIndex
from kb.search.english import is_english
from kb.search.query import parse_query
from kb.search.synonyms import parse_synonyms
from tests.test_search_engine import make_doc

# The search engine and index, not SQL: run once, on SQLite.
pytestmark = pytest.mark.database_independent

SYNONYMS = """\
repair, broken, not working, packed in, stopped working
opening hours, when do you shut, what time do you close
angry, livid, fuming
callback, call back
self harm, harm themselves
gas smell, smell of gas
"""

DOCS = [
    make_doc("boilers", "Boiler breakdowns", "Book an engineer for a broken boiler.",
             "A broken boiler with no heating is an urgent repair."),
    make_doc("caller-etiquette", "Talking to callers", "Greet every caller by name.",
             "The caller says who they are; the caller wants to know your name. Tell the "
             "caller what happens next and thank the caller."),
    make_doc("opening-hours", "Opening hours", "Open 8am to 6pm, Monday to Friday.",
             "Our opening hours are 8am to 6pm."),
    make_doc("lunch", "Packed lunches on training days", "Bring a packed lunch.",
             "Training days run all day; bring a packed lunch."),
    make_doc("difficult", "Difficult callers", "Stay calm with an angry caller.",
             "An angry caller is usually frustrated with the problem, not with you."),
    make_doc("door-entry", "Door entry systems", "Report a faulty door entry system.",
             "If the door entry panel or intercom fails, raise a communal repair."),
    make_doc("crisis", "Self-harm calls", "Stay with a caller who has self-harmed.",
             "If the caller has self-harmed or wants to harm themselves, stay on the line."),
    make_doc("voicemail", "Voicemail", "Return voicemail messages by the next working day.",
             "Listen to voicemail at the start of every shift."),
    make_doc("spelling", "PhoneticSpelling names", "Spell every name back to the caller.",
             "Spell surnames with the phonetic alphabet."),
    make_doc("policy", "Complaints policy", "The policy sets the complaint timescales.",
             "Read the policy before you log a complaint."),
    make_doc("gas", "Gas safety", "Gas leaks are emergencies.",
             "Tell the caller to leave the property and call the gas emergency line."),
    make_doc("child", "Child safeguarding", "Report a concern about a child.",
             "Every line manager is trained. A child at risk is reported the same day."),
    make_doc("self-service", "Online self-service", "Customers can self-serve online.",
             "Show the customer the self-service pages."),
    make_doc("samaritans", "Helplines", "Samaritans are on 116 123.",
             "Give the Samaritans number to a caller who is struggling."),
]


@pytest.fixture(scope="module")
def ix(tmp_path_factory: pytest.TempPathFactory) -> SearchIndex:
    """One read-only index of DOCS with the SYNONYMS above."""
    base = tmp_path_factory.mktemp("query")
    (base / "synonyms.txt").write_text(SYNONYMS, encoding="utf-8")
    index = SearchIndex(base / "index", synonyms_path=base / "synonyms.txt")
    index.rebuild(DOCS)
    return index


def slugs(index: SearchIndex, query: str) -> list[str]:
    """The slugs a search returns, best first."""
    return [hit.slug for hit in index.search(query).hits]


# ----- agent filler -------------------------------------------------------------


def test_agent_filler_is_not_searched() -> None:
    def words(query: str) -> list[str]:
        return [t.word for t in parse_query(query).words]

    assert words("caller says the boiler has packed in") == ["boiler", "packed"]
    assert words("customer wants to know when you open") == ["open"]
    assert words("can you tell me the stage 1 timescale") == ["stage", "1", "timescale"]
    assert words("tenant is asking for a new fob") == ["new", "fob"]
    assert words("caller says they want to end their life") == ["end", "life"]
    # A role word or verb that is part of the question stays.
    assert words("suicidal caller") == ["suicidal", "caller"]
    assert words("deaf customer communication needs") == ["deaf", "customer",
                                                          "communication", "needs"]
    assert words("tenant fell on the stairs") == ["tenant", "fell", "stairs"]
    # Nothing but filler: searched as typed rather than not at all.
    assert words("customer wants to know") == ["customer", "wants", "know"]


def test_filler_does_not_pull_in_articles_about_callers(ix: SearchIndex) -> None:
    assert slugs(ix, "caller says the boiler is broken")[0] == "boilers"
    assert "caller-etiquette" not in slugs(ix, "customer wants to know the opening hours")


# ----- phrase synonyms ------------------------------------------------------------


def test_phrases_with_small_words_match_as_typed_and_are_never_searched() -> None:
    table = parse_synonyms(SYNONYMS)
    assert ("broken",) in table[("pack", "in")]
    assert ("when", "do", "you", "shut") in table
    # Searching "pack" for "broken" would find packed lunches; "shut" alone is not a key.
    assert ("pack",) not in table and ("shut",) not in table
    assert all(("pack",) not in others for others in table.values())
    # Plain phrases still match without their small words ("call back" = "callback").
    assert table[("callback",)] == [("call", "back")]


def test_phrase_synonyms_find_the_concept(ix: SearchIndex) -> None:
    assert slugs(ix, "boiler packed in")[0] == "boilers"
    # The idiom means broken; the word "packed" on its own counts for little.
    assert slugs(ix, "fridge has packed in")[0] == "boilers"
    assert slugs(ix, "packed lunch")[0] == "lunch"  # "packed" alone is not "broken"
    assert slugs(ix, "when do you shut")[0] == "opening-hours"
    assert slugs(ix, "what time do you close tonight")[0] == "opening-hours"
    assert slugs(ix, "caller is livid")[0] == "difficult"
    assert slugs(ix, "when do u shut")[0] == "opening-hours"  # text-speak


def test_words_of_a_phrase_count_alone_only_when_the_phrase_finds_nothing(ix) -> None:
    # "self harm" is in the articles, so "self" alone must not find self-anything else.
    assert slugs(ix, "self harm") == ["crisis"]
    # "gas smell" is nowhere: "gas" on its own still finds the gas article.
    assert slugs(ix, "gas smell") == ["gas"]


# ----- compound words -----------------------------------------------------------------


def test_run_together_words_are_split_when_the_articles_use_both(ix: SearchIndex) -> None:
    results = ix.search("doorentry")
    assert [h.slug for h in results.hits][:1] == ["door-entry"]
    assert results.suggestion == "door entry"
    assert slugs(ix, "selfharmed")[0] == "crisis"
    # "child" and "line" are both indexed but never written together: not a split.
    childline = ix.search("childline")
    assert childline.suggestion is None and childline.hits == []


def test_split_words_are_joined_when_the_index_has_the_joined_word(ix: SearchIndex) -> None:
    assert slugs(ix, "voice mail")[0] == "voicemail"


# ----- "did you mean" and real words --------------------------------------------------


def test_english_word_list_is_the_packaged_one() -> None:
    assert is_english("smell") and is_english("police") and is_english("livid")
    assert not is_english("samartians") and not is_english("emergancy")


def test_real_words_are_never_corrected_or_fuzzy_matched(ix: SearchIndex) -> None:
    smell = ix.search("gas smell")
    assert smell.suggestion is None  # not "gas spell"
    assert [h.slug for h in smell.hits] == ["gas"]  # and not the spelling article
    police = ix.search("police asking for details")
    assert police.suggestion is None  # not "policy"
    assert "policy" not in [h.slug for h in police.hits]


def test_typos_still_get_a_suggestion_that_finds_more(ix: SearchIndex) -> None:
    results = ix.search("samartians numbr")
    assert results.suggestion == "samaritans number"
    assert [h.slug for h in results.hits][0] == "samaritans"
    assert ix.search("boilr engineer").suggestion == "boiler engineer"
    # "emergancy" finds "emergency" already (same stem): no suggestion for it alone, but
    # it is spelt right in a suggestion made for another word.
    assert ix.search("emergancy").suggestion is None
    assert ix.search("emergancy boilr").suggestion == "emergency boiler"


# ----- aboutness, on the shipped content ----------------------------------------------


@pytest.mark.parametrize(
    ("query", "first", "below"),
    [
        ("phone not answered quick enough", "service-levels", "telephone-payments"),
        ("how fast to answer the phone", "service-levels", "telephone-payments"),
        ("when do you shut", "opening-hours", None),
        ("gas smell", "repair-priorities", "phonetic-alphabet"),
        ("police asking for details", "local-authority-enquiries", "phonetic-alphabet"),
    ],
)
def test_issue_examples_rank_the_article_about_it_first(agent_client, query, first, below):
    data = agent_client.get("/api/search", query_string={"q": query}).get_json()
    found = [r["slug"] for r in data["results"]]
    assert found[0] == first
    if below in found:
        assert found.index(below) > found.index(first)
    assert data["suggestion"] is None


def test_synonyms_file_phrases_reload(tmp_path: Path) -> None:
    """A manager's new phrase applies to the next search, stop words and all."""
    path = tmp_path / "synonyms.txt"
    path.write_text("repair, broken\n", encoding="utf-8")
    index = SearchIndex(tmp_path / "index", synonyms_path=path)
    index.rebuild(DOCS)
    assert slugs(index, "boiler gone kaput")[0] == "boilers"  # the word "boiler" alone
    assert "boilers" not in slugs(index, "gone kaput")
    path.write_text("repair, broken, gone kaput\n", encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert slugs(index, "gone kaput")[0] == "boilers"
