"""Managers' pages for standard sets: the standards page, the set form and the standard
form with chains, extensions and promises (through HTTP, as a manager would use them)."""

from __future__ import annotations

import re
from html import unescape

import pytest

from kb.extensions import db
from kb.models import AuditLog
from kb.tools.duedates.models import ResponseStandard, StandardSet
from kb.tools.duedates.packs import load_pack
from tests.conftest import csrf_token, login

PACK = """\
key: test-code
label: Test complaint code
source: The Test Ombudsman's complaint code (2024)
source_url: https://example.org/code
checked_on: 2026-03-02
region: SCT
notes: |
  The stage 2 figure could not be confirmed, so it is left out.
standards:
  - key: test-ack
    label: Acknowledge a test complaint
    channel: Complaints
    rule: working_days
    amount: 5
    event: acknowledged
    promise: acknowledge your complaint
    citation: Test code, 5.1
  - key: test-reply
    label: Answer a test complaint
    channel: Complaints
    rule: working_days
    amount: 10
    counts_from: test-ack
    extension_days: 10
    extension_note: With a good reason, told to the resident
    promise: reply to your complaint
    citation: Test code, 6.2
"""


@pytest.fixture
def pack_app(app, tmp_path):
    """The seeded app with a second set loaded from a pack (out of force, as loaded)."""
    folder = tmp_path / "test-pack"
    folder.mkdir()
    (folder / "pack.yml").write_text(PACK, encoding="utf-8")
    with app.app_context():
        load_pack(str(folder))
        db.session.commit()
    return app


def _ids(app) -> dict[str, int]:
    with app.app_context():
        return {s.key: s.id for s in db.session.scalars(db.select(StandardSet))}


def _set(app, key: str) -> tuple[str, str | None, bool]:
    with app.app_context():
        found = db.session.scalar(db.select(StandardSet).filter_by(key=key))
        return found.label, found.region, found.in_force


def _text(response) -> str:
    return unescape(response.get_data(as_text=True))


def _error_summary(text: str) -> str:
    start = text.index('class="error-summary"')
    return text[start:text.index("</div>", start)]


def _post_set(client, set_id: int, **fields):
    url = f"/tools/due-date/sets/{set_id}"
    data = {"csrf_token": csrf_token(client.get(url)), **fields}
    if data.get("in_force") is False:
        del data["in_force"]  # an unticked box is not sent
    return client.post(url, data=data)


def test_the_standards_page_shows_every_set_with_its_facts(pack_app, client):
    login(client, "manager")
    page = _text(client.get("/tools/due-date/standards"))
    policy = page[page.index("Our policy"):page.index("Test complaint code</h2>")]
    code = page[page.index("Test complaint code</h2>"):]
    assert "In force:" in policy and "Reply to an email" in policy
    assert "Not in force:" in code and "agents do not see its standards" in code
    assert "Scotland" in code and "England and Wales (the installation's setting)" in policy
    assert '<a href="https://example.org/code">The Test Ombudsman' in code
    assert "2 March 2026" in code
    assert "The stage 2 figure could not be confirmed" in code
    assert "Counts from: the end of “Acknowledge a test complaint”" in code
    assert "Up to 10 working days<br><span class=\"meta\">When: With a good reason" in code
    assert "Within 10 working days" in code and "the deadline for test-ack" not in code
    assert "Doing it records: the acknowledgement" in code
    assert "flask --app kb load-standards NAME" in page


def test_a_manager_renames_a_set_changes_its_holidays_and_puts_it_in_force(pack_app, client):
    login(client, "manager")
    ids = _ids(pack_app)
    calculator = _text(client.get("/tools/due-date"))
    assert "Answer a test complaint" not in calculator  # loaded out of force

    response = _post_set(client, ids["test-code"], label="Complaint Handling Code",
                         region="NIR", in_force="y")
    assert response.status_code == 302
    assert _set(pack_app, "test-code") == ("Complaint Handling Code", "NIR", True)
    page = _text(client.get(response.headers["Location"]))
    assert "Saved “Complaint Handling Code”: in force, with the bank holidays of Northern " \
           "Ireland." in page
    calculator = _text(client.get("/tools/due-date"))
    assert "Answer a test complaint" in calculator and "Reply to an email" in calculator

    # Switch our policy out: only the code's standards are offered.
    assert _post_set(client, ids["policy"], label="Our policy", region="",
                     in_force=False).status_code == 302
    calculator = _text(client.get("/tools/due-date"))
    assert "Answer a test complaint" in calculator and "Reply to an email" not in calculator
    with pack_app.app_context():
        entries = db.session.scalars(db.select(AuditLog).filter_by(
            action="standard_set.update").order_by(AuditLog.id)).all()
        assert [e.target_id for e in entries] == ["test-code", "policy"]
        assert entries[0].detail["before"] == {"label": "Test complaint code",
                                               "region": "SCT", "in_force": False}
        assert entries[0].detail["after"] == {"label": "Complaint Handling Code",
                                              "region": "NIR", "in_force": True}
        assert entries[1].detail["after"]["in_force"] is False


def test_the_last_set_in_force_cannot_be_switched_off(pack_app, client):
    login(client, "manager")
    response = _post_set(client, _ids(pack_app)["policy"], label="Our policy", region="",
                         in_force=False)
    text = _text(response)
    assert response.status_code == 200
    assert "At least one set of standards must stay in force" in text
    assert 'href="#in_force"' in _error_summary(text)
    assert 'id="in_force-error"' in text
    assert _set(pack_app, "policy") == ("Our policy", None, True)
    with pack_app.app_context():
        assert not db.session.scalar(db.select(AuditLog).filter_by(
            action="standard_set.update"))


def test_two_sets_cannot_share_a_name(pack_app, client):
    login(client, "manager")
    response = _post_set(client, _ids(pack_app)["test-code"], label="our POLICY", region="",
                         in_force="y")
    assert "Another set is already called “our POLICY”" in _text(response)
    assert _set(pack_app, "test-code") == ("Test complaint code", "SCT", False)


def test_a_set_form_without_its_csrf_token_changes_nothing(pack_app, client):
    login(client, "manager")
    set_id = _ids(pack_app)["test-code"]
    response = client.post(f"/tools/due-date/sets/{set_id}",
                           data={"label": "Forged", "region": "ENG", "in_force": "y"})
    assert response.status_code == 400
    assert _set(pack_app, "test-code") == ("Test complaint code", "SCT", False)


def test_an_unknown_region_is_refused(pack_app, client):
    login(client, "manager")
    response = _post_set(client, _ids(pack_app)["test-code"], label="Code", region="FRA",
                         in_force="y")
    assert "Not a valid choice" in _text(response)
    assert _set(pack_app, "test-code") == ("Test complaint code", "SCT", False)


def test_unknown_set_ids_are_404(app, client):
    login(client, "manager")
    assert client.get("/tools/due-date/sets/9999").status_code == 404
    assert client.get("/tools/due-date/standards/9999").status_code == 404


def test_agents_get_403_on_every_manager_route(pack_app, client):
    login(client, "agent")
    set_id = _ids(pack_app)["test-code"]
    for url in ("/tools/due-date/standards", "/tools/due-date/standards/new",
                "/tools/due-date/standards/1", f"/tools/due-date/sets/{set_id}"):
        assert client.get(url).status_code == 403, url
    # With a valid CSRF token (from the sign-out form on a page an agent may open), the
    # role check still refuses.
    data = {"csrf_token": csrf_token(client.get("/tools/due-date")), "label": "Agent's set",
            "region": "", "in_force": "y"}
    assert client.post(f"/tools/due-date/sets/{set_id}", data=data).status_code == 403
    assert _set(pack_app, "test-code") == ("Test complaint code", "SCT", False)


def _standard_form(client, url: str) -> dict:
    """The form's fields as the page sends them (a new standard by default)."""
    return {"csrf_token": csrf_token(client.get(url)), "key": "test-stage-2",
            "label": "Answer a stage 2 complaint", "channel": "Complaints",
            "rule": "working_days", "amount": "20", "counts_from": "escalated",
            "event": "", "extension_days": "0", "extension_note": "", "promise": "",
            "citation": "", "active": "y"}


def test_the_standard_form_saves_chains_extensions_and_promises(pack_app, client):
    login(client, "manager")
    set_id = _ids(pack_app)["test-code"]
    url = f"/tools/due-date/standards/new?set={set_id}"
    page = _text(client.get(url))
    assert re.search(rf'<option selected value="{set_id}">Test complaint code</option>', page)
    assert "When the request is received" in page
    assert '<optgroup label="The end of another standard">' in page
    assert "Reply to an email (Our policy)" in page  # listed, labelled by set
    assert "We will [reply to your email] by Thursday 3 September." in page

    data = _standard_form(client, url)
    data.update(set_id=str(set_id), counts_from="test-ack", event="investigated",
                extension_days="15", extension_note="When the resident agrees",
                promise="give you our final answer", citation="Test code, 7.3")
    response = client.post(url, data=data)
    assert response.status_code == 302, _text(response)
    with pack_app.app_context():
        saved = db.session.scalar(db.select(ResponseStandard).filter_by(key="test-stage-2"))
        assert saved.standard_set.key == "test-code"
        assert (saved.counts_from, saved.event, saved.extension_days) == (
            "test-ack", "investigated", 15)
        assert saved.extension_note == "When the resident agrees"
        assert (saved.promise, saved.citation) == ("give you our final answer",
                                                   "Test code, 7.3")
        entry = db.session.scalar(db.select(AuditLog).filter_by(action="standard.create"))
        assert entry.detail["after"]["counts_from"] == "test-ack"
        assert entry.detail["after"]["set"] == "test-code"
    page = _text(client.get(response.headers["Location"]))
    assert "Saved “Answer a stage 2 complaint” in “Test complaint code”." in page
    assert "Read out: “We will give you our final answer by …”" in page


def test_a_new_standard_goes_into_our_policy_by_default(pack_app, client):
    login(client, "manager")
    page = _text(client.get("/tools/due-date/standards/new"))
    policy_id = _ids(pack_app)["policy"]
    assert re.search(rf'<option selected value="{policy_id}">Our policy</option>', page)


def test_a_loop_is_refused_with_the_message_in_the_error_summary(pack_app, client):
    login(client, "manager")
    with pack_app.app_context():
        ack = db.session.scalar(db.select(ResponseStandard).filter_by(key="test-ack"))
        url = f"/tools/due-date/standards/{ack.id}"
    data = _standard_form(client, url)
    data.update(set_id=str(_ids(pack_app)["test-code"]), key="test-ack",
                label="Acknowledge a test complaint", amount="5", counts_from="test-reply",
                event="acknowledged")
    response = client.post(url, data=data)
    text = _text(response)
    assert response.status_code == 200
    summary = _error_summary(text)
    assert "count from each other in a loop" in summary
    assert 'href="#counts_from"' in summary
    assert 'id="counts_from-error"' in text  # beside the field too
    with pack_app.app_context():
        ack = db.session.scalar(db.select(ResponseStandard).filter_by(key="test-ack"))
        assert ack.counts_from == "received"
        assert not db.session.scalar(db.select(AuditLog).filter_by(action="standard.update"))


def test_counting_from_a_standard_of_another_set_is_refused(pack_app, client):
    login(client, "manager")
    url = "/tools/due-date/standards/new"
    data = _standard_form(client, url)
    data.update(set_id=str(_ids(pack_app)["policy"]), counts_from="test-ack")
    text = _text(client.post(url, data=data))
    summary = _error_summary(text)
    assert "neither an event nor a standard in the same set" in summary
    assert 'href="#counts_from"' in summary
    with pack_app.app_context():
        assert not db.session.scalar(db.select(ResponseStandard).filter_by(key="test-stage-2"))


def test_a_standard_others_count_from_cannot_move_to_another_set(pack_app, client):
    login(client, "manager")
    with pack_app.app_context():
        ack = db.session.scalar(db.select(ResponseStandard).filter_by(key="test-ack"))
        url = f"/tools/due-date/standards/{ack.id}"
    data = _standard_form(client, url)
    data.update(set_id=str(_ids(pack_app)["policy"]), key="test-ack",
                label="Acknowledge a test complaint", amount="5", counts_from="received",
                event="acknowledged")
    summary = _error_summary(_text(client.post(url, data=data)))
    assert "“Answer a test complaint” counts from the end of this standard" in summary
    assert 'href="#set_id"' in summary
    with pack_app.app_context():
        ack = db.session.scalar(db.select(ResponseStandard).filter_by(key="test-ack"))
        assert ack.standard_set.key == "test-code"


def test_extension_days_out_of_range_are_refused_beside_the_field(pack_app, client):
    login(client, "manager")
    url = "/tools/due-date/standards/new"
    data = _standard_form(client, url)
    data.update(extension_days="261")
    text = _text(client.post(url, data=data))
    assert "From 0 to 260 working days." in _error_summary(text)
    assert 'id="extension_days-error"' in text
    with pack_app.app_context():
        assert not db.session.scalar(db.select(ResponseStandard).filter_by(key="test-stage-2"))


def test_the_standards_page_says_which_shipped_packs_are_loaded(pack_app, client, tmp_path,
                                                                 monkeypatch):
    from kb.tools.duedates import packs

    shipped = tmp_path / "shipped"
    for name, text in (("test-code", PACK), ("other-code", PACK.replace("test-", "other-")),
                       ("broken", "standards: nope\n")):
        (shipped / name).mkdir(parents=True)
        (shipped / name / "pack.yml").write_text(text, encoding="utf-8")
    monkeypatch.setattr(packs, "PACKS_DIR", shipped)
    login(client, "manager")
    page = _text(client.get("/tools/due-date/standards"))
    assert "<code>test-code</code> (loaded as “Test complaint code”)" in page
    assert "<code>other-code</code> (not loaded)" in page
    assert "<code>broken</code> (cannot be read:" in page
