"""Induction pages: my checklist and the home page's, programmes, assigning, ticking tasks,
the managers' overview, the printable record, refusals, and the call script player's
walk-through form."""

from __future__ import annotations

import html
from datetime import timedelta
from pathlib import Path

import pytest

from kb.auth.services import create_user
from kb.core.clock import local_today
from kb.extensions import db
from kb.induction.models import (
    Enrolment,
    Programme,
    ProgrammeItem,
    ScriptWalkthrough,
    TaskConfirmation,
)
from kb.models import AuditLog, CallScript
from tests.conftest import csrf_token, login
from tests.induction_helpers import enrol, import_script, programme_with, sign_current, user
from tests.signoff_helpers import standard


@pytest.fixture
def site(app):
    """A standard, the lost-fob script, and a programme of one of each kind with the demo
    new starter enrolled from ten days ago; returns the ids."""
    with app.app_context():
        script = import_script(Path(app.config["KB_SCRIPTS_DIR"]))
        article = standard("greeting", "Answer within 20 seconds.")
        prog = programme_with(("article", article, 5), ("script", script, 7),
                              ("task", "Shadow three calls with a buddy", 3),
                              ("task", "CRM system training", 30))
        enrolment = enrol(prog, user("newstarter"), local_today() - timedelta(days=10))
        db.session.commit()
        return {"programme": prog.id, "enrolment": enrolment.id,
                "items": [i.id for i in prog.items]}


def _client(app, username: str, password: str = "demo"):
    client = app.test_client()
    assert login(client, username, password).status_code == 302
    return client


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _post(client, url: str, data: dict | None = None, page: str | None = None):
    token = csrf_token(client.get(page or "/induction/"))
    return client.post(url, data={"csrf_token": token, **(data or {})})


# --- The new starter -------------------------------------------------------------------


def test_the_home_page_shows_an_enrolled_new_starter_their_checklist(app, site):
    page = _text(_client(app, "newstarter").get("/"))
    assert "Your induction: Test induction" in page
    assert "0 of 4 done" in page and "3 overdue" in page
    assert '<progress id="induction-bar-' in page
    assert "/signoffs/articles/greeting/sign" in page and "/scripts/lost-fob/" in page
    assert "Shadow three calls with a buddy" in page and "Overdue" in page


def test_the_home_page_shows_no_checklist_to_others(app, site):
    for who in ("agent", "manager", "admin"):
        assert "Your induction" not in _text(_client(app, who).get("/"))


def test_a_finished_programme_leaves_the_home_page(app, site):
    with app.app_context():
        prog = db.session.get(Programme, site["programme"])
        enrolment = db.session.get(Enrolment, site["enrolment"])
        for item in prog.items:
            if item.kind == "task":
                db.session.add(TaskConfirmation(enrolment_id=enrolment.id, item_id=item.id,
                                                confirmed_by_id=user("manager").id,
                                                confirmed_at=enrolment.assigned_at))
        db.session.add(ScriptWalkthrough(user_id=enrolment.user_id, script_id=prog.items[1]
                                         .script_id, version_number=1, end_step="lost",
                                         path="ask", walked_at=enrolment.assigned_at))
        sign_current("greeting", user("newstarter"))
        db.session.commit()
    client = _client(app, "newstarter")
    assert "Your induction" not in _text(client.get("/"))
    mine = _text(client.get("/induction/"))
    assert "4 of 4 done" in mine and "Complete" in mine


def test_my_induction_page(app, site):
    page = _text(_client(app, "newstarter").get("/induction/"))
    assert "My induction" in page and "0 of 4 done" in page
    assert "Your manager ticks this when you have done it." in page
    assert f"/induction/enrolments/{site['enrolment']}/record" in page
    assert "You are not on an induction programme" in _text(
        _client(app, "agent").get("/induction/"))


def test_signing_ticks_the_item_on_the_checklist(app, site):
    with app.app_context():
        sign_current("greeting", user("newstarter"))
        db.session.commit()
    page = _text(_client(app, "newstarter").get("/induction/"))
    assert "1 of 4 done" in page and "2 overdue" in page


# --- The call script player's walk-through ---------------------------------------------


def test_the_end_step_offers_the_walk_through_and_records_it(app, site):
    client = _client(app, "newstarter")
    start = _text(client.get("/scripts/lost-fob/"))
    assert "I have walked this script through to the end" not in start
    end = client.get("/scripts/lost-fob/lost?path=ask")
    assert "I have walked this script through to the end" in _text(end)
    response = client.post("/scripts/lost-fob/lost/walked",
                           data={"csrf_token": csrf_token(end), "path": "ask"})
    assert response.status_code == 302
    assert "/scripts/lost-fob/lost?path=ask" in response.headers["Location"]
    assert "Recorded: you walked “Lost key fob” through to the end." in _text(
        client.get(response.headers["Location"]))
    with app.app_context():
        walk = db.session.scalar(db.select(ScriptWalkthrough))
        assert (walk.user_id, walk.end_step, walk.path) == (user("newstarter").id, "lost",
                                                            "ask")
        assert db.session.scalar(db.select(AuditLog).filter_by(
            action="script.walked_through")) is not None
    assert "1 of 4 done" in _text(client.get("/induction/"))


def test_a_walk_through_with_a_bad_path_or_no_token_records_nothing(app, site):
    client = _client(app, "newstarter")
    token = csrf_token(client.get("/scripts/lost-fob/lost?path=ask"))
    refused = client.post("/scripts/lost-fob/lost/walked",
                          data={"csrf_token": token, "path": "stolen"})
    assert refused.status_code == 302
    assert "not one the script allows" in _text(client.get(refused.headers["Location"]))
    assert client.post("/scripts/lost-fob/ask/walked",
                       data={"csrf_token": token, "path": ""}).status_code == 302
    assert client.post("/scripts/lost-fob/lost/walked", data={"path": "ask"}).status_code == 400
    assert client.post("/scripts/lost-fob/nowhere/walked",
                       data={"csrf_token": token, "path": "ask"}).status_code == 404
    assert client.post("/scripts/no-such/lost/walked",
                       data={"csrf_token": token, "path": "ask"}).status_code == 404
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(ScriptWalkthrough.id))) == 0


# --- Programmes ------------------------------------------------------------------------


def test_a_manager_creates_a_programme_and_adds_moves_and_removes_items(app, site):
    client = _client(app, "manager")
    empty = _post(client, "/induction/programmes/new", {"name": " "},
                  page="/induction/programmes/new")
    assert empty.status_code == 400 and "Give the programme a name." in _text(empty)
    clash = _post(client, "/induction/programmes/new", {"name": "test INDUCTION"},
                  page="/induction/programmes/new")
    assert clash.status_code == 400 and "already a programme called" in _text(clash)
    made = _post(client, "/induction/programmes/new",
                 {"name": "Repairs desk", "description": "For the repairs desk."},
                 page="/induction/programmes/new")
    assert made.status_code == 302
    with app.app_context():
        prog_id = db.session.scalar(db.select(Programme.id).filter_by(name="Repairs desk"))
    edit = f"/induction/programmes/{prog_id}"
    url = f"{edit}/items"
    assert _post(client, url, {"kind": "task", "title": "CRM system training",
                               "due_days": "5"}, page=edit).status_code == 302
    assert _post(client, url, {"kind": "article", "article": "greeting", "due_days": "10"},
                 page=edit).status_code == 302
    assert _post(client, url, {"kind": "script", "script": "lost-fob", "due_days": "0"},
                 page=edit).status_code == 302
    bad = _post(client, url, {"kind": "task", "title": "Shadow", "due_days": "400"}, page=edit)
    assert bad.status_code == 400 and "from 0 to 365" in _text(bad)
    unknown = _post(client, url, {"kind": "article", "article": "nope", "due_days": "1"},
                    page=edit)
    assert unknown.status_code == 400 and "Choose one of the standards listed" in _text(unknown)
    odd = _post(client, url, {"kind": "quiz", "title": "x", "due_days": "1"}, page=edit)
    assert odd.status_code == 400 and "Choose a sign-off, a call script or a task" in _text(odd)
    with app.app_context():
        items = list(db.session.scalars(db.select(ProgrammeItem).filter_by(
            programme_id=prog_id).order_by(ProgrammeItem.position)))
        assert [(i.kind, i.position, i.due_days) for i in items] == [
            ("task", 1, 5), ("article", 2, 10), ("script", 3, 0)]
        ids = [i.id for i in items]
    assert _post(client, f"{url}/{ids[2]}/move", {"direction": "up"},
                 page=edit).status_code == 302
    assert _post(client, f"{url}/{ids[0]}/remove", page=edit).status_code == 302
    assert _post(client, f"{url}/99999/remove", page=edit).status_code == 404
    with app.app_context():
        rows = db.session.execute(db.select(ProgrammeItem.kind, ProgrammeItem.position)
                                  .filter_by(programme_id=prog_id)
                                  .order_by(ProgrammeItem.position)).all()
        assert [tuple(r) for r in rows] == [("script", 1), ("article", 2)]
    page = _text(client.get(edit))
    assert "Lost key fob" in page and "day 0" in page
    renamed = _post(client, edit, {"name": "Repairs hub", "description": ""}, page=edit)
    assert renamed.status_code == 302
    assert "Repairs hub" in _text(client.get("/induction/programmes"))


def test_archiving_and_restoring_a_programme(app, site):
    client = _client(app, "manager")
    prog = site["programme"]
    page = "/induction/programmes"
    assert _post(client, f"/induction/programmes/{prog}/archive", page=page).status_code == 302
    listing = _text(client.get(page))
    assert "Archived" in listing and "Restore" in listing
    with app.app_context():
        assert db.session.get(Programme, prog).archived_at is not None
    assert "There is no programme to enrol people on" in _text(client.get("/induction/assign"))
    assert _post(client, f"/induction/programmes/{prog}/restore", page=page).status_code == 302
    with app.app_context():
        assert db.session.get(Programme, prog).archived_at is None
    assert client.get("/induction/programmes/424242").status_code == 404


# --- Assigning -------------------------------------------------------------------------


def test_a_manager_enrols_a_team_member_once(app, site):
    client = _client(app, "manager")
    form = client.get("/induction/assign")
    assert 'type="date"' in _text(form)
    with app.app_context():
        agent_id = user("agent").id
    data = {"programme": site["programme"], "user": agent_id, "start_date": "2026-09-07"}
    made = _post(client, "/induction/assign", data, page="/induction/assign")
    assert made.status_code == 302
    shown = _text(client.get(made.headers["Location"]))
    assert "Enrolled Alex Agent on “Test induction” from 07/09/2026." in shown
    again = _post(client, "/induction/assign", {**data, "start_date": "08/09/2026"},
                  page="/induction/assign")
    assert again.status_code == 400 and "Alex Agent is already enrolled" in _text(again)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Enrolment.id)).filter_by(
            user_id=agent_id)) == 1
        assert db.session.scalar(db.select(AuditLog).filter_by(
            action="induction.assigned")).detail["start_date"] == "2026-09-07"


def test_assigning_refuses_people_outside_the_team_and_bad_input(app, site):
    with app.app_context():
        outsider = create_user("outsider", "pw-outsider-1", role="agent", team="Repairs").id
        db.session.commit()
    client = _client(app, "manager")
    assert "Outsider" not in _text(client.get("/induction/assign"))
    cases = [
        ({"programme": site["programme"], "user": outsider, "start_date": "2026-09-07"},
         "members of your own team"),
        ({"programme": site["programme"], "user": "abc", "start_date": "2026-09-07"},
         "Choose one of the people listed"),
        ({"programme": 999, "user": outsider, "start_date": "2026-09-07"},
         "Choose one of the programmes listed"),
        ({"programme": site["programme"], "user": outsider, "start_date": "32/13/2026"},
         "not a date"),
    ]
    for data, message in cases:
        response = _post(client, "/induction/assign", data, page="/induction/assign")
        assert response.status_code == 400 and message in _text(response), message
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Enrolment.id))) == 1
    admin = _client(app, "admin")
    response = _post(admin, "/induction/assign", {"programme": site["programme"],
                     "user": outsider, "start_date": "07/09/2026"}, page="/induction/assign")
    assert response.status_code == 302


# --- A person's enrolment: seeing it and ticking tasks ---------------------------------


def test_a_manager_ticks_a_task_once_with_a_note(app, site):
    client = _client(app, "manager")
    page_url = f"/induction/enrolments/{site['enrolment']}"
    page = _text(client.get(page_url))
    assert "Confirm done" in page and "Nina Newstarter: Test induction" in page
    task = site["items"][2]
    url = f"{page_url}/items/{task}/confirm"
    done = _post(client, url, {"note": "Sat with Priya"}, page=page_url)
    assert done.status_code == 302
    page = _text(client.get(done.headers["Location"]))
    assert "Confirmed." in page and "confirmed by Morgan Manager" in page
    assert "“Sat with Priya”" in page and "1 of 4 done" in page
    again = _post(client, url, page=page_url)
    assert "already confirmed" in _text(client.get(again.headers["Location"]))
    long_note = _post(client, f"{page_url}/items/{site['items'][3]}/confirm",
                      {"note": "x" * 501}, page=page_url)
    assert long_note.status_code == 400
    not_a_task = _post(client, f"{page_url}/items/{site['items'][0]}/confirm", page=page_url)
    assert not_a_task.status_code == 400 and "tick themselves" in _text(not_a_task)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(TaskConfirmation.id))) == 1
        assert db.session.scalar(db.select(AuditLog).filter_by(
            action="induction.task_confirmed")).detail["note"] == "Sat with Priya"


def test_who_sees_an_enrolment_and_who_ticks(app, site):
    with app.app_context():
        create_user("outside-boss", "pw-outside-boss", role="manager", team="Repairs")
        db.session.commit()
    page_url = f"/induction/enrolments/{site['enrolment']}"
    starter = _client(app, "newstarter")
    own = _text(starter.get(page_url))
    assert "Shadow three calls" in own and "Confirm done" not in own
    assert _client(app, "agent").get(page_url).status_code == 403
    assert _client(app, "agent").get(page_url + "/record").status_code == 403
    outside = _client(app, "outside-boss", "pw-outside-boss")
    assert outside.get(page_url).status_code == 403
    task = site["items"][2]
    refused = _post(outside, f"{page_url}/items/{task}/confirm", page="/induction/")
    assert refused.status_code == 403
    assert _client(app, "admin").get(page_url).status_code == 200
    assert _client(app, "manager").get("/induction/enrolments/99999").status_code == 404
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(TaskConfirmation.id))) == 0


def test_the_people_overview_and_its_overdue_list(app, site):
    page = _text(_client(app, "manager").get("/induction/people"))
    assert "Nina Newstarter" in page and "0 of 4 done" in page
    assert "Overdue induction items (3)" in page
    assert "Task: Shadow three calls with a buddy" in page
    assert "Overdue induction items" not in _text(_client(app, "agent").get("/"))


def test_the_overdue_partial_renders_for_managers_only(app, site):
    from flask import render_template_string
    from flask_login import login_user

    with app.test_request_context("/"):
        login_user(user("manager"))
        shown = render_template_string('{% include "induction/_overdue.html" %}')
        assert "Overdue induction items (3)" in shown and "Nina Newstarter" in shown
    with app.test_request_context("/"):
        login_user(user("agent"))
        shown = render_template_string('{% include "induction/_overdue.html" %}')
        assert "Overdue induction items (0)" in shown


# --- The printable record --------------------------------------------------------------


def test_the_record_shows_each_item_and_in_progress(app, site):
    with app.app_context():
        sign_current("greeting", user("newstarter"))
        db.session.commit()
    record = _text(_client(app, "newstarter").get(
        f"/induction/enrolments/{site['enrolment']}/record"))
    assert "Induction record" in record and "Nina Newstarter" in record
    assert "In progress" in record and "1 of 4 done" in record
    assert "Signed version 1" in record and "Not countersigned yet" in record
    assert "css/induction.css" in record


def test_a_completed_record_names_who_confirmed_and_countersigned(app, site):
    from kb.signoffs.models import Countersignature

    manager = _client(app, "manager")
    page_url = f"/induction/enrolments/{site['enrolment']}"
    for task in site["items"][2:]:
        _post(manager, f"{page_url}/items/{task}/confirm", page=page_url)
    with app.app_context():
        signed = sign_current("greeting", user("newstarter"))
        db.session.add(Countersignature(
            seq=1, signoff_id=signed.id, countersigner_id=user("admin").id,
            typed_name="Ash Admin", countersigned_at=signed.signed_at, prev_hash="0" * 64,
            record_hash="b" * 64))
        script = db.session.scalar(db.select(CallScript))
        db.session.add(ScriptWalkthrough(user_id=user("newstarter").id, script_id=script.id,
                                         version_number=1, end_step="stolen", path="ask",
                                         walked_at=signed.signed_at))
        db.session.commit()
    record = _text(manager.get(f"{page_url}/record"))
    assert "In progress" not in record and "Completed" in record
    table = record.split("<table", 1)[1]
    assert "Ash Admin" in table and table.count("Morgan Manager") == 2
    assert "Walked through version 1" in record


# --- In Chromium: the record on A4, and axe on the pages ------------------------------


@pytest.fixture
def long_programme(app):
    """A completed programme of thirty tasks with long titles and notes, the size of the
    default one and more."""
    with app.app_context():
        titles = [f"Task {n}: shadow three calls with a buddy, then talk them through with "
                  "your team leader" for n in range(30)]
        prog = programme_with(*[("task", t, n % 20) for n, t in enumerate(titles)],
                              name="Long induction")
        enrolment = enrol(prog, user("newstarter"), local_today() - timedelta(days=40))
        for item in prog.items:
            db.session.add(TaskConfirmation(
                enrolment_id=enrolment.id, item_id=item.id, confirmed_by_id=user("manager").id,
                confirmed_at=enrolment.assigned_at, note="Sat with Priya"))
        db.session.commit()
        return enrolment.id


def test_the_record_prints_on_one_a4_page_and_the_pages_pass_axe(app, long_programme, browser,
                                                                 site):
    from tests.browser import VIEWPORT, LiveServer, serious_violations, sign_in

    context = browser.new_context(viewport=VIEWPORT, bypass_csp=True)
    page = context.new_page()
    try:
        with LiveServer(app) as server:
            sign_in(page, server.url, "newstarter")
            page.goto(f"{server.url}/induction/enrolments/{long_programme}/record")
            assert "30 of 30" not in page.content() and "Completed" in page.content()
            pdf = page.pdf(format="A4")
            assert pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") == 1
            problems = {}
            for url in ("/", "/induction/", f"/induction/enrolments/{site['enrolment']}",
                        f"/induction/enrolments/{long_programme}/record"):
                page.goto(server.url + url)
                problems[url] = serious_violations(page)
            page.goto(f"{server.url}/scripts/lost-fob/lost?path=ask")
            problems["player end"] = serious_violations(page)
            page.context.clear_cookies()
            sign_in(page, server.url, "manager")
            for url in ("/induction/programmes", f"/induction/programmes/{site['programme']}",
                        "/induction/assign", "/induction/people",
                        f"/induction/enrolments/{site['enrolment']}",
                        "/induction/programmes/new"):
                page.goto(server.url + url)
                problems[url] = serious_violations(page)
            page.set_viewport_size({"width": 800, "height": 720})
            page.goto(f"{server.url}/induction/programmes/{site['programme']}")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 800, f"the programme page is {width} px wide at 800"
    finally:
        context.close()
    assert not any(problems.values()), problems
