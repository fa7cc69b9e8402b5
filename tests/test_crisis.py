"""Crisis protocol: the page, helplines as audited data, and append-only incident records."""

from __future__ import annotations

import re
import shutil
from datetime import datetime, timedelta
from html import unescape
from pathlib import Path

import pytest
from sqlalchemy import text

from kb.crisis import incidents, services
from kb.crisis.services import InvalidEntry
from kb.extensions import db
from kb.models import AuditLog, CrisisIncident, CrisisIncidentReview, Helpline, User
from tests.conftest import ROOT, build_app, csrf_token, login

# Every number in the source standard's six-point plan, exactly as it gives them.
SEED_NUMBERS = {
    "Emergency services": "999",
    "SLAM Crisis Line": "0800 731 2864",
    "Mind": "0300 1233393",
    "Samaritans": "116 123",
    "Get Connected": "0808 8084994",
    "SANEline": "0845 767 8000",
    "Patient Care 24 (local out-of-hours GP service)": "020 8401 3637",
    "Stay Alive suicide prevention app": "www.prevent-suicide.org.uk",
    "NHS online support": "https://www.nhs.uk/conditions/suicide/",
}
MANAGER_PAGES = ["/crisis/helplines", "/crisis/helplines/new", "/crisis/helplines/1/edit",
                 "/crisis/incidents"]
MANAGER_POSTS = ["/crisis/helplines/new", "/crisis/helplines/1/edit", "/crisis/helplines/1/verify",
                 "/crisis/helplines/1/deactivate", "/crisis/helplines/1/reactivate"]


# --- helpers -------------------------------------------------------------------------


def signed_in(app, username: str):
    """A new client signed in as ``username`` (demo password)."""
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


@pytest.fixture
def manager(app):
    return signed_in(app, "manager")


@pytest.fixture
def agent(app):
    return signed_in(app, "agent")


def helpline_id(app, name: str) -> int:
    with app.app_context():
        services.seed_helplines()
        db.session.commit()
        return db.session.scalar(db.select(Helpline.id).filter_by(name=name))


def helpline_row(app, name: str) -> dict:
    with app.app_context():
        row = db.session.scalar(db.select(Helpline).filter_by(name=name))
        return {c: getattr(row, c) for c in ("id", "name", "number", "hours", "audience",
                                             "notes", "position", "active", "last_verified",
                                             "verified_by")}


def audit_rows(app, action: str) -> list[AuditLog]:
    with app.app_context():
        rows = db.session.scalars(db.select(AuditLog).filter_by(action=action)
                                  .order_by(AuditLog.id)).all()
        db.session.expunge_all()
        return rows


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(model))


def helpline_form(client, url: str, **changes) -> dict:
    """The edit form's current values (with a CSRF token), changed by ``changes``."""
    page = client.get(url)
    html = page.get_data(as_text=True)
    data = {"csrf_token": csrf_token(page)}
    for name in ("name", "number", "hours", "audience", "position"):
        tag = re.search(rf'<input[^>]* name="{name}"[^>]*>', html).group(0)
        data[name] = unescape(re.search(r'value="([^"]*)"', tag).group(1))
    notes = re.search(r'<textarea[^>]*name="notes"[^>]*>\n?(.*?)</textarea>', html, re.S)
    data["notes"] = unescape(notes.group(1))
    data.update(changes)
    return data


def incident_form(client, **changes) -> dict:
    """Valid incident form data with a CSRF token, changed by ``changes``."""
    token = csrf_token(client.get("/crisis/incidents/new"))
    data = {
        "csrf_token": token,
        "occurred_at": "2026-01-15T10:00",
        "what_was_said": "Said they had taken tablets and were alone.",
        "caller_location": "At home",
        "support_partner": "Sam Colleague",
        "emergency_services_called": "yes",
        "notes": "Ambulance sent.",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def record_one(app, username: str = "agent") -> int:
    """Submit one incident through the form as ``username``; returns its id."""
    client = signed_in(app, username)
    response = client.post("/crisis/incidents/new", data=incident_form(client))
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def incident_snapshot(app, incident_id: int) -> dict:
    with app.app_context():
        row = db.session.get(CrisisIncident, incident_id)
        return {c.key: getattr(row, c.key) for c in CrisisIncident.__table__.columns}


# --- the protocol page ---------------------------------------------------------------


def test_crisis_page_has_the_plan_helplines_and_links(agent):
    response = agent.get("/crisis/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    main = html[html.index("<main"):]
    # First thing on the page: no hold, get a support partner.
    assert main.index("Do not put the caller on hold") < main.index("The six-point plan")
    assert main.index("support partner") < main.index("The six-point plan")
    for step in ("Take it seriously", "Summon a colleague as your support partner",
                 "Gather information to gauge the risk", "give referral advice",
                 "get emergency help", "Review"):
        assert step in html
    assert len(re.findall(r'<li class="crisis-step[ "]', html)) == 6
    for phrase in ("Stay calm.", "Listen, and don't judge.", "Agree to keep it secret",
                   "Tell the caller you know how they feel"):
        assert phrase in html
    assert 'href="/scripts/crisis-self-harm/"' in html
    assert 'href="/articles/crisis-self-harm"' in html
    assert 'href="/crisis/incidents/new">Record this call' in html
    assert "js/crisis.js" in html


def test_every_helpline_is_a_tel_link_and_a_selectable_field(agent):
    html = agent.get("/crisis/").get_data(as_text=True)
    for name, number in SEED_NUMBERS.items():
        assert f'value="{number}"' in html and "readonly" in html, name
    for href in ("tel:999", "tel:08007312864", "tel:03001233393", "tel:116123",
                 "tel:08088084994", "tel:08457678000", "tel:02084013637"):
        assert f'href="{href}"' in html
    assert 'href="https://www.prevent-suicide.org.uk"' in html
    assert 'href="https://www.nhs.uk/conditions/suicide/"' in html
    # Copy buttons are an enhancement: hidden until crisis.js shows them.
    assert re.search(r'<button type="button" class="button helpline__copy"[^>]* hidden>', html)


def test_page_has_no_inline_script_or_style(agent):
    html = agent.get("/crisis/").get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert " style=" not in html and "<style" not in html


def test_page_renders_with_the_index_directory_deleted(app, agent):
    shutil.rmtree(app.config["KB_INDEX_DIR"], ignore_errors=True)
    response = agent.get("/crisis/")
    assert response.status_code == 200
    assert "Do not put the caller on hold" in response.get_data(as_text=True)
    assert 'href="tel:116123"' in response.get_data(as_text=True)


def test_page_renders_with_the_index_directory_replaced_by_garbage(app, agent):
    index = Path(app.config["KB_INDEX_DIR"])
    shutil.rmtree(index, ignore_errors=True)
    index.write_bytes(b"\x00not an index\xff" * 100)
    response = agent.get("/crisis/")
    assert response.status_code == 200
    assert 'href="tel:116123"' in response.get_data(as_text=True)


def test_page_never_touches_the_search_engine(app, agent):
    class Exploding:
        def __getattr__(self, name):
            raise AssertionError(f"the crisis page used the search index ({name})")

    app.extensions["kb_search"] = Exploding()
    for url in ("/crisis/", "/crisis/incidents/new"):
        assert agent.get(url).status_code == 200


def test_page_falls_back_to_the_shipped_helplines_without_the_table(app, agent):
    with app.app_context():
        db.session.execute(text("DROP TABLE helplines"))
        db.session.commit()
    response = agent.get("/crisis/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "shipped with the system" in html
    assert 'href="tel:116123"' in html and 'value="0800 731 2864"' in html


def test_signed_out_visitors_get_the_plan_but_must_sign_in_to_record(client):
    response = client.get("/crisis/")
    assert response.status_code == 200
    assert 'href="tel:116123"' in response.get_data(as_text=True)
    response = client.get("/crisis/incidents/new")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- helplines as data ---------------------------------------------------------------


def test_helplines_are_seeded_exactly_from_the_standard(app, agent):
    agent.get("/crisis/")
    with app.app_context():
        rows = db.session.scalars(db.select(Helpline).order_by(Helpline.position)).all()
        assert {h.name: h.number for h in rows} == SEED_NUMBERS
        assert all(h.active and h.last_verified is None and h.verified_by == "" for h in rows)
        assert [h.name for h in rows][:4] == [
            "Emergency services", "Samaritans", "Mind", "Get Connected"]
        patient_care = next(h for h in rows if h.number == "020 8401 3637")
        assert patient_care.hours == (
            "6.30pm to 8.30am on weekdays; 24 hours at weekends and on bank holidays")
        assert next(h for h in rows if h.name == "Get Connected").audience == "Under 25s"
    assert len(audit_rows(app, "helpline.seed")) == 1


def test_seeded_helplines_match_the_article_table():
    article = (ROOT / "articles" / "crisis-self-harm.md").read_text(encoding="utf-8")
    rows = {
        cells[0]: cells[1]
        for line in article.splitlines()
        if line.startswith("| ") and (cells := [c.strip() for c in line.strip("|").split("|")])
    }
    for item in services.load_seed():
        assert rows.get(item.name) == item.number, item.name


def test_shipped_helplines_name_no_source_organisation():
    shipped = services.SEED_FILE.read_text(encoding="utf-8").lower()
    for name in ("croydon", "croydoc", "merton", "sutton", "wates", "hrr"):
        assert name not in shipped


def test_seeding_is_idempotent_and_never_overwrites_edits(app, manager):
    samaritans = helpline_id(app, "Samaritans")
    manager.post(f"/crisis/helplines/{samaritans}/deactivate",
                 data={"csrf_token": csrf_token(manager.get("/crisis/helplines"))})
    with app.app_context():
        assert services.seed_helplines() == 0
    manager.get("/crisis/")
    assert count(app, Helpline) == len(SEED_NUMBERS)
    assert helpline_row(app, "Samaritans")["active"] is False


@pytest.mark.parametrize("number", ["116 123", "0800 731 2864", "+44 (0)20 8401 3637", "999",
                                    "(020) 8401 3637", "https://www.nhs.uk/conditions/suicide/",
                                    "www.prevent-suicide.org.uk"])
def test_phone_numbers_and_web_addresses_are_accepted(number):
    assert services.check_number(f"  {number} ") == number


@pytest.mark.parametrize("number", ["", "call me", "0800-731-2864", "12", "0800 731 2864 ext 5",
                                    "javascript:alert(1)", "http://example.org", "1" * 16,
                                    "0800 (731 2864", "44+ 20", "www.<script>.uk", "9" * 61])
def test_bad_numbers_are_refused_with_a_message(number):
    with pytest.raises(InvalidEntry) as error:
        services.check_number(number)
    assert error.value.field == "number" and error.value.message


def test_links_for_numbers():
    assert services.helpline_href("116 123") == "tel:116123"
    assert services.helpline_href("+44 (0)20 8401 3637") == "tel:+442084013637"
    assert services.helpline_href("www.prevent-suicide.org.uk") == (
        "https://www.prevent-suicide.org.uk")


def test_manager_edits_a_helpline_and_it_is_audited(app, manager):
    hid = helpline_id(app, "Mind")
    url = f"/crisis/helplines/{hid}/edit"
    response = manager.post(url, data=helpline_form(manager, url, hours="9am to 6pm, Mon-Fri"))
    assert response.status_code == 302
    assert helpline_row(app, "Mind")["hours"] == "9am to 6pm, Mon-Fri"
    (row,) = audit_rows(app, "helpline.update")
    assert row.target == f"helpline:{hid}"
    assert row.detail == {"before": {"hours": ""}, "after": {"hours": "9am to 6pm, Mon-Fri"}}
    assert "9am to 6pm, Mon-Fri" in manager.get("/crisis/").get_data(as_text=True)


def test_saving_an_unchanged_form_audits_nothing(app, manager):
    hid = helpline_id(app, "Mind")
    url = f"/crisis/helplines/{hid}/edit"
    manager.post(url, data=helpline_form(manager, url))
    assert audit_rows(app, "helpline.update") == []


def test_changing_a_number_clears_its_verification(app, manager):
    hid = helpline_id(app, "SANEline")
    token = csrf_token(manager.get("/crisis/helplines"))
    manager.post(f"/crisis/helplines/{hid}/verify", data={"csrf_token": token})
    assert helpline_row(app, "SANEline")["last_verified"] is not None
    url = f"/crisis/helplines/{hid}/edit"
    manager.post(url, data=helpline_form(manager, url, number="0300 304 7000"))
    row = helpline_row(app, "SANEline")
    assert row["number"] == "0300 304 7000"
    assert row["last_verified"] is None and row["verified_by"] == ""
    (audit,) = audit_rows(app, "helpline.update")
    assert audit.detail["before"]["number"] == "0845 767 8000"
    assert audit.detail["after"]["number"] == "0300 304 7000"
    assert audit.detail["after"]["last_verified"] is None


def test_manager_verifies_a_helpline(app, manager):
    hid = helpline_id(app, "Samaritans")
    token = csrf_token(manager.get("/crisis/helplines"))
    response = manager.post(f"/crisis/helplines/{hid}/verify", data={"csrf_token": token})
    assert response.status_code == 302
    with app.app_context():
        today = services.local_today()
    row = helpline_row(app, "Samaritans")
    assert row["last_verified"] == today and row["verified_by"] == "Morgan Manager"
    (audit,) = audit_rows(app, "helpline.verify")
    assert audit.detail["before"] == {"last_verified": None, "verified_by": ""}
    assert audit.detail["after"] == {"last_verified": today.isoformat(),
                                     "verified_by": "Morgan Manager"}
    with app.app_context():
        assert db.session.get(User, audit.user_id).username == "manager"


def test_manager_deactivates_and_reactivates_a_helpline(app, manager):
    hid = helpline_id(app, "Get Connected")
    token = csrf_token(manager.get("/crisis/helplines"))
    manager.post(f"/crisis/helplines/{hid}/deactivate", data={"csrf_token": token})
    assert helpline_row(app, "Get Connected")["active"] is False
    assert "0808 8084994" not in manager.get("/crisis/").get_data(as_text=True)
    assert "0808 8084994" in manager.get("/crisis/helplines").get_data(as_text=True)
    (audit,) = audit_rows(app, "helpline.deactivate")
    assert audit.detail == {"before": {"active": True}, "after": {"active": False}}
    manager.post(f"/crisis/helplines/{hid}/reactivate", data={"csrf_token": token})
    assert helpline_row(app, "Get Connected")["active"] is True
    assert len(audit_rows(app, "helpline.reactivate")) == 1
    assert 'value="0808 8084994"' in manager.get("/crisis/").get_data(as_text=True)


def test_manager_adds_a_helpline(app, manager):
    manager.get("/crisis/helplines")
    url = "/crisis/helplines/new"
    data = {"csrf_token": csrf_token(manager.get(url)), "name": "Shout",
            "number": "85258", "hours": "24 hours", "audience": "Text service",
            "notes": "", "position": "35"}
    assert manager.post(url, data=data).status_code == 302
    row = helpline_row(app, "Shout")
    assert row["number"] == "85258" and row["position"] == 35 and row["last_verified"] is None
    (audit,) = audit_rows(app, "helpline.create")
    assert audit.detail["before"] is None and audit.detail["after"]["number"] == "85258"
    html = manager.get("/crisis/").get_data(as_text=True)
    html = html[html.index('id="helplines"'):]
    assert html.index("Samaritans") < html.index("Shout") < html.index("Get Connected")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"number": "call 0800 now"}, "Use digits, spaces, + and brackets only"),
        ({"name": "   "}, "Enter the helpline&#39;s name."),
        ({"name": "x" * 10_000}, "This is 10,000 characters long; the limit is 120."),
        ({"position": "first"}, "Not a valid integer value."),
        ({"notes": "n" * 10_000}, "the limit is 2,000"),
    ],
)
def test_helpline_validation_messages_and_nothing_saved(app, manager, changes, message):
    hid = helpline_id(app, "Samaritans")
    before = helpline_row(app, "Samaritans")
    url = f"/crisis/helplines/{hid}/edit"
    response = manager.post(url, data=helpline_form(manager, url, **changes))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert message in html and "Nothing was saved" in html
    assert helpline_row(app, "Samaritans") == before
    assert audit_rows(app, "helpline.update") == []


def test_agents_get_403_on_manager_pages_and_change_nothing(app, agent):
    helpline_id(app, "Emergency services")
    before = helpline_row(app, "Emergency services")
    token = csrf_token(agent.get("/crisis/incidents/new"))
    for url in MANAGER_PAGES:
        assert agent.get(url).status_code == 403, url
    for url in MANAGER_POSTS:
        data = {"csrf_token": token, "name": "Hacked", "number": "0000 000 000"}
        assert agent.post(url, data=data).status_code == 403, url
    assert helpline_row(app, "Emergency services") == before
    assert count(app, Helpline) == len(SEED_NUMBERS)


def test_admin_counts_as_a_manager(app):
    assert signed_in(app, "admin").get("/crisis/helplines").status_code == 200


def test_posts_without_csrf_are_rejected_and_change_nothing(app, manager):
    hid = helpline_id(app, "Samaritans")
    before = helpline_row(app, "Samaritans")
    incident_id = record_one(app)
    for url, data in [
        (f"/crisis/helplines/{hid}/edit", {"name": "Changed", "number": "116 124"}),
        (f"/crisis/helplines/{hid}/verify", {}),
        (f"/crisis/helplines/{hid}/deactivate", {}),
        ("/crisis/helplines/new", {"name": "New", "number": "123"}),
        ("/crisis/incidents/new", {"occurred_at": "2026-01-01T10:00", "what_was_said": "x",
                                   "emergency_services_called": "no"}),
        (f"/crisis/incidents/{incident_id}/reviews", {"note": "Forged"}),
    ]:
        response = manager.post(url, data=data)
        assert response.status_code == 400, url
        assert "nothing was changed" in response.get_data(as_text=True)
    assert helpline_row(app, "Samaritans") == before
    assert count(app, Helpline) == len(SEED_NUMBERS)
    assert count(app, CrisisIncident) == 1 and count(app, CrisisIncidentReview) == 0


@pytest.mark.parametrize(("days", "warned"), [(181, True), (180, False), (10, False)])
def test_stale_verification_warning_after_180_days(app, manager, days, warned):
    with app.app_context():
        services.seed_helplines()
        db.session.commit()
        row = db.session.scalar(db.select(Helpline).filter_by(name="Samaritans"))
        row.last_verified = services.local_today() - timedelta(days=days)
        row.verified_by = "Old Manager"
        db.session.commit()
        hid = row.id
    html = manager.get("/crisis/helplines").get_data(as_text=True)
    samaritans = html[html.index(f'id="helpline-{hid}"'):]
    samaritans = samaritans[:samaritans.index("</tr>")]
    assert ("Needs verifying: 181 days ago" in samaritans) is warned
    assert ('class="is-stale"' in samaritans) is warned
    assert "Verify" in samaritans  # the action is always there
    assert "Old Manager" in samaritans


def test_never_verified_helplines_are_flagged_for_managers_only(app, manager, agent):
    html = manager.get("/crisis/helplines").get_data(as_text=True)
    assert "Needs verifying: never verified" in html
    assert f"{len(SEED_NUMBERS)} helplines need verifying" in html
    assert "helplines need verifying" in manager.get("/crisis/").get_data(as_text=True)
    agent_page = agent.get("/crisis/").get_data(as_text=True)
    assert "need verifying" not in agent_page and "Manage helplines" not in agent_page


def test_max_age_setting_is_honoured(tmp_path):
    app = build_app(tmp_path, KB_HELPLINE_MAX_AGE_DAYS=30)
    with app.app_context():
        services.seed_helplines()
        db.session.commit()
        today = services.local_today()
        rows = db.session.scalars(db.select(Helpline)).all()
        for row in rows:
            row.last_verified = today - timedelta(days=31)
        db.session.commit()
        assert services.max_age_days() == 30
        assert services.stale_helpline_ids(rows, today, 30) == {h.id for h in rows}
        assert services.stale_helpline_ids(rows, today, 180) == set()
        db.engine.dispose()


def test_services_check_the_role_again(app):
    with app.app_context():
        services.seed_helplines()
        db.session.commit()
        agent_user = db.session.scalar(db.select(User).filter_by(username="agent"))
        with pytest.raises(services.NotAllowed):
            services.verify_helpline(1, agent_user)
        with pytest.raises(services.NotAllowed):
            services.create_helpline(services.HelplineData("X", "123"), agent_user)
        with pytest.raises(services.NotAllowed):
            incidents.list_incidents(agent_user)


def test_helpline_edit_page_shows_its_history(app, manager):
    hid = helpline_id(app, "Mind")
    url = f"/crisis/helplines/{hid}/edit"
    manager.post(url, data=helpline_form(manager, url, audience="Anyone"))
    html = manager.get(url).get_data(as_text=True)
    assert "update</strong> by Morgan Manager" in html and "Anyone" in html


def test_unknown_helpline_is_404(manager):
    assert manager.get("/crisis/helplines/9999/edit").status_code == 404


# --- incident records ----------------------------------------------------------------


def test_incident_form_defaults_to_now_in_london(app, agent):
    html = agent.get("/crisis/incidents/new").get_data(as_text=True)
    value = re.search(r'type="datetime-local" value="([^"]+)"', html).group(1)
    with app.app_context():
        now = services.local_now()
    shown = datetime.strptime(value, "%Y-%m-%dT%H:%M")
    assert abs(shown - now) < timedelta(minutes=2)
    for name in SEED_NUMBERS:
        assert name in html  # helplines given: a checkbox per active helpline


def test_incident_is_stored_and_appears_in_the_manager_list(app):
    agent = signed_in(app, "agent")
    samaritans = helpline_id(app, "Samaritans")
    slam = helpline_id(app, "SLAM Crisis Line")
    data = incident_form(agent, occurred_at="2026-07-01T10:00")
    data["helplines_given"] = [str(samaritans), str(slam)]
    response = agent.post("/crisis/incidents/new", data=data)
    assert response.status_code == 302
    confirmation = agent.get(response.headers["Location"])
    assert confirmation.status_code == 200
    assert "Your record has been saved" in confirmation.get_data(as_text=True)
    with app.app_context():
        (row,) = db.session.scalars(db.select(CrisisIncident)).all()
        assert row.recorded_by.username == "agent"
        assert row.occurred_at == datetime(2026, 7, 1, 9, 0)  # 10:00 BST is 09:00 UTC
        assert row.what_was_said == "Said they had taken tablets and were alone."
        assert row.caller_location == "At home" and row.support_partner == "Sam Colleague"
        assert row.emergency_services_called is True
        # In the crisis page's order: national helplines, then local ones.
        assert row.helplines_given == ["Samaritans: 116 123", "SLAM Crisis Line: 0800 731 2864"]
        incident_id = row.id
    (audit,) = audit_rows(app, "crisis_incident.create")
    assert audit.target == f"crisis_incident:{incident_id}"
    assert "tablets" not in str(audit.detail)  # the audit log does not copy the record
    manager = signed_in(app, "manager")
    listing = manager.get("/crisis/incidents").get_data(as_text=True)
    assert f'href="/crisis/incidents/{incident_id}"' in listing
    assert "Alex Agent" in listing and "Wednesday 1 July 2026, 10:00" in listing
    assert "Not reviewed" in listing


def test_winter_times_are_stored_as_gmt(app):
    incident_id = record_one(app)  # 2026-01-15 10:00 London = 10:00 UTC
    assert incident_snapshot(app, incident_id)["occurred_at"] == datetime(2026, 1, 15, 10, 0)


def test_no_edit_is_possible(app):
    incident_id = record_one(app)
    before = incident_snapshot(app, incident_id)
    manager = signed_in(app, "manager")
    token = csrf_token(manager.get(f"/crisis/incidents/{incident_id}"))
    changed = {"csrf_token": token, "what_was_said": "Changed", "notes": "Changed"}
    for url in (f"/crisis/incidents/{incident_id}/edit", f"/crisis/incidents/{incident_id}/update",
                f"/crisis/incidents/{incident_id}/delete"):
        assert manager.get(url).status_code == 404
        assert manager.post(url, data=changed).status_code == 404
    for method in ("post", "put", "patch", "delete"):
        response = getattr(manager, method)(f"/crisis/incidents/{incident_id}", data=changed)
        assert response.status_code == 405, method
    assert incident_snapshot(app, incident_id) == before


def test_the_database_layer_refuses_to_change_or_delete_a_record(app):
    incident_id = record_one(app)
    before = incident_snapshot(app, incident_id)
    with app.app_context():
        row = db.session.get(CrisisIncident, incident_id)
        row.what_was_said = "Rewritten"
        with pytest.raises(incidents.IncidentLocked):
            db.session.commit()
        db.session.rollback()
        with pytest.raises(incidents.IncidentLocked):
            db.session.delete(db.session.get(CrisisIncident, incident_id))
            db.session.flush()
        db.session.rollback()
    assert incident_snapshot(app, incident_id) == before


def test_review_notes_append_in_order(app):
    incident_id = record_one(app)
    manager = signed_in(app, "manager")
    url = f"/crisis/incidents/{incident_id}"
    for note in ("Discussed with the agent.", "Checked the ambulance was sent."):
        token = csrf_token(manager.get(url))
        response = manager.post(f"{url}/reviews", data={"csrf_token": token, "note": note})
        assert response.status_code == 302
    html = manager.get(url).get_data(as_text=True)
    first, second = html.index("Discussed with the agent."), html.index("Checked the ambulance")
    assert first < second
    assert html.count("<strong>Morgan Manager</strong>") == 2
    with app.app_context():
        reviews = incidents.incident_reviews(db.session.get(CrisisIncident, incident_id))
        assert [r.note for r in reviews] == ["Discussed with the agent.",
                                             "Checked the ambulance was sent."]
        review = reviews[0]
        review.note = "Rewritten"
        with pytest.raises(incidents.IncidentLocked):
            db.session.commit()
        db.session.rollback()
    assert len(audit_rows(app, "crisis_incident.review")) == 2
    assert "1 note" not in manager.get("/crisis/incidents").get_data(as_text=True)
    assert "2 notes" in manager.get("/crisis/incidents").get_data(as_text=True)


def test_empty_review_note_is_refused(app):
    incident_id = record_one(app)
    manager = signed_in(app, "manager")
    token = csrf_token(manager.get(f"/crisis/incidents/{incident_id}"))
    response = manager.post(f"/crisis/incidents/{incident_id}/reviews",
                            data={"csrf_token": token, "note": "   "})
    assert response.status_code == 200
    assert "Write the review note." in response.get_data(as_text=True)
    assert count(app, CrisisIncidentReview) == 0


def test_agents_see_their_own_record_but_not_others_or_the_list(app, make_user):
    mine = record_one(app, "agent")
    make_user("other", "agent")
    other_client = app.test_client()
    login(other_client, "other", "pw-other")
    agent = signed_in(app, "agent")
    own = agent.get(f"/crisis/incidents/{mine}")
    assert own.status_code == 200
    assert "Review notes" not in own.get_data(as_text=True)
    assert other_client.get(f"/crisis/incidents/{mine}").status_code == 403
    assert agent.get("/crisis/incidents").status_code == 403
    assert agent.get("/crisis/incidents/9999").status_code == 404
    token = csrf_token(agent.get("/crisis/incidents/new"))
    response = agent.post(f"/crisis/incidents/{mine}/reviews",
                          data={"csrf_token": token, "note": "Self review"})
    assert response.status_code == 403
    assert count(app, CrisisIncidentReview) == 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"what_was_said": ""}, "Write down what the caller said."),
        ({"emergency_services_called": None}, "Say whether the emergency services were called."),
        ({"occurred_at": "yesterday"}, "Enter the date and time of the call"),
        ({"occurred_at": ""}, "Enter the date and time of the call."),
        ({"occurred_at": "2099-01-01T10:00"}, "That time is in the future."),
        ({"helplines_given": "9999"}, "One of the helplines chosen is no longer listed."),
        ({"what_was_said": "w" * 10_000}, "This is 10,000 characters long; the limit is 5,000."),
        ({"caller_location": "l" * 10_000}, "the limit is 500."),
        ({"support_partner": "p" * 10_000}, "the limit is 120."),
        ({"notes": "n" * 10_000}, "the limit is 5,000."),
    ],
)
def test_incident_validation_gives_messages_and_stores_nothing(app, agent, changes, message):
    response = agent.post("/crisis/incidents/new", data=incident_form(agent, **changes))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert message in html and "Nothing was saved" in html
    assert 'aria-invalid="true"' in html or "field-error" in html
    assert count(app, CrisisIncident) == 0
    assert audit_rows(app, "crisis_incident.create") == []


def test_a_deactivated_helpline_cannot_be_recorded_as_given(app, agent):
    hid = helpline_id(app, "Mind")
    with app.app_context():
        db.session.get(Helpline, hid).active = False
        db.session.commit()
        with pytest.raises(InvalidEntry):
            incidents.record_incident(
                incidents.IncidentData(datetime(2026, 1, 1, 9), "Said it", helpline_ids=(hid,)),
                db.session.scalar(db.select(User).filter_by(username="agent")),
            )
    assert count(app, CrisisIncident) == 0


def test_html_in_a_record_is_escaped_everywhere(app):
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    agent = signed_in(app, "agent")
    data = incident_form(agent, what_was_said=hostile, caller_location=hostile,
                         support_partner="<b>Bold</b>", notes=hostile)
    response = agent.post("/crisis/incidents/new", data=data)
    incident_id = int(response.headers["Location"].rsplit("/", 1)[-1])
    manager = signed_in(app, "manager")
    token = csrf_token(manager.get(f"/crisis/incidents/{incident_id}"))
    manager.post(f"/crisis/incidents/{incident_id}/reviews",
                 data={"csrf_token": token, "note": hostile})
    for client, url in ((agent, f"/crisis/incidents/{incident_id}"),
                        (manager, f"/crisis/incidents/{incident_id}"),
                        (manager, "/crisis/incidents")):
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in html and "<img src=x" not in html and "<b>Bold" not in html
    html = manager.get(f"/crisis/incidents/{incident_id}").get_data(as_text=True)
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert html.count("&lt;img src=x onerror=alert(1)&gt;") == 4


def test_html_in_a_helpline_is_escaped(app, manager):
    hid = helpline_id(app, "Mind")
    url = f"/crisis/helplines/{hid}/edit"
    manager.post(url, data=helpline_form(manager, url, notes="<script>alert(1)</script>",
                                         audience='"><img src=x>'))
    for page in ("/crisis/", "/crisis/helplines", url):
        html = manager.get(page).get_data(as_text=True)
        assert "<script>alert(1)" not in html and "<img src=x>" not in html
