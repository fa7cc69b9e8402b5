"""Due dates for now on call script steps ("Due:") and articles ("standards:"), and which
standards are in force."""

from __future__ import annotations

import html
import logging
import re
import shutil
from pathlib import Path

import pytest

from kb.callscripts.format import ScriptInvalid, parse_script_text
from kb.content.loader import ContentError, parse_article
from kb.extensions import db
from kb.models import Article, CallScript
from kb.tools.duedates.arithmetic import DueDate, sentence
from kb.tools.duedates.models import ResponseStandard, StandardSet
from kb.tools.duedates.services import (
    compute,
    compute_chain,
    policy_set,
    save_set,
    save_standard,
    today,
)
from tests.conftest import (
    SHIPPED_ARTICLES,
    SHIPPED_SCRIPTS,
    login,
    user_named,
    write_article,
)

NEXT_STEPS = ("/scripts/complaint/next-steps"
              "?path=listen,complaint-or-enquiry,details-who,details-what,read-back")
STAGE_2 = "/scripts/complaint/stage-2?path=listen,complaint-or-enquiry"
EMERGENCY = "/scripts/repair-report/emergency?path=describe,danger,risk,priority"

SCRIPT = """\
---
title: Chasing a reply
start: ask
---

## Ask {{#ask .end}}

> Let me check when you'll hear from us.

{due}
"""


def _script(due: str):
    return parse_script_text(SCRIPT.format(due=due), "chasing.md")


# ----- the format -----------------------------------------------------------------------


def test_due_names_channels_and_keys_as_written():
    step = _script("Due: Complaints, repair-urgent,  complaints ,Social   media").steps["ask"]
    # Kept as written (spaces tidied), each once whatever its case; matched on the page.
    assert step.due == ["Complaints", "repair-urgent", "Social media"]


def test_a_step_may_hold_only_a_due_line():
    parsed = parse_script_text(SCRIPT.format(due="").replace(
        "> Let me check when you'll hear from us.", "Due: email"), "chasing.md")
    assert parsed.steps["ask"].due == ["email"]


@pytest.mark.parametrize("line", ["Due:", "Due:   ", "due: , ,"])
def test_an_empty_due_line_is_an_error_naming_the_step(line):
    with pytest.raises(ScriptInvalid) as caught:
        _script(line)
    assert [e.message for e in caught.value.errors] == ["step 'ask': 'Due:' names no standards"]
    assert caught.value.errors[0].line == 10


def test_a_due_name_must_look_like_a_channel_or_key():
    with pytest.raises(ScriptInvalid, match=r"'Due:' name '\[dates\]\(/tools/due-date\)' is "
                                            "not a channel or a standard's key"):
        _script("Due: [dates](/tools/due-date)")


# ----- articles: front matter "standards:" ----------------------------------------------


@pytest.mark.parametrize(("value", "names"), [
    ("all", ["all"]),
    ("Complaints", ["Complaints"]),
    ("Complaints, repairs", ["Complaints", "repairs"]),
    ("[Complaints, complaints, Social media]", ["Complaints", "Social media"]),
    ("['Damp, mould and hazards']", ["Damp, mould and hazards"]),
])
def test_an_article_names_the_standards_it_shows(tmp_path, value, names):
    path = write_article(tmp_path, "reply-times", standards=value)
    assert parse_article(path).standards == names
    assert parse_article(write_article(tmp_path, "plain")).standards == []


@pytest.mark.parametrize("value", ["[all, Complaints]", "{channel: Complaints}", "[[x]]",
                                   "'[dates](/tools/due-date)'", "true"])
def test_a_malformed_standards_key_is_refused(tmp_path, value):
    with pytest.raises(ContentError, match="standards must be 'all', or channels"):
        parse_article(write_article(tmp_path, "reply-times", standards=value))


def test_the_response_times_article_asks_for_every_set_in_force():
    assert parse_article(SHIPPED_ARTICLES / "response-times.md").standards == ["all"]


# ----- the player -----------------------------------------------------------------------


@pytest.fixture
def shipped(app, runner):
    """A fresh app (standards seeded) with the shipped articles and scripts imported."""
    shutil.copytree(SHIPPED_ARTICLES, app.config["KB_ARTICLES_DIR"], dirs_exist_ok=True)
    shutil.copytree(SHIPPED_SCRIPTS, app.config["KB_SCRIPTS_DIR"], dirs_exist_ok=True)
    result = runner.invoke(args=["import-content"])
    assert result.exit_code == 0, result.output
    return app


@pytest.fixture
def agent(shipped):
    client = shipped.test_client()
    assert login(client, "agent").status_code == 302
    return client


def box(response) -> str:
    """The due dates box of a page, as text a person reads (tags dropped, spaces tidied)."""
    assert response.status_code == 200
    found = re.search(r'<section class="due-now".*?</section>', response.get_data(as_text=True),
                      re.S)
    assert found, "no due dates box on the page"
    seen = re.sub(r'<span class="visually-hidden">.*?</span>', "", found[0])
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", seen)).split())
    return re.sub(r" ([:.,;])", r"\1", text)


def day_words(result: DueDate) -> str:
    due = result.due
    return f"{due:%A} {due.day} {due:%B %Y}"


def expected(app, key: str) -> tuple[str, str]:
    """The calculator's own answer for ``key`` now: the date and the sentence to read."""
    with app.test_request_context():
        result = compute(key)
        return day_words(result), sentence(result, today())


def code_set(manager, *, in_force=True, region=None) -> StandardSet:
    """A second set in the shape of a complaint-handling code: acknowledge, then reply
    counting from the acknowledgement, with an extension allowed."""
    code = StandardSet(key="code", label="Complaint Handling Code", in_force=in_force,
                       position=1, region=region)
    db.session.add(code)
    db.session.flush()
    save_standard(None, user=manager, standard_set=code, key="code-ack",
                  label="Acknowledge a stage 1 complaint", channel="Complaints",
                  rule="working_days", amount=5, event="acknowledged",
                  promise="acknowledge your complaint")
    save_standard(None, user=manager, standard_set=code, key="code-reply",
                  label="Stage 1 response under the Code", channel="Complaints",
                  rule="working_days", amount=10, counts_from="code-ack",
                  extension_days=10, extension_note="with a reason given to the resident",
                  promise="send you our stage 1 response")
    return code


def test_the_end_step_shows_the_policy_dates_for_now_with_the_words_to_read(shipped, agent):
    text = box(agent.get(NEXT_STEPS))
    assert text.startswith("Due dates if the request arrives now")
    for key, label in [("complaint-acknowledge", "Acknowledge a complaint"),
                       ("complaint-stage-1", "Stage 1 complaint response")]:
        when, words = expected(shipped, key)
        assert f"{label}: {when}" in text
        assert f"“{words}”" in text
    assert "“We will acknowledge your complaint by " in text
    # Stage 2 counts from the request to escalate, and says so.
    assert "Stage 2 complaint response (if the resident asks to escalate now)" in text
    assert ("Standards in force: Our policy. Working days leave out bank holidays in England "
            "and Wales.") in text
    page = agent.get(NEXT_STEPS).get_data(as_text=True)
    assert 'href="/tools/due-date?standard=complaint-stage-1"' in page


def test_a_second_set_in_force_shows_both_each_under_its_name(shipped, agent):
    with shipped.app_context():
        code_set(user_named("manager"), region="SCT")
        db.session.commit()
    text = box(agent.get(NEXT_STEPS))
    ours, code = text.index("Our policy"), text.index("Complaint Handling Code")
    assert ours < text.index("Acknowledge a complaint:") < code
    assert code < text.index("Stage 1 response under the Code:")
    with shipped.test_request_context():
        chain = compute_chain("code-reply")
        ack, reply = chain.steps
        words = sentence(reply.result, today())
    assert f"Stage 1 response under the Code: {day_words(reply.result)}" in text
    assert f"“{words}”" in text
    # The chain counts on from the acknowledgement's last day, and the extension is shown.
    assert (f"Counted on from “Acknowledge a stage 1 complaint” by {day_words(ack.result)}, "
            "as if that step takes its full time.") in text
    extended = reply.result.extended
    assert (f"With an extension: {extended:%A} {extended.day} {extended:%B %Y} "
            "(with a reason given to the resident).") in text
    assert ("Standards in force: Our policy, with bank holidays in England and Wales; "
            "Complaint Handling Code, with bank holidays in Scotland.") in text


def test_with_only_the_new_set_in_force_only_its_dates_are_shown(shipped, agent):
    with shipped.app_context():
        manager = user_named("manager")
        code = code_set(manager, in_force=False)
        save_set(code, user=manager, label="Complaint Handling Code", region="SCT",
                 in_force=True)
        save_set(policy_set(), user=manager, label="Our policy", region=None, in_force=False)
        db.session.commit()
    text = box(agent.get(NEXT_STEPS))
    assert "Acknowledge a stage 1 complaint:" in text
    assert "Stage 1 response under the Code:" in text
    assert "Our policy" not in text and "Acknowledge a complaint:" not in text
    assert ("Standards in force: Complaint Handling Code. Working days leave out bank "
            "holidays in Scotland.") in text
    # A step naming only a policy standard says plainly that nothing in force matches,
    # and the script goes on working.
    stage_2 = agent.get(STAGE_2)
    assert "No standard in force matches “complaint-stage-2”" in box(stage_2)
    page = stage_2.get_data(as_text=True)
    assert "Can you tell me why the stage 1 response" in page and 'name="why_still_unhappy"' in page


def test_an_hour_rule_shows_the_time_and_the_repair_step_links_the_calculator(shipped,
                                                                               agent):
    with shipped.test_request_context():
        before = compute("repair-emergency")
        page = agent.get(EMERGENCY)
        after = compute("repair-emergency")
    text = box(page)
    # 2 hours of calendar time: the minute may tick over while the page is made.
    assert any(f"Emergency repair: {r.due:%H:%M} on {day_words(r)}" in text
               for r in (before, after))
    assert "“We will attend your emergency repair by " in text
    assert 'href="/tools/due-date?standard=repair-emergency"' in page.get_data(as_text=True)


def test_a_standard_that_cannot_be_worked_out_is_left_out_and_logged(shipped, agent, caplog):
    with shipped.app_context():
        broken = db.session.scalar(db.select(ResponseStandard).filter_by(
            key="complaint-acknowledge"))
        broken.rule = "fortnightly"  # data no form would accept, e.g. edited by hand
        db.session.commit()
    with caplog.at_level(logging.ERROR, logger="kb.tools.duedates.in_force"):
        text = box(agent.get(NEXT_STEPS))
    assert "Acknowledge a complaint" not in text
    when, _words = expected(shipped, "complaint-stage-1")
    assert f"Stage 1 complaint response: {when}" in text
    assert "complaint-acknowledge" in caplog.text


def test_steps_without_due_show_no_box(agent):
    page = agent.get("/scripts/complaint/").get_data(as_text=True)
    assert "due-now" not in page


def test_due_lines_survive_export_and_reimport(shipped, runner, tmp_path):
    out = tmp_path / "export"
    assert runner.invoke(args=["export-content", str(out)]).exit_code == 0
    exported = (out / "scripts" / "complaint.md").read_text(encoding="utf-8")
    assert exported.count("Due: Complaints") == 2 and "Due: complaint-stage-2" in exported
    result = runner.invoke(args=["import-content", "--articles", str(out / "articles"),
                                 "--scripts", str(out / "scripts")])
    assert result.exit_code == 0, result.output
    with shipped.app_context():
        script = db.session.scalar(db.select(CallScript).filter_by(slug="complaint"))
        assert [v.number for v in script.versions] == [1]


# ----- in a real browser ------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.parametrize(("path", "part"), [(NEXT_STEPS, "[data-due-now]"),
                                           (EMERGENCY, "[data-due-now]"),
                                           ("/articles/response-times",
                                            "[data-standards-in-force]")])
def test_the_box_passes_axe(axe_page, live, path, part):
    from tests.browser import serious_violations, sign_in

    sign_in(axe_page, live)
    axe_page.goto(f"{live}{path}")
    assert axe_page.locator(part).is_visible()
    assert serious_violations(axe_page) == []


@pytest.mark.browser
def test_at_800_px_the_box_fits_without_sideways_scrolling(browser, live):
    from tests.browser import sign_in

    context = browser.new_context(viewport={"width": 800, "height": 700})
    page = context.new_page()
    try:
        sign_in(page, live)
        page.goto(f"{live}{NEXT_STEPS}")
        box = page.locator("[data-due-now]")
        assert box.get_by_role("link", name="Acknowledge a complaint").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 800
        assert box.evaluate("el => el.getBoundingClientRect().right") <= 800
    finally:
        context.close()


# ----- articles: the page -----------------------------------------------------------------


def note(response) -> str:
    """The "Standards in force" note of an article page, as text."""
    assert response.status_code == 200
    found = re.search(r'<aside class="standards-note".*?</aside>',
                      response.get_data(as_text=True), re.S)
    assert found, "no standards note on the page"
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found[0])).split())
    return re.sub(r" ([:.,;])", r"\1", text)


def test_the_response_times_article_names_the_sets_in_force(shipped, agent):
    text = note(agent.get("/articles/response-times"))
    assert "Our policy: working days leave out bank holidays in England and Wales" in text
    assert "Complaint Handling Code" not in text
    with shipped.app_context():
        manager = user_named("manager")
        code = code_set(manager, in_force=False)
        save_set(code, user=manager, label="Complaint Handling Code", region="NIR",
                 in_force=True)
        db.session.commit()
    text = note(agent.get("/articles/response-times"))
    assert "Our policy: working days" in text
    assert ("Complaint Handling Code: working days leave out bank holidays in Northern "
            "Ireland") in text
    assert 'href="/tools/due-date"' in agent.get("/articles/response-times").get_data(
        as_text=True)
    # Other articles say nothing about standards.
    assert "standards-note" not in agent.get("/articles/complaints").get_data(as_text=True)


def test_an_article_naming_a_channel_shows_its_dates_for_now(shipped, runner, agent):
    write_article(Path(shipped.config["KB_ARTICLES_DIR"]), "complaint-dates",
                  title="Complaint dates", standards="Complaints")
    assert runner.invoke(args=["import-content"]).exit_code == 0
    with shipped.app_context():
        broken = db.session.scalar(db.select(ResponseStandard).filter_by(
            key="complaint-stage-2"))
        broken.counts_from = "nowhere"  # a chain that no longer leads anywhere
        db.session.commit()
    text = box(agent.get("/articles/complaint-dates"))
    when, words = expected(shipped, "complaint-stage-1")
    assert f"Stage 1 complaint response: {when}" in text and f"“{words}”" in text
    assert "Stage 2" not in text  # left out, and the page still works


def test_standards_survive_export_and_reimport(shipped, runner, tmp_path):
    out = tmp_path / "export"
    assert runner.invoke(args=["export-content", str(out)]).exit_code == 0
    exported = (out / "articles" / "response-times.md").read_text(encoding="utf-8")
    assert "\nstandards: all\n" in exported
    result = runner.invoke(args=["import-content", "--articles", str(out / "articles"),
                                 "--scripts", str(out / "scripts")])
    assert result.exit_code == 0, result.output
    with shipped.app_context():
        article = db.session.scalar(db.select(Article).filter_by(slug="response-times"))
        assert article.response_standards == ["all"]
        assert [v.number for v in article.versions] == [1]
