"""The response-time calculator page, its API and managers' standards."""

from __future__ import annotations

from kb.extensions import db
from kb.models import AuditLog
from kb.tools.duedates.models import ResponseStandard
from tests.conftest import csrf_token, login


def test_api_due_date_contract(client):
    login(client, "agent")
    data = client.get("/api/due-date?standard=email&from=2026-11-23T10:00").get_json()
    assert data["standard"] == "email"
    assert data["label"] == "Reply to an email"
    assert data["from"] == "2026-11-23T10:00:00+00:00"
    assert data["due"] == "2026-11-26T18:00:00+00:00"
    assert data["rule"] == "within 3 working days"


def test_api_unknown_standard_names_the_valid_ones(client):
    login(client, "agent")
    response = client.get("/api/due-date?standard=fax&from=2026-11-23")
    assert response.status_code == 400
    message = response.get_json()["message"]
    assert "fax" in message and "email" in message and "repair-emergency" in message


def test_api_malformed_date_names_the_format(client):
    login(client, "agent")
    response = client.get("/api/due-date?standard=email&from=next+tuesday")
    assert response.status_code == 400
    assert "YYYY-MM-DDTHH:MM" in response.get_json()["message"]


def test_api_defaults_to_now(client):
    login(client, "agent")
    data = client.get("/api/due-date?standard=repair-emergency").get_json()
    assert data["rule"] == "within 2 hours (calendar time)"


def test_api_standards_lists_the_policy(client):
    login(client, "agent")
    standards = {s["key"]: s for s in client.get("/api/standards").get_json()["standards"]}
    assert standards["repair-routine"]["description"] == "within 15 working days"
    assert standards["complaint-stage-2"]["amount"] == 20
    assert standards["voicemail"]["rule"] == "end_of_next_working_day"
    assert standards["social-media"]["rule"] == "same_working_day"


def test_page_shows_respond_by(client):
    login(client, "agent")
    page = client.get("/tools/due-date?standard=email&from=2026-11-23T10:00")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Respond by Thursday 26 November 2026" in text
    assert "within 3 working days" in text


def test_page_bad_input_is_a_clear_message(client):
    login(client, "agent")
    page = client.get("/tools/due-date?standard=email&from=garbage")
    assert page.status_code == 400
    assert "YYYY-MM-DD" in page.get_data(as_text=True)
    page = client.get("/tools/due-date?standard=nope")
    assert "Choose one of the standards" in page.get_data(as_text=True)


def test_agents_cannot_edit_standards(client):
    login(client, "agent")
    assert client.get("/tools/due-date/standards").status_code == 403
    assert client.post("/tools/due-date/standards/1", data={}).status_code in (400, 403)


def test_manager_edits_a_standard_and_it_is_audited(app, client):
    login(client, "manager")
    client.get("/tools/due-date/standards")
    with app.app_context():
        email = db.session.scalar(db.select(ResponseStandard).filter_by(key="email"))
        email_id = email.id
    url = f"/tools/due-date/standards/{email_id}"
    token = csrf_token(client.get(url))
    response = client.post(url, data={
        "csrf_token": token, "key": "email", "label": "Reply to an email",
        "channel": "Email", "rule": "working_days", "amount": "2", "active": "y"})
    assert response.status_code == 302
    data = client.get("/api/due-date?standard=email&from=2026-11-23T10:00").get_json()
    assert data["due"].startswith("2026-11-25")
    with app.app_context():
        entry = db.session.scalar(db.select(AuditLog).filter_by(action="standard.update"))
        assert entry.detail["before"]["amount"] == 3 and entry.detail["after"]["amount"] == 2


def test_bad_standard_edit_changes_nothing(app, client):
    login(client, "manager")
    client.get("/tools/due-date/standards")
    url = "/tools/due-date/standards/new"
    token = csrf_token(client.get(url))
    response = client.post(url, data={
        "csrf_token": token, "key": "email", "label": "Duplicate", "channel": "Email",
        "rule": "working_days", "amount": "3", "active": "y"})
    assert response.status_code == 200
    assert "already uses the key" in response.get_data(as_text=True)
    response = client.post(url, data={
        "csrf_token": token, "key": "letters-fast", "label": "x", "channel": "Letter",
        "rule": "working_days", "amount": "0", "active": "y"})
    assert "needs a number" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(ResponseStandard.id))) == 14
