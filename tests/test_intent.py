"""The crisis and emergency recogniser on its own: no app, no database, no index."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.search.english import is_common_english
from kb.search.intent import Recogniser, VocabularyError, edit_distance, parse_vocabulary, stem

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"


def phrasings(name: str, suffix: str = "phrasings") -> list[tuple[str, str]]:
    """(kind, text) pairs from a tests/data phrasings file."""
    pairs = []
    for line in (DATA / f"{name}_{suffix}.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            kind, text = line.split(":", 1)
            pairs.append((kind.strip(), text.strip()))
    return pairs


def shipped(name: str) -> Recogniser:
    """A recogniser on the shipped vocabulary, with the English word list as the app uses."""
    text = (ROOT / "kb" / "data" / f"{name}_vocabulary.yml").read_text(encoding="utf-8")
    return Recogniser(parse_vocabulary(text), is_common_english)


CRISIS = phrasings("crisis")
EMERGENCY = phrasings("emergency")
# Red-team sets written before reading the vocabularies (see the files' headers).
CRISIS_HOLDOUT = phrasings("crisis", "holdout")
EMERGENCY_HOLDOUT = phrasings("emergency", "holdout")


def test_the_lists_are_big_enough():
    kinds = [kind for kind, _ in CRISIS]
    assert kinds.count("crisis") >= 70 and kinds.count("ordinary") >= 70
    kinds = [kind for kind, _ in EMERGENCY]
    assert kinds.count("emergency") >= 30 and kinds.count("ordinary") >= 30


@pytest.fixture(scope="module")
def crisis() -> Recogniser:
    return shipped("crisis")


@pytest.fixture(scope="module")
def emergency() -> Recogniser:
    return shipped("emergency")


def test_every_crisis_phrasing_is_recognised_and_no_ordinary_one(crisis):
    missed = [t for k, t in CRISIS if k == "crisis" and crisis.match(t) is None]
    false_alarms = [(t, crisis.match(t).pattern) for k, t in CRISIS
                    if k == "ordinary" and crisis.match(t) is not None]
    assert not missed, missed
    assert not false_alarms, false_alarms


def test_every_hazard_is_recognised_and_no_ordinary_repair(emergency):
    missed = [t for k, t in EMERGENCY if k == "emergency" and emergency.match(t) is None]
    false_alarms = [(t, emergency.match(t).pattern) for k, t in EMERGENCY
                    if k == "ordinary" and emergency.match(t) is not None]
    assert not missed, missed
    assert not false_alarms, false_alarms


def test_the_held_out_crisis_set_is_recognised_and_no_ordinary_query(crisis):
    kinds = [kind for kind, _ in CRISIS_HOLDOUT]
    assert kinds.count("crisis") >= 120 and kinds.count("ordinary") >= 120
    missed = [t for k, t in CRISIS_HOLDOUT if k == "crisis" and crisis.match(t) is None]
    false_alarms = [(t, crisis.match(t).pattern) for k, t in CRISIS_HOLDOUT
                    if k == "ordinary" and crisis.match(t) is not None]
    assert not missed, missed
    assert not false_alarms, false_alarms


def test_the_held_out_hazards_are_recognised_and_no_ordinary_repair(emergency):
    kinds = [kind for kind, _ in EMERGENCY_HOLDOUT]
    assert kinds.count("emergency") >= 40 and kinds.count("ordinary") >= 40
    missed = [t for k, t in EMERGENCY_HOLDOUT if k == "emergency" and emergency.match(t) is None]
    false_alarms = [(t, emergency.match(t).pattern) for k, t in EMERGENCY_HOLDOUT
                    if k == "ordinary" and emergency.match(t) is not None]
    assert not missed, missed
    assert not false_alarms, false_alarms


def test_hazards_are_not_crises(crisis):
    assert [t for _, t in EMERGENCY + EMERGENCY_HOLDOUT if crisis.match(t)] == []


@pytest.mark.parametrize(("query", "words"), [
    ("doesnt wanna live", ["does", "not", "want", "to", "live"]),
    ("she's gonna", ["she", "going", "to"]),
    ("OD'd", ["overdosed"]),
    ("endmylife", ["end", "my", "life"]),
    ("wanttodie", ["want", "to", "die"]),
    ("killmyself", ["kill", "myself"]),
    ("sucidal", ["suicidal"]),  # one typo in a word of 5+ letters
    ("parasetamoll", ["paracetamol"]),  # two typos in a word of 8+ letters
    ("fridge", ["fridge"]),  # a real word is never "corrected" (not "bridge")
    ("tables", ["tables"]),  # ... nor "tablets"
])
def test_words_are_normalised(crisis, query, words):
    assert crisis.tokens(query) == words


def test_run_together_self_harm_is_self_harm(crisis):
    assert crisis.tokens("selfharmed")[0] == "self"
    assert crisis.match("selfharmed") is not None


def test_short_words_get_no_typo_tolerance(crisis):
    assert crisis.tokens("rpoe") == ["rpoe"]
    assert crisis.match("has a rpoe") is None


def test_stemming_meets_inflections():
    assert stem("overdosed") == stem("overdose") == stem("overdosing")
    assert stem("cutting") == stem("cut")
    assert stem("tablets") == stem("tablet")


def test_edit_distance_counts_a_swap_as_one():
    assert edit_distance("sucidie", "suicide", 2) == 2
    assert edit_distance("suicdie", "suicide", 2) == 1
    assert edit_distance("tablets", "pallets", 1) == 2  # beyond the limit: limit + 1


def test_the_match_names_its_pattern_and_line(crisis):
    found = crisis.match("caller said they want to kill themselves")
    assert found is not None and found.pattern == "[strong_harm] [self]"
    assert found.words == "kill themselves" and found.line > 1


def test_self_reference_turns_a_repairs_verb_into_a_risk(crisis):
    assert crisis.match("kill the power") is None
    assert crisis.match("kill himself") is not None
    assert crisis.match("cut the hedge") is None
    assert crisis.match("been cutting herself") is not None
    assert crisis.match("hang the door") is None
    assert crisis.match("hang themself") is not None


def test_a_manager_extends_a_vocabulary_with_a_new_concept():
    text = """
name: crisis
concepts:
  slang: [zorbled]
  self: [myself, himself]
patterns:
  - "[slang] [self]"
"""
    recogniser = Recogniser(parse_vocabulary(text))
    assert recogniser.match("said he zorbled himself") is not None
    assert recogniser.match("zorbled the garden") is None


@pytest.mark.parametrize(("text", "message"), [
    ("name: crisis\nconcepts:\n  self: [myself]\npatterns:\n  - \"[slef] x\"\n",
     "Line 5: pattern '[slef] x' uses [slef], which is not a concept."),
    ("name: crisis\nconcepts:\n  self: myself\npatterns:\n  - \"[self]\"\n",
     "Line 3: concept 'self' must be a list"),
    ("name: crisis\nconcepts:\n  self: [myself]\n  self: [me]\npatterns:\n  - \"[self]\"\n",
     "Line 4: concept 'self' is defined twice."),
    ("name: crisis\nconcepts:\n  self: [myself]\npatterns:\n  - \"[self] {x}\"\n",
     "Line 5: cannot read '{x}'"),
    ("name: crisis\nconcepts:\n  self: [myself\npatterns: []\n", "not valid YAML"),
    ("name: crisis\nconcept:\n  self: [myself]\n", "Line 2: unknown key 'concept'"),
    ("name: crisis\nconcepts:\n  self: [myself]\npatterns:\n  - \"[self]? ...\"\n",
     "Line 5: pattern '[self]? ...' needs at least one part that must be there."),
    ("name: crisis\nconcepts:\n  self: [myself]\npatterns:\n  - \"$ [self]\"\n",
     "Line 5: '$' (the end of the query) can only come last"),
    ("name: crisis\nconcepts:\n  self: [myself]\n", "no 'patterns:' section"),
])
def test_bad_vocabularies_say_which_line_is_wrong(text, message):
    with pytest.raises(VocabularyError) as error:
        parse_vocabulary(text)
    assert message in str(error.value)


def test_the_shipped_vocabularies_name_their_article():
    assert shipped("crisis").vocab.article == "crisis-self-harm"
    assert shipped("emergency").vocab.article == "repair-priorities"


def test_a_huge_query_is_cheap(crisis):
    import time

    started = time.perf_counter()
    assert crisis.match("radiator " * 400) is None
    assert time.perf_counter() - started < 0.5
