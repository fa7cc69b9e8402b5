"""The call script format: parsing, every validation error, and walking a script (no app)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from textwrap import dedent

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kb.callscripts.format import (
    ScriptError,
    ScriptInvalid,
    parse_script,
    parse_script_text,
)
from kb.callscripts.walk import call_summary, is_valid_path, shortest_path
from kb.content.loader import ContentError
from tests.conftest import SHIPPED_ARTICLES, SHIPPED_SCRIPTS

KNOWN = {"repair-priorities", "complaints", "hold-etiquette"}

GOOD = """\
---
title: Reporting a repair
category: Repairs
tags: [repair, leak]
summary: Diagnose and raise a repair.
owner: Repairs manager
start: describe
---

About this script: read the [repair priorities](repair-priorities) first.

## Describe the problem {#describe}

!!! danger "Danger to life"
    Tell the caller to call 999.

> Can you tell me what's happening?
> Where in your home is it?

> Is it getting worse?

Let the caller describe it. Ask open questions.

```text
## not a step {#inside-a-fence}
```

Capture: caller_name, repair_description

Capture:
- appointment: Appointment agreed
- notes: Anything else (long)

See: [Repair priorities](repair-priorities#out-of-hours), complaints

- [It's an emergency](#emergency)
- [It can wait](#routine)

## Emergency {#emergency .end}

> Someone will attend within 2 hours. See [hold etiquette](hold-etiquette).

## Routine {#routine .end}

Book an appointment. See: this is guidance, not a citation (not at a line's start).

See: complaints
"""


def parse(text: str, known: set[str] | None = KNOWN, path: str = "scripts/repair.md"):
    return parse_script_text(dedent(text), path, known_articles=known)


def problems(text: str, known: set[str] | None = KNOWN) -> list[ScriptError]:
    with pytest.raises(ScriptInvalid) as caught:
        parse(text, known)
    return caught.value.errors


def script(steps: str, start: str = "a", extra: str = "") -> str:
    return f"---\ntitle: T\nstart: {start}\n{extra}---\n\n{dedent(steps)}"


# ----- a good script ------------------------------------------------------------------


def test_a_good_script_parses_into_steps():
    parsed = parse(GOOD)
    assert parsed.slug == "repair"
    assert parsed.title == "Reporting a repair"
    assert parsed.start == "describe"
    assert list(parsed.steps) == ["describe", "emergency", "routine"]
    assert parsed.intro.startswith("About this script")
    step = parsed.steps["describe"]
    assert step.say == ("Can you tell me what's happening?\nWhere in your home is it?\n\n"
                        "Is it getting worse?")
    assert "Let the caller describe it." in step.guidance
    assert "## not a step" in step.guidance  # a fenced heading is guidance, not a step
    assert "Capture" not in step.guidance and "See:" not in step.guidance
    assert "(#emergency)" not in step.guidance
    assert step.alerts.startswith('!!! danger "Danger to life"')
    assert "call 999" in step.alerts
    assert [(c.label, c.target) for c in step.choices] == [
        ("It's an emergency", "emergency"), ("It can wait", "routine")]
    assert not step.end and parsed.steps["emergency"].end


def test_capture_fields_inline_block_standard_labels_and_long():
    fields = parse(GOOD).fields
    assert list(fields) == ["caller_name", "repair_description", "appointment", "notes"]
    assert fields["caller_name"].label == "Caller's name"
    assert fields["repair_description"].long  # a standard long field
    assert fields["appointment"].label == "Appointment agreed"
    assert not fields["appointment"].long
    assert fields["notes"].label == "Anything else" and fields["notes"].long


def test_a_capture_block_stops_at_the_choices():
    parsed = parse(script("## A {#a}\n\nCapture:\n- caller_name\n- [Next](#b)\n\n"
                          "## B {#b .end}\n\nDone.\n"))
    assert [f.key for f in parsed.steps["a"].capture] == ["caller_name"]
    assert [c.target for c in parsed.steps["a"].choices] == ["b"]


def test_citations_from_see_lines_and_links_in_the_text():
    parsed = parse(GOOD)
    cites = parsed.steps["describe"].cites
    assert [(c.slug, c.label, c.fragment) for c in cites] == [
        ("repair-priorities", "Repair priorities", "#out-of-hours"), ("complaints", "", "")]
    assert parsed.steps["emergency"].links == ["hold-etiquette"]
    assert [c.slug for c in parsed.steps["routine"].cites] == ["complaints"]
    assert "See: this is guidance" in parsed.steps["routine"].guidance
    assert parsed.cited_slugs == ["complaints", "hold-etiquette", "repair-priorities"]


def test_windows_line_endings_and_a_byte_order_mark_are_fine():
    parsed = parse("\ufeff" + GOOD.replace("\n", "\r\n"))
    assert list(parsed.steps) == ["describe", "emergency", "routine"]


def test_parse_script_reads_a_file_and_names_it_relative_to_root(tmp_path):
    folder = tmp_path / "scripts"
    folder.mkdir()
    (folder / "leak.md").write_text(GOOD, encoding="utf-8")
    parsed = parse_script(folder / "leak.md", root=tmp_path, known_articles=KNOWN)
    assert parsed.slug == "leak"
    assert parsed.path == "scripts/leak.md"
    assert parsed.source == GOOD


# ----- each validation error names the file and the step ------------------------------


def test_no_start_step():
    errors = problems("---\ntitle: T\n---\n\n## A {#a .end}\n\nSay hello.\n")
    assert any("no start step" in e.message for e in errors)
    assert all(e.path == "scripts/repair.md" for e in errors)


def test_start_step_that_does_not_exist():
    [error] = problems(script("## A {#a .end}\n\nDone.\n", start="opening"))
    assert error.step == "opening"
    assert "start step 'opening' does not exist" in str(error)
    assert str(error).startswith("scripts/repair.md")


def test_choice_pointing_to_a_missing_step_names_step_and_line():
    errors = problems(script("""\
        ## A {#a}

        Ask.

        - [Go on](#b)
        - [Nowhere](#missing)

        ## B {#b .end}

        Done.
        """))
    [error] = errors
    assert error.step == "a"
    assert "choice 'Nowhere' points to missing step 'missing'" in error.message
    assert error.line == 11
    assert str(error) == ("scripts/repair.md:11: step 'a': choice 'Nowhere' points to missing "
                          "step 'missing'")


def test_unreachable_step():
    [error] = problems(script("""\
        ## A {#a .end}

        Done.

        ## Orphan {#orphan .end}

        Nobody gets here.
        """))
    assert error.step == "orphan"
    assert "cannot be reached from the start step 'a'" in error.message


def test_dead_end_that_is_not_marked_as_an_end():
    [error] = problems(script("""\
        ## A {#a}

        Ask.

        - [Next](#b)

        ## B {#b}

        No way forward and no end marker.
        """))
    assert error.step == "b"
    assert "no choices and is not marked as an end" in error.message
    assert "{#b .end}" in error.message  # tells the author how to fix it


def test_cited_article_that_does_not_exist_is_an_error():
    text = script("## A {#a .end}\n\nSee: [Nope](no-such-article)\n")
    [error] = problems(text)
    assert error.step == "a"
    assert "cites article 'no-such-article', which does not exist" in error.message
    # Links in the words or guidance count as citations too.
    [error] = problems(script("## A {#a .end}\n\nRead [this](missing-one).\n"))
    assert "missing-one" in error.message
    # Without a list of articles (re-reading a stored version) the check is skipped.
    assert parse(text, known=None).cited_slugs == ["no-such-article"]


def test_duplicate_step_ids():
    errors = problems(script("""\
        ## A {#a}

        - [Next](#b)

        ## B {#b .end}

        One.

        ## B again {#b .end}

        Two.
        """))
    [error] = [e for e in errors if "duplicate" in e.message]
    assert error.step == "b"
    assert "first used on line 10" in error.message


@pytest.mark.parametrize(
    ("steps", "expected", "step"),
    [
        ("## A heading without an id\n\nText.\n", "has no id", None),
        ("## Bad {#Bad_Id .end}\n\nText.\n", "must be lower-case", None),
        ("## A {#a .final}\n\nText.\n", "unknown heading attribute '.final'", None),
        ("## A {#a .end}\n\n- [Loop](#a)\n", "marked as an end ('.end') but has choices", "a"),
        ("## A {#a .end}\n\n", "no words to say and no guidance", "a"),
        ("## A {#a .end}\n\nGo [back](#a) now.\n", "must be a choice on its own list line", "a"),
        ("## A {#a .end}\n\nCapture: path\n", "capture field 'path'", "a"),
        ("## A {#a .end}\n\nCapture: Bad-Key\n", "capture field 'Bad-Key'", "a"),
        ("## A {#a .end}\n\nCapture: name, name\n", "listed twice", "a"),
        ("## A {#a .end}\n\nCapture:\n\nText.\n", "'Capture:' lists no fields", "a"),
        ("## A {#a .end}\n\nSee: /tools/hold\n", "is not an article slug", "a"),
        ("## A {#a}\n\n- [](#b)\n\n## B {#b .end}\n\nDone.\n", "a choice has no label", "a"),
    ],
)
def test_other_step_errors(steps, expected, step):
    errors = problems(script(steps))
    matching = [e for e in errors if expected in e.message]
    assert matching, [e.message for e in errors]
    assert matching[0].step == step


def test_no_steps_at_all():
    [error] = problems(script("Just some text, no headings.\n"))
    assert "has no steps" in error.message


def test_more_than_nine_choices():
    choices = "".join(f"- [Option {n}](#s{n})\n" for n in range(10))
    ends = "".join(f"## S{n} {{#s{n} .end}}\n\nDone.\n\n" for n in range(10))
    errors = problems(script(f"## A {{#a}}\n\n{choices}\n{ends}"))
    assert any("10 choices; at most 9" in e.message and e.step == "a" for e in errors)


def test_two_choices_to_the_same_step():
    errors = problems(script("## A {#a}\n\n- [Yes](#b)\n- [Also yes](#b)\n\n"
                             "## B {#b .end}\n\nDone.\n"))
    assert any("two choices lead to step 'b'" in e.message for e in errors)


def test_a_loop_with_no_way_to_an_end():
    errors = problems(script("""\
        ## A {#a}

        - [To B](#b)
        - [Finish](#end)

        ## B {#b}

        - [To C](#c)

        ## C {#c}

        - [Back to B](#b)

        ## End {#end .end}

        Done.
        """))
    assert {e.step for e in errors if "no end step can be reached" in e.message} == {"b", "c"}


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("colour: blue\n", "unknown front matter key(s): colour"),
        ("slug: review\n", "slug 'review' is reserved"),
        ("slug: Not A Slug\n", "must be lower-case letters"),
        ("tags: {a: 1}\n", "tags must be a list"),
    ],
)
def test_front_matter_errors(extra, expected):
    errors = problems(script("## A {#a .end}\n\nDone.\n", extra=extra))
    assert any(expected in e.message for e in errors), [e.message for e in errors]


def test_missing_title_and_broken_yaml():
    errors = problems("---\nstart: a\n---\n\n## A {#a .end}\n\nDone.\n")
    assert any("no title" in e.message for e in errors)
    with pytest.raises(ContentError, match="broken front matter"):
        parse("---\ntitle: [oops\nstart: a\n---\n\n## A {#a .end}\n\nDone.\n")


def test_every_problem_is_reported_at_once():
    with pytest.raises(ScriptInvalid) as caught:
        parse(script("## A {#a}\n\n- [Gone](#gone)\n\n## B {#b}\n\nStuck.\n"))
    messages = [e.message for e in caught.value.errors]
    assert len(messages) == 3, messages  # missing target, dead end, unreachable
    assert f"{len(caught.value.errors)} problems" in str(caught.value)


# ----- walking a script ---------------------------------------------------------------


def test_valid_paths_and_the_shortest_route():
    parsed = parse(GOOD)
    assert is_valid_path(parsed, [], "describe")
    assert is_valid_path(parsed, ["describe"], "routine")
    assert not is_valid_path(parsed, [], "routine")  # skipped the start
    assert not is_valid_path(parsed, ["describe", "emergency"], "routine")  # no such choice
    assert not is_valid_path(parsed, ["describe"], "nowhere")
    assert not is_valid_path(parsed, ["emergency"], "routine")  # wrong first step
    assert shortest_path(parsed, "routine") == ["describe"]
    assert shortest_path(parsed, "describe") == []
    assert shortest_path(parsed, "nowhere") is None


def test_call_summary_lists_the_path_answers_and_captured_fields():
    parsed = parse(GOOD)
    text = call_summary(parsed, ["describe"], "emergency",
                        {"caller_name": "Jo Bloggs", "notes": "Line one\nLine two",
                         "unknown": "ignored"}, version=3)
    assert text.splitlines() == [
        "Call script: Reporting a repair (script version 3)",
        "",
        "Path taken:",
        "1. Describe the problem -> It's an emergency",
        "2. Emergency",
        "",
        "Details captured:",
        "Caller's name: Jo Bloggs",
        "Anything else:",
        "  Line one",
        "  Line two",
    ]
    assert "No details captured." in call_summary(parsed, [], "describe", {})


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=8), max_size=12))
def test_a_walk_that_follows_choices_is_always_valid(picks):
    parsed = shipped_repair_script()
    path, here = [], parsed.start
    for pick in picks:
        choices = parsed.steps[here].choices
        if not choices:
            break
        path.append(here)
        here = choices[pick % len(choices)].target
    assert is_valid_path(parsed, path, here)
    assert is_valid_path(parsed, shortest_path(parsed, here), here)
    if path:  # dropping a step in the middle breaks the chain (or makes another route)
        assert not is_valid_path(parsed, path[1:], here) or path[1:][:1] == [parsed.start]


# ----- the shipped scripts ------------------------------------------------------------


@cache
def shipped(name: str):
    known = {p.stem for p in SHIPPED_ARTICLES.glob("*.md")}
    return parse_script(SHIPPED_SCRIPTS / f"{name}.md", known_articles=known)


def shipped_repair_script():
    return shipped("repair-report")


def test_every_shipped_script_is_valid_and_cites_real_articles():
    names = sorted(p.stem for p in SHIPPED_SCRIPTS.glob("*.md") if p.name != "README.md")
    assert names == ["call-closing", "call-opening", "complaint", "crisis-self-harm",
                     "difficult-caller", "hold", "incident-report", "repair-report",
                     "warm-transfer"]
    for name in names:
        parsed = shipped(name)
        assert parsed.cited_slugs, name
        assert parsed.summary and parsed.owner, name


def test_crisis_script_first_step_says_no_hold_and_summon_a_colleague():
    parsed = shipped("crisis-self-harm")
    first = parsed.steps[parsed.start]
    assert "Do not put the caller on hold" in first.alerts
    assert "colleague" in first.alerts and "support" in first.alerts
    ends = [s for s in parsed.steps.values() if s.end]
    assert len(ends) == 1 and "/crisis/incidents/new" in ends[0].guidance
    assert len(parsed.steps) == 6  # the six-point plan


def test_shipped_timescales_match_the_policy():
    repair = Path(SHIPPED_SCRIPTS / "repair-report.md").read_text(encoding="utf-8")
    for fact in ("2 hours", "24 hours", "5 working days", "15 working days",
                 "24-hour out-of-hours call centre"):
        assert fact in repair
    complaint = Path(SHIPPED_SCRIPTS / "complaint.md").read_text(encoding="utf-8")
    for fact in ("within 3 working days", "within 5 working days", "within 20 working days"):
        assert fact in complaint
    hold = shipped("hold")
    assert "/tools/hold" in hold.intro + hold.steps["on-hold"].guidance
