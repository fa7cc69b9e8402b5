"""The response-time calculator page, its API and managers' standards."""

from __future__ import annotations

import re

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


# --- the counting rule, chains, extensions and read-out sentences (issue 11) ---------------


def _chain_set(app, key="code", region=None, in_force=True):
    """A two-step set (acknowledge in 5 working days, reply within 10 of the
    acknowledgement, extendable by 10), as a regulator's pack would have it."""
    from kb.tools.duedates.models import StandardSet
    from kb.tools.duedates.services import save_standard
    from tests.conftest import user_named

    with app.app_context():
        manager = user_named("manager")
        chosen = StandardSet(key=key, label=f"Complaint code {key}", region=region,
                             in_force=in_force, position=5)
        db.session.add(chosen)
        db.session.flush()
        save_standard(None, user=manager, standard_set=chosen, key=f"{key}-ack",
                      label="Acknowledge the complaint", channel="Complaints",
                      rule="working_days", amount=5, event="acknowledged",
                      promise="acknowledge your complaint", citation="Code 5.1")
        save_standard(None, user=manager, standard_set=chosen, key=f"{key}-reply",
                      label="Stage 1 reply", channel="Complaints", rule="working_days",
                      amount=10, counts_from=f"{key}-ack", extension_days=10,
                      extension_note="Only with a good reason, told to the resident",
                      promise="reply to your complaint", citation="Code 5.2")
        db.session.commit()


def _page(client, query):
    response = client.get(f"/tools/due-date?{query}")
    return response.status_code, response.get_data(as_text=True)


def test_page_counts_a_saturday_complaint_from_the_next_working_day(client):
    login(client, "agent")
    status, text = _page(client, "standard=complaint-acknowledge&from=2026-08-29T10:00")
    assert status == 200
    # Monday 31 August 2026 is a bank holiday: day 1 is Tuesday, day 3 Thursday.
    assert "Respond by Thursday 3 September 2026" in text
    assert "We will acknowledge your complaint by Thursday 3 September" in text
    assert 'data-copy="due-sentence"' in text  # the Copy button, revealed by the script
    assert "Day 1 is Tuesday 1 September" in text
    # The rule is written on the page, with the examples the calculator has just agreed with.
    assert "Saturday 29 August 2026" in text and "Thursday 3 September" in text
    assert "18:00 on a Friday is answered by the end of Monday" in text


def test_page_answers_a_friday_evening_voicemail_on_monday(client):
    login(client, "agent")
    status, text = _page(client, "standard=voicemail&from=2026-09-04T18:00")
    assert status == 200
    assert "Respond by Monday 7 September 2026" in text
    assert "We will reply to your message by Monday 7 September" in text


def test_page_asks_for_the_dates_a_chain_needs(app, client):
    _chain_set(app)
    login(client, "agent")
    _, text = _page(client, "standard=email")
    assert re.search(r'data-event-field="acknowledged" hidden', text)  # email: no chain
    _, text = _page(client, "standard=code-reply&from=2026-08-29T10:00")
    assert re.search(r'data-event-field="acknowledged">', text)  # shown without JavaScript
    assert re.search(r'name="acknowledged"[^>]*aria-describedby="event-acknowledged-hint">',
                     text)  # and enabled
    assert 'data-fields="received acknowledged"' in text  # what the script reveals


def test_page_shows_each_step_of_a_chain(app, client):
    _chain_set(app)
    login(client, "agent")
    status, text = _page(client, "standard=code-reply&from=2026-08-29T10:00")
    assert status == 200
    assert "Acknowledge the complaint" in text and "Stage 1 reply" in text
    # Nothing recorded: the reply counts from the last day allowed for the acknowledgement
    # (day 5 is Monday 7 September), so day 10 is Monday 21 September.
    assert "The last day allowed for the acknowledgement" in text
    assert "Respond by Monday 21 September 2026" in text
    assert "Within 10 working days of the acknowledgement" in text
    assert "We will acknowledge your complaint by Monday 7 September" in text
    assert "Code 5.2" in text and "Complaint code code" in text

    status, text = _page(client, "standard=code-reply&from=2026-08-29T10:00"
                                 "&acknowledged=2026-09-01T09:00")
    assert "Respond by Tuesday 15 September 2026" in text
    assert "The acknowledgement, as recorded: Tuesday 1 September 2026 at 09:00" in text
    assert "on time" in text


def test_page_says_when_a_step_was_late(app, client):
    _chain_set(app)
    login(client, "agent")
    _, text = _page(client, "standard=code-ack&from=2026-08-29T10:00"
                            "&acknowledged=2026-09-08T09:00")
    assert 'name="acknowledged"' in text and ">late</strong>" in text


def test_page_shows_the_extension_and_its_sentence(app, client):
    _chain_set(app)
    login(client, "agent")
    _, text = _page(client, "standard=code-reply&from=2026-08-29T10:00")
    assert "With an extension: Monday 5 October 2026" in text
    assert "Only with a good reason, told to the resident" in text
    assert "We need more time" not in text  # no reason given, nothing to read out yet
    _, text = _page(client, "standard=code-reply&from=2026-08-29T10:00"
                            "&reason=we+are+waiting+for+a+surveyor%27s+report")
    assert ("We need more time to reply to your complaint because we are waiting for a "
            "surveyor&#39;s report. We will do so by Monday 5 October") in text
    assert 'data-copy="due-extension-sentence"' in text
    _, text = _page(client, "standard=email&from=2026-11-23T10:00")
    assert "With an extension" not in text
    assert re.search(r"data-reason-field hidden", text)


def test_page_bad_event_date_names_the_event_and_keeps_the_form(app, client):
    _chain_set(app)
    login(client, "agent")
    status, text = _page(client, "standard=code-reply&from=2026-08-29T10:00"
                                 "&acknowledged=garbage")
    assert status == 400
    assert "Acknowledged: " in text and "YYYY-MM-DDTHH:MM" in text
    assert 'value="garbage"' in text and 'value="code-reply" selected' in text
    assert re.search(r'name="acknowledged"[^>]*aria-describedby="event-acknowledged-hint '
                     r'due-error" aria-invalid="true"', text)  # the field points to the message


def test_page_never_fails_on_odd_input(app, client):
    _chain_set(app)
    login(client, "agent")
    huge = "9" * 100_000
    status, text = _page(client, "standard=email&from=9999-12-31")
    assert status == 400 and "between 1950 and 2200" in text
    status, text = _page(client, "standard=email&acknowledged=garbage&from=2026-11-23")
    assert status == 200  # email counts from receipt only: other dates are not read
    for query in (f"standard={huge}", f"standard=email&from={huge}",
                  f"standard=code-reply&acknowledged={huge}", f"standard=email&reason={huge}",
                  "standard=code-reply&from=2200-12-31T23:59"):
        status, text = _page(client, query)
        assert status in (200, 400), query
        assert huge not in text
    status, text = _page(client, f"standard=code-reply&acknowledged={huge}")
    assert "Acknowledged: that is too long" in text


def test_standards_of_a_set_out_of_force_are_unknown(app, client):
    _chain_set(app, in_force=False)
    login(client, "agent")
    status, text = _page(client, "standard=code-ack")
    assert status == 400 and "Choose one of the standards" in text
    response = client.get("/api/due-date?standard=code-ack")
    assert response.status_code == 400 and "Unknown standard" in response.get_json()["message"]


def test_page_lists_standards_by_set_with_their_bank_holidays(app, client):
    login(client, "agent")
    _, text = _page(client, "")
    assert "not counting bank holidays in England and Wales" in text
    assert "Complaint code" not in text
    _chain_set(app, region="SCT")
    _, text = _page(client, "")
    assert "<h3 id=\"set-code\">Complaint code code</h3>" in text
    assert "not counting bank holidays in Scotland" in text
    assert "within 10 working days of the acknowledgement; up to 10 more working days" in text
    assert 'optgroup label="Complaint code code: Complaints"' in text


def test_api_returns_the_sentence_and_every_step(app, client):
    _chain_set(app)
    login(client, "agent")
    data = client.get("/api/due-date?standard=complaint-acknowledge"
                      "&from=2026-08-29T10:00").get_json()
    assert data["due"].startswith("2026-09-03")
    assert data["sentence"].startswith("We will acknowledge your complaint by Thursday 3 "
                                       "September")
    assert data["set"] == {"key": "policy", "label": "Our policy",
                           "bank_holidays": "England and Wales"}
    assert data["extended_due"] is None and data["extension_sentence"] is None

    data = client.get("/api/due-date?standard=code-reply&from=2026-08-29T10:00"
                      "&acknowledged=2026-09-01T09:00&reason=a+contractor+is+away").get_json()
    assert data["from"] == "2026-08-29T10:00:00+01:00"  # the chain's first event
    assert data["due"].startswith("2026-09-15")
    assert data["rule"] == "within 10 working days of the acknowledgement"
    assert data["citation"] == "Code 5.2"
    assert data["extended_due"].startswith("2026-09-29")
    assert "because a contractor is away" in data["extension_sentence"]
    ack, reply = data["steps"]
    assert ack["standard"] == "code-ack" and ack["counts_from"] == {
        "event": "received", "date": "2026-08-29T10:00:00+01:00", "recorded": True}
    assert ack["done"] == "2026-09-01T09:00:00+01:00" and ack["on_time"] is True
    assert ack["sentence"].startswith("We will acknowledge your complaint by Monday 7 Sep")
    assert reply["counts_from"]["event"] == "acknowledged" and reply["counts_from"]["recorded"]
    assert "done" not in reply and reply["explanation"]

    data = client.get("/api/due-date?standard=code-reply&from=2026-08-29T10:00").get_json()
    assert data["steps"][1]["counts_from"] == {
        "event": "acknowledged", "date": "2026-09-07T18:00:00+01:00", "recorded": False}


def test_api_bad_event_date_names_it(app, client):
    _chain_set(app)
    login(client, "agent")
    response = client.get("/api/due-date?standard=code-reply&acknowledged=31/08/2026")
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "bad_request" and body["message"].startswith("Acknowledged: ")
    for query in ("standard=%00", "standard=" + "e" * 5000, "standard=email&from=9999-12-31",
                  "standard=email&reason=" + "x" * 400):
        response = client.get(f"/api/due-date?{query}")
        assert response.status_code == 400 and response.get_json()["message"], query


def test_api_stage_2_counts_from_the_escalation(client):
    login(client, "agent")
    data = client.get("/api/due-date?standard=complaint-stage-2"
                      "&escalated=2026-08-29T10:00").get_json()
    assert data["from"] == "2026-08-29T10:00:00+01:00"
    assert data["steps"][0]["counts_from"]["event"] == "escalated"
    assert data["rule"] == "within 20 working days of the request to escalate"


def test_api_standards_lists_sets_and_chains(app, client):
    _chain_set(app)
    login(client, "agent")
    data = client.get("/api/standards").get_json()
    assert {s["key"] for s in data["sets"]} == {"policy", "code"}
    standards = {s["key"]: s for s in data["standards"]}
    reply = standards["code-reply"]
    assert reply["set"] == {"key": "code", "label": "Complaint code code"}
    assert reply["counts_from"] == "code-ack" and reply["extension_days"] == 10
    assert reply["description"] == "within 10 working days of the acknowledgement"
    assert standards["code-ack"]["event"] == "acknowledged"
    assert standards["email"]["promise"] == "reply to your email"
