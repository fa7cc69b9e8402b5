"""The optional comprehension check: questions in front matter, answered before signing,
kept with the signature."""

from __future__ import annotations

import re

import pytest

from kb.content.loader import parse_questions
from kb.extensions import db
from kb.models import Article
from kb.signoffs.models import SignOff
from tests.conftest import csrf_token, login

QUESTIONS = """
  - question: How soon do we answer a call?
    choices: [Within 20 seconds, Within 2 minutes]
    answer: Within 20 seconds
  - question: What do you give the caller first?
    choices: [Your name, A reference number, The time]
    answer: Your name"""


@pytest.fixture
def quizzed(app, make_article, runner):
    """A standard with two questions, imported."""
    make_article("greeting", title="Greeting", requires_signoff="true",
                 body="Answer within 20 seconds and give your name.", questions=QUESTIONS)
    result = runner.invoke(args=["import-content"])
    assert result.exit_code == 0 and "0 with errors" in result.output, result.output
    return "greeting"


def test_questions_are_read_from_front_matter_and_exported_again(app, runner, quizzed,
                                                                  tmp_path):
    with app.app_context():
        article = db.session.scalar(db.select(Article).filter_by(slug="greeting"))
        assert [q["answer"] for q in article.signoff_questions] == ["Within 20 seconds",
                                                                    "Your name"]
    assert runner.invoke(args=["export-content", str(tmp_path / "out")]).exit_code == 0
    exported = (tmp_path / "out" / "articles" / "greeting.md").read_text()
    assert "question: How soon do we answer a call?" in exported


@pytest.mark.parametrize("value, problem", [
    ("not a list", "must be a list"),
    ([{"question": "Q?", "choices": ["A"], "answer": "A"}], "must be a list"),
    ([{"question": "Q?", "choices": ["A", "B"], "answer": "C"}], "must be one of its"),
    ([{"question": "Q?", "choices": ["A", "B"]}], "must be a list"),
])
def test_bad_questions_are_refused_with_a_reason(value, problem):
    questions, message = parse_questions(value)
    assert questions == [] and problem in message


def test_a_file_with_bad_questions_is_reported_and_not_imported(app, make_article, runner):
    make_article("broken", requires_signoff="true",
                 questions="\n  - question: Q?\n    choices: [A, B]\n    answer: C")
    result = runner.invoke(args=["import-content"])
    assert "the answer must be one of its choices" in result.output + (
        result.stderr if result.stderr_bytes else "")
    with app.app_context():
        assert db.session.scalar(db.select(Article).filter_by(slug="broken")) is None


def _post(client, answers: dict):
    page = client.get("/signoffs/articles/greeting/sign")
    html = page.get_data(as_text=True)
    hidden = dict(re.findall(r'name="(user_id|version_number|content_sha256)"'
                             r' type="hidden" value="([^"]*)"', html))
    return client.post("/signoffs/articles/greeting/sign", data={
        "csrf_token": csrf_token(page), **hidden, "understood": "y",
        "typed_name": "Alex Agent", "password": "demo", **answers})


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count(SignOff.id)))


def test_the_sign_page_asks_the_questions(client, quizzed):
    login(client, "agent")
    page = client.get("/signoffs/articles/greeting/sign").get_data(as_text=True)
    assert "<legend>1. How soon do we answer a call?</legend>" in page
    assert 'type="radio" name="q1" value="A reference number"' in page


@pytest.mark.parametrize("answers, message", [
    ({}, "Answer question 1 before signing"),
    ({"q0": "Within 20 seconds"}, "Answer question 2 before signing"),
    ({"q0": "Within 20 seconds", "q1": "The time"}, "Question 2 is not right"),
])
def test_a_missing_or_wrong_answer_records_nothing(app, client, quizzed, answers, message):
    login(client, "agent")
    response = _post(client, answers)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html
    if "q0" in answers:  # what was chosen stays chosen
        assert 'value="Within 20 seconds" checked' in html
    assert _count(app) == 0


def test_right_answers_are_kept_with_the_signature(app, client, runner, quizzed):
    login(client, "agent")
    response = _post(client, {"q0": "Within 20 seconds", "q1": "Your name"})
    assert response.status_code == 302
    with app.app_context():
        record = db.session.scalar(db.select(SignOff))
        assert record.answers == [
            {"question": "How soon do we answer a call?", "answer": "Within 20 seconds"},
            {"question": "What do you give the caller first?", "answer": "Your name"}]
    assert runner.invoke(args=["verify-signoffs"]).exit_code == 0


def test_changing_only_the_questions_is_audited_without_a_new_version(app, make_article,
                                                                       runner, quizzed):
    from kb.models import AuditLog

    make_article("greeting", title="Greeting", requires_signoff="true",
                 body="Answer within 20 seconds and give your name.",
                 questions=QUESTIONS.replace("The time", "The weather"))
    assert runner.invoke(args=["import-content"]).exit_code == 0
    with app.app_context():
        article = db.session.scalar(db.select(Article).filter_by(slug="greeting"))
        assert article.current_version.number == 1
        assert "The weather" in article.signoff_questions[1]["choices"]
        row = db.session.scalar(db.select(AuditLog).filter_by(action="article.metadata"))
        assert "signoff_questions" in row.detail["after"]
