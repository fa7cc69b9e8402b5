"""Scripts that finish the job: placeholders filled from what the call captured and chose,
the call summary's header, and the end step's fields before the Copy button (no JS)."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from textwrap import dedent
from urllib.parse import urlencode

import pytest

from kb.callscripts.format import ScriptInvalid, parse_script, parse_script_text
from tests.conftest import SHIPPED_ARTICLES, SHIPPED_SCRIPTS

# ----- walking a script the way a browser without JavaScript does ----------------------


class PlayerForm(HTMLParser):
    """The player's GET form: hidden and typed fields, and each button's target."""

    def __init__(self):
        super().__init__()
        self.in_form = False
        self.fields: dict[str, str] = {}
        self.buttons: list[dict[str, str]] = []
        self.action = ""
        self._textarea: str | None = None
        self._button: dict[str, str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        if tag == "form" and "player__form" in attrs.get("class", ""):
            self.in_form, self.action = True, attrs["action"]
        if not self.in_form:
            return
        if tag == "input" and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value", "")
        elif tag == "textarea" and attrs.get("name"):
            self._textarea = attrs["name"]
            self.fields[self._textarea] = ""
        elif tag == "button" and attrs.get("type") == "submit":
            self._button = {**attrs, "text": ""}
            self.buttons.append(self._button)

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data
        if self._button is not None:
            self._button["text"] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_form = False
        elif tag == "textarea":
            self._textarea = None
        elif tag == "button":
            self._button = None


def press(client, page: str, button_text: str, **typed: str):
    """Type into the page's fields and press the submit button whose text contains
    ``button_text``, as a browser without JavaScript would; returns the next page."""
    form = PlayerForm()
    form.feed(page)
    button = next(b for b in form.buttons if button_text in " ".join(b["text"].split()))
    values = {**form.fields, **typed, button["name"]: button["value"]}
    url = (button.get("formaction") or form.action) + "?" + urlencode(values)
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def say_text(page: str) -> str:
    """The words to say as the agent reads them (tags dropped, spaces collapsed)."""
    start = page.index('<div class="say__words">')
    words = page[start : page.index("</div>", start)]
    words = re.sub(r"<[^>]+>", "", words.replace("</p>", " "))
    return " ".join(html.unescape(words).split())


def summary_text(page: str) -> str:
    start = page.index('id="call-summary"')
    return html.unescape(page[page.index(">", start) + 1 : page.index("</textarea>", start)])


REPAIR = {
    "caller_name": "Jo Bloggs",
    "address": "1 High Street",
    "repair_description": "Water through the kitchen ceiling",
}


def walk_repair_urgent(client, **details: str) -> str:
    page = client.get("/scripts/repair-report/").get_data(as_text=True)
    page = press(client, page, "check for danger", **details)
    page = press(client, page, "No one is in immediate danger")
    page = press(client, page, "Choose the priority")
    page = press(client, page, "Urgent: within 5 working days")
    page = press(client, page, "Book the appointment")
    page = press(client, page, "The appointment is agreed", appointment="Tuesday morning")
    assert "End of script" in page
    return page


# ----- the closing words --------------------------------------------------------------


def test_the_repair_script_closes_with_what_was_captured_and_the_priority_chosen(
    agent_client,
):
    page = walk_repair_urgent(agent_client, **REPAIR)
    words = say_text(page)
    assert ("I've raised a repair for Water through the kitchen ceiling at 1 High Street. "
            "Its priority is Urgent: it will be done within 5 working days, and your "
            "appointment is Tuesday morning.") in words
    assert "[" not in words  # nothing left to fill in
    # The values also reached the summary, with the priority the agent chose.
    summary = summary_text(page)
    assert "Address: 1 High Street" in summary
    assert "Priority: Urgent" in summary


def test_an_emergency_through_the_999_step_closes_with_its_own_priority(agent_client):
    page = agent_client.get("/scripts/repair-report/").get_data(as_text=True)
    page = press(agent_client, page, "check for danger", **REPAIR)
    page = press(agent_client, page, "immediate danger to life")
    page = press(agent_client, page, "raise an emergency repair")
    page = press(agent_client, page, "The order is raised")
    words = say_text(page)
    assert ("at 1 High Street. Its priority is Emergency: someone will be with you within "
            "2 hours.") in words
    assert "[" not in words


def test_what_nobody_captured_stays_a_visible_placeholder(agent_client):
    page = walk_repair_urgent(agent_client, caller_name="Jo Bloggs")  # no address, no problem
    words = say_text(page)
    assert "a repair for [the problem] at [address]. Its priority is Urgent" in words
    assert '<span class="say__blank" data-fill="address">[address]</span>' in page
    # Words the agent always fills in while speaking stay as they are, marked.
    page = agent_client.get("/scripts/warm-transfer/explain?path=resolve-first"
                            ).get_data(as_text=True)
    assert "I'm going to put you through to [name], our [role]" in say_text(page)
    assert '<span class="say__blank">[name]</span>' in page


def test_a_priority_cannot_be_forged_in_the_address(agent_client):
    """Values set by a step come from the path walked, not from the query string."""
    query = urlencode({**REPAIR, "priority": "Emergency", "timescale": "Zebra-o-clock",
                       "path": "describe,danger,risk,priority,urgent,appointment"})
    page = agent_client.get(f"/scripts/repair-report/confirm?{query}").get_data(as_text=True)
    assert "Its priority is Urgent: it will be done within 5 working days, and your " \
           "appointment is [appointment]." in say_text(page)
    assert "Zebra-o-clock" not in page


def test_captured_text_is_escaped_in_the_words(agent_client):
    page = walk_repair_urgent(agent_client, **{**REPAIR, "address": "<b>Flat 2</b>"})
    assert "&lt;b&gt;Flat 2&lt;/b&gt;" in page and "<b>Flat 2</b>" not in page


def test_the_greeting_says_the_agents_own_name(agent_client):
    page = agent_client.get("/scripts/call-opening/").get_data(as_text=True)
    assert "My name is Alex Agent." in say_text(page)


def test_the_fields_asked_for_on_this_step_are_marked_for_live_filling(agent_client):
    page = agent_client.get(
        "/scripts/warm-transfer/call-back?path=resolve-first,explain").get_data(as_text=True)
    assert "[Colleague] isn't able to take your call" in say_text(page)
    assert 'data-fill="colleague" data-placeholder="[Colleague]"' in page
    filled = agent_client.get("/scripts/warm-transfer/call-back?path=resolve-first,explain"
                              "&colleague=Priya+in+Lettings").get_data(as_text=True)
    assert "Priya in Lettings isn't able to take your call" in say_text(filled)


# ----- the summary and the end step ---------------------------------------------------


def test_the_summary_says_when_who_and_which_version(agent_client):
    summary = summary_text(walk_repair_urgent(agent_client, **REPAIR))
    lines = summary.splitlines()
    assert lines[0] == "Call script: Reporting a repair (script version 1)"
    assert re.fullmatch(r"Date and time: (Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|"
                        r"Sunday) \d{1,2} (January|February|March|April|May|June|July|August|"
                        r"September|October|November|December) 20\d\d, \d\d:\d\d", lines[1])
    assert lines[2] == "Agent: Alex Agent"
    assert "Path taken:" in lines
    assert "4. Choose the priority -> Urgent: within 5 working days" in lines


def test_the_end_steps_fields_come_before_the_copy_button(agent_client):
    page = walk_repair_urgent(agent_client, **REPAIR)
    field = page.index('name="callback_number"')
    update = page.index("Update the summary")
    assert field < update < page.index('id="call-summary"') < page.index('data-copy=')
    # Without JavaScript: type the number, update, and the summary carries it.
    page = press(agent_client, page, "Update the summary", callback_number="07700 900123")
    assert "Call-back number: 07700 900123" in summary_text(page)
    assert "your appointment is Tuesday morning" in say_text(page)  # nothing was lost


# ----- the format: Set lines and the import warning ------------------------------------


def script(steps: str) -> str:
    return "---\ntitle: T\nstart: a\n---\n\n" + dedent(steps)


def problems(text: str) -> list[str]:
    with pytest.raises(ScriptInvalid) as caught:
        parse_script_text(text, "scripts/t.md")
    return [e.message for e in caught.value.errors]


def test_set_lines_give_values_and_bad_ones_are_refused():
    parsed = parse_script_text(script("""\
        ## A {#a}

        > Which?

        - [Fast](#b)

        ## B {#b .end}

        > It is [speed].

        Set: speed = quick, very quick
        """), "scripts/t.md")
    assert [(s.key, s.value) for s in parsed.steps["b"].sets] == [("speed", "quick, very quick")]
    assert "Set:" not in parsed.steps["b"].guidance
    assert parsed.warnings == []
    bad = problems(script("""\
        ## A {#a .end}

        > Hello [caller's name].

        Capture: caller_name

        Set: priority
        Set: Bad-Key = x
        Set: speed = one
        Set: speed = two
        Set: caller_name = Jo
        """))
    assert any("write 'Set:' as 'Set: name = value'" in p for p in bad)
    assert any("'Bad-Key' must be lower-case" in p for p in bad)
    assert any("gives 'speed' a value twice" in p for p in bad)
    assert any("'caller_name' is also a capture field" in p for p in bad)


def test_a_placeholder_no_route_can_fill_is_a_warning_not_an_error():
    parsed = parse_script_text(script("""\
        ## A {#a}

        > Your appointment is [appointment]. Thank you, [caller's name].

        - [Book](#b)

        ## B {#b .end}

        > Booked for [appointment], [whatever the agent says].

        Capture: appointment, caller_name
        """), "scripts/t.md")
    assert len(parsed.warnings) == 2  # both named fields are only asked for later
    assert "step 'a': placeholder [appointment] names 'appointment'" in parsed.warnings[0]
    assert "[caller's name]" in parsed.warnings[1]


def test_every_shipped_placeholder_is_fillable_or_for_the_agent():
    known = {p.stem for p in SHIPPED_ARTICLES.glob("*.md")}
    for path in sorted(SHIPPED_SCRIPTS.glob("*.md")):
        if path.name != "README.md":
            assert parse_script(path, known_articles=known).warnings == [], path.name


def test_import_prints_the_warning(app, runner, scripts_dir):
    (scripts_dir / "late.md").write_text(script("""\
        ## A {#a}

        > Booked for [appointment].

        - [Book](#b)

        ## B {#b .end}

        Capture: appointment
        """), encoding="utf-8")
    result = runner.invoke(args=["import-content"])
    assert result.exit_code == 0, result.output
    assert "warning: " in result.output and "[appointment]" in result.output
    assert "Call scripts: 1 new" in result.output
