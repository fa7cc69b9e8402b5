"""The editor and the API set a standard's comprehension questions and the team that
signs: checked by the import's rule, refusals change nothing, changes are audited."""

from __future__ import annotations

import re

import pytest

from kb.extensions import db
from kb.models import Article, AuditLog
from kb.publishing.questions import from_text, to_text
from tests.conftest import csrf_token, login

QUESTIONS = """
  - question: How soon do we answer a call?
    choices: [Within 20 seconds, Within 2 minutes]
    answer: Within 20 seconds"""
TEXT = ("Q: How soon do we answer a call?\n* Within 20 seconds\n- Within 2 minutes\n\n"
        "Q: What do you give the caller first?\n- A reference number\n* Your name\n- The time")
FORM = {"title": "Greeting", "slug": "greeting", "category": "Standards", "tags": "",
        "summary": "Quick answer for greeting.", "owner": "Contact Centre Manager",
        "review_cycle_months": "12", "requires_signoff": "y", "signoff_role": "agent",
        "signoff_window_days": "14",
        "markdown": "Answer within 20 seconds and give your name.\n"}


@pytest.fixture
def standard(app, make_article, runner, make_user):
    """One imported standard with one question; a team "Out of hours" with one agent."""
    make_article("greeting", title="Greeting", category="Standards", requires_signoff="true",
                 body="Answer within 20 seconds and give your name.", questions=QUESTIONS)
    assert runner.invoke(args=["import-content"]).exit_code == 0
    make_user("owen", team="Out of hours")
    return app


def _article(app) -> dict:
    """What the standard holds now, and how many metadata audit rows it has."""
    with app.app_context():
        article = db.session.scalar(db.select(Article).filter_by(slug="greeting"))
        rows = db.session.scalars(db.select(AuditLog).filter_by(action="article.metadata")
                                  .order_by(AuditLog.id)).all()
        return {"questions": article.signoff_questions, "team": article.signoff_team_id,
                "days": article.signoff_window_days, "role": article.signoff_role,
                "version": article.current_version.number,
                "audits": [row.detail for row in rows]}


def _team(app, name: str) -> int:
    from kb.auth.services import team_named

    with app.app_context():
        return team_named(name).id


def _edit(client, action: str = "publish", **changes):
    """Open the standard's editor and post it with ``changes``."""
    page = client.get("/publishing/articles/greeting/edit")
    assert page.status_code == 200
    base = re.search(r'name="base_version" type="hidden" value="(\d+)"',
                     page.get_data(as_text=True)).group(1)
    data = dict(FORM, base_version=base, csrf_token=csrf_token(page), action=action,
                change_summary="Quiz and team", signoff_team_id="",
                signoff_questions=to_text(_QUESTIONS_NOW))
    data.update(changes)
    return client.post("/publishing/articles/greeting/edit", data=data)


_QUESTIONS_NOW = [{"question": "How soon do we answer a call?",
                   "choices": ["Within 20 seconds", "Within 2 minutes"],
                   "answer": "Within 20 seconds"}]


@pytest.fixture
def manager(standard, client):
    assert login(client, "manager").status_code == 302
    return client


def test_the_editor_shows_the_questions_as_text_and_every_team(standard, manager):
    page = manager.get("/publishing/articles/greeting/edit").get_data(as_text=True)
    assert "Comprehension questions (optional)" in page
    assert ("Q: How soon do we answer a call?\n* Within 20 seconds\n- Within 2 minutes"
            in page)
    assert '<label for="signoff_team_id">Team that signs</label>' in page
    assert '<option selected value="">Every team</option>' in page
    assert f'<option value="{_team(standard, "Out of hours")}">Out of hours</option>' in page


def test_setting_questions_and_team_audits_without_a_new_version(standard, manager):
    team = _team(standard, "Out of hours")
    response = _edit(manager, signoff_questions=TEXT, signoff_team_id=str(team))
    assert response.status_code == 302
    now = _article(standard)
    assert now["version"] == 1  # the text did not change
    assert [q["answer"] for q in now["questions"]] == ["Within 20 seconds", "Your name"]
    assert now["questions"][1]["choices"] == ["A reference number", "Your name", "The time"]
    assert now["team"] == team
    detail = now["audits"][-1]
    assert detail["after"]["signoff_team_id"] == team
    assert detail["before"]["signoff_team_id"] is None
    assert len(detail["after"]["signoff_questions"]) == 2
    # The editor shows them again as it was given them.
    page = manager.get("/publishing/articles/greeting/edit").get_data(as_text=True)
    assert TEXT in page.replace("&#34;", '"')
    assert f'<option selected value="{team}">Out of hours</option>' in page


def test_clearing_questions_and_team(standard, manager):
    team = _team(standard, "Out of hours")
    assert _edit(manager, signoff_team_id=str(team)).status_code == 302
    assert _edit(manager, signoff_questions="  \n", signoff_team_id="").status_code == 302
    now = _article(standard)
    assert now["questions"] is None and now["team"] is None
    assert now["audits"][-1]["before"] == {"signoff_team_id": team,
                                          "signoff_questions": _QUESTIONS_NOW}
    # The sign page no longer asks anything.
    agent = standard.test_client()
    assert login(agent, "agent").status_code == 302
    page = agent.get("/signoffs/articles/greeting/sign").get_data(as_text=True)
    assert "signoff-question" not in page


def test_saving_again_without_changes_writes_no_audit_row(standard, manager):
    before = len(_article(standard)["audits"])
    assert _edit(manager).status_code == 302
    assert len(_article(standard)["audits"]) == before


def test_a_change_to_the_days_alone_is_audited(standard, manager):
    assert _edit(manager, signoff_window_days="30").status_code == 302
    now = _article(standard)
    assert now["days"] == 30 and now["version"] == 1
    assert now["audits"][-1] == {"before": {"signoff_window_days": 14},
                                 "after": {"signoff_window_days": 30}}


def test_a_post_without_the_fields_keeps_them(standard, manager):
    page = manager.get("/publishing/articles/greeting/edit")
    base = re.search(r'name="base_version" type="hidden" value="(\d+)"',
                     page.get_data(as_text=True)).group(1)
    response = manager.post("/publishing/articles/greeting/edit", data=dict(
        FORM, base_version=base, csrf_token=csrf_token(page), action="publish",
        change_summary="Old page"))
    assert response.status_code == 302
    assert _article(standard)["questions"] == _QUESTIONS_NOW


SEVEN = "Q: Which?\n* A\n- B\n- C\n- D\n- E\n- F\n- G"
ELEVEN = "\n\n".join(f"Q: Question {n}?\n* Yes\n- No" for n in range(11))


@pytest.mark.parametrize("changes, message", [
    ({"signoff_questions": "* Within 20 seconds\n- Within 2 minutes"},
     "is not under a question"),
    ({"signoff_questions": "Q: How soon?\n- Soon\n- Later"},
     "Question 1 has no right answer: start the one right choice with “* ”."),
    ({"signoff_questions": "Q: How soon?\n* Soon\n* Later"}, "has more than one answer"),
    ({"signoff_questions": "Q: How soon?\n* Soon"},
     "Question 1 (“How soon?”) has 1 choice; give 2 to 6."),
    ({"signoff_questions": SEVEN}, "Question 1 (“Which?”) has 7 choices; give 2 to 6."),
    ({"signoff_questions": "Q: How soon?\n* Soon\n- Soon"}, "lists the same choice twice"),
    ({"signoff_questions": "Q:\n* Soon\n- Later"}, "Question 1 has no text."),
    ({"signoff_questions": ELEVEN}, "There are 11 questions; the most is 10."),
    ({"signoff_questions": "Q: x\n* a\n- b\n\n" * 2000}, "the most is 20,000"),
    ({"signoff_team_id": "999"}, "That team does not exist"),
    ({"signoff_team_id": "north"}, "must be a team&#39;s id"),
    ({"signoff_window_days": "0"}, "from 1 to 365"),
])
def test_every_refusal_names_the_problem_and_changes_nothing(standard, manager, changes,
                                                             message):
    before = _article(standard)
    valid = {"signoff_questions": TEXT,
             "signoff_team_id": str(_team(standard, "Out of hours"))}
    response = _edit(manager, **{**valid, **changes})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    summary = html[html.index('class="error-summary"'):html.index("</div>",
                                                                  html.index("error-summary"))]
    assert "Nothing was saved" in summary and message in summary
    assert message in html[html.index('class="field-error"'):]
    assert _article(standard) == before


def test_a_draft_keeps_the_questions_as_typed(standard, manager):
    typed = "Q: How soon?\n- Soon"  # not valid yet: a draft keeps it anyway
    assert _edit(manager, action="save", signoff_questions=typed).status_code == 302
    page = manager.get("/publishing/articles/greeting/edit").get_data(as_text=True)
    assert typed in page
    assert _article(standard)["questions"] == _QUESTIONS_NOW


def test_an_approved_change_carries_questions_and_team(standard, manager, make_user, app):
    from kb.models import Draft

    make_user("second", role="manager")
    team = _team(standard, "Out of hours")
    response = _edit(manager, signoff_questions=TEXT, signoff_team_id=str(team),
                     requires_approval="y")
    assert response.status_code == 302
    assert _article(standard)["team"] is None  # waiting for approval
    other = app.test_client()
    assert login(other, "second", "pw-second").status_code == 302
    with app.app_context():
        draft_id = db.session.scalar(db.select(Draft.id))
    page = other.get(f"/publishing/approvals/{draft_id}")
    assert page.status_code == 200
    response = other.post(f"/publishing/approvals/{draft_id}/approve",
                          data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302
    now = _article(standard)
    assert now["team"] == team and len(now["questions"]) == 2


def test_the_audience_follows_the_team(standard, manager):
    from kb.signoffs.status import audience, documents

    def people() -> set[str]:
        with standard.app_context():
            return {u.username for u in db.session.scalars(audience(documents()))}

    assert {"agent", "newstarter", "owen"} <= people()
    assert _edit(manager, signoff_team_id=str(_team(standard, "Out of hours"))
                 ).status_code == 302
    assert people() == {"owen"}
    assert _edit(manager, signoff_team_id=str(_team(standard, "Contact centre"))
                 ).status_code == 302
    assert people() == {"agent", "newstarter"}


def test_text_form_round_trip_and_the_import_rule():
    questions = from_text(TEXT)
    assert to_text(questions) == TEXT
    assert from_text("") == []
    # Spaces are tidied as the import tidies them; "- " is optional before a choice.
    assert from_text("q:  How   soon? \n*Soon\nLater") == [
        {"question": "How soon?", "choices": ["Soon", "Later"], "answer": "Soon"}]


# ----- the API -------------------------------------------------------------------------


@pytest.fixture
def token(standard, runner):
    result = runner.invoke(args=["create-token", "manager"])
    assert result.exit_code == 0, result.output
    return {"Authorization": f"Bearer {result.output.strip()}"}


def _put(client, token, **changes):
    body = {"base_version": _article(client.application)["version"],
            "markdown": FORM["markdown"], "change_summary": "API", "requires_signoff": True,
            **changes}
    return client.put("/api/articles/greeting", json=body, headers=token)


def test_the_api_sets_keeps_and_clears_questions_and_team(standard, client, token):
    team = _team(standard, "Out of hours")
    quiz = [{"question": "Who answers?", "choices": ["Us", "Them"], "answer": "Us"}]
    response = _put(client, token, questions=quiz, signoff_team_id=team)
    assert response.status_code == 200, response.get_json()
    assert _article(standard)["questions"] == quiz and _article(standard)["team"] == team
    assert "signoff_team_id" in _article(standard)["audits"][-1]["after"]
    assert _put(client, token, title="Greeting callers").status_code == 200  # left out: kept
    assert _article(standard)["questions"] == quiz and _article(standard)["team"] == team
    assert _put(client, token, questions=None, signoff_team_id=None).status_code == 200
    assert _article(standard)["questions"] is None and _article(standard)["team"] is None


@pytest.mark.parametrize("changes, field, message", [
    ({"questions": [{"question": "Q?", "choices": ["A"], "answer": "A"}]},
     "signoff_questions", "has 1 choice"),
    ({"questions": [{"question": "Q?", "choices": ["A", "B"], "answer": "C"}]},
     "signoff_questions", "the answer must be one of its choices"),
    ({"questions": "not a list"}, "signoff_questions", "is not under a question"),
    ({"questions": {"question": "Q?"}}, "signoff_questions", "must be a list"),
    ({"signoff_team_id": 999}, "signoff_team_id", "does not exist"),
    ({"signoff_team_id": True}, "signoff_team_id", "must be a team's id"),
])
def test_the_api_refuses_bad_questions_or_team_and_changes_nothing(standard, client, token,
                                                                   changes, field, message):
    before = _article(standard)
    response = _put(client, token, **changes)
    assert response.status_code == 400
    assert response.get_json()["field"] == field and message in response.get_json()["error"]
    assert _article(standard) == before


# ----- the sign page -------------------------------------------------------------------


def test_the_sign_page_loads_the_quiz_script_only_for_questions(standard, client, manager):
    agent = standard.test_client()
    assert login(agent, "agent").status_code == 302
    page = agent.get("/signoffs/articles/greeting/sign").get_data(as_text=True)
    assert '<script src="/static/js/signoff-quiz.js" defer></script>' in page
    assert "data-signoff-quiz" in page and "data-sign-section" in page
    # Without the script the fields are not hidden: nothing in the page hides them.
    assert "data-sign-section hidden" not in page
    assert _edit(manager, signoff_questions="").status_code == 302
    page = agent.get("/signoffs/articles/greeting/sign").get_data(as_text=True)
    assert "signoff-quiz.js" not in page and "data-signoff-quiz" not in page
    assert "Sign version 1" in page
