"""The crisis page for someone signed out, the sign-in page's way to it, and what the
helplines tell an agent: national before local, what a call costs, when it was checked."""

from __future__ import annotations

import re
from datetime import date, datetime
from urllib.parse import unquote

import pytest

from kb.crisis import incidents, services
from kb.crisis.charges import call_cost
from kb.extensions import db
from kb.models import Helpline, User
from tests.conftest import build_app, csrf_token, login


def signed_in(app, username: str):
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def helpline_id(app, name: str) -> int:
    with app.app_context():
        return db.session.scalar(db.select(Helpline.id).filter_by(name=name))


def card(html: str, hid: int) -> str:
    """One helpline's card on the crisis page, as text (tags removed, spaces squeezed)."""
    start = html.index('<li class="helpline')
    start = html.index(f'id="helpline-{hid}"', start)
    return " ".join(re.sub(r"<[^>]+>", " ", html[start:html.index("</li>", start)]).split())


def helpline_names(html: str) -> list[str]:
    """The helplines' names in the order the crisis page shows them."""
    return re.findall(r'<h4 class="helpline__name">([^<]*)</h4>', html)


def edit_helpline(client, hid: int, **changes) -> object:
    """Post the managers' edit form for a helpline with ``changes``."""
    url = f"/crisis/helplines/{hid}/edit"
    page = client.get(url)
    html = page.get_data(as_text=True)
    data = {"csrf_token": csrf_token(page), "notes": ""}
    for name in ("name", "number", "hours", "audience", "position"):
        tag = re.search(rf'<input[^>]* name="{name}"[^>]*>', html).group(0)
        data[name] = re.search(r'value="([^"]*)"', tag).group(1).replace("&#39;", "'")
    checked = re.search(r'<input[^>]*checked[^>]*name="coverage"[^>]*value="(\w+)"', html) or \
        re.search(r'<input[^>]*name="coverage"[^>]*value="(\w+)"[^>]*checked', html)
    data["coverage"] = checked.group(1)
    data.update(changes)
    return client.post(url, data=data)


# --- signed out ----------------------------------------------------------------------


def test_signed_out_visitor_gets_the_plan_and_the_helplines(client):
    response = client.get("/crisis/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Do not put the caller on hold" in html
    assert len(re.findall(r'<li class="crisis-step[ "]', html)) == 6
    for href in ("tel:999", "tel:116123", "tel:08007312864"):
        assert f'href="{href}"' in html
    assert len(helpline_names(html)) == 9
    # A shared cache must not keep a copy (a manager's copy has manager links).
    assert "private" in response.headers["Cache-Control"]


def test_signed_out_visitor_sees_no_record_no_names_and_no_manager_controls(app, client):
    manager, agent = signed_in(app, "manager"), signed_in(app, "agent")
    samaritans = helpline_id(app, "Samaritans")
    token = csrf_token(manager.get("/crisis/helplines"))
    assert manager.post(f"/crisis/helplines/{samaritans}/verify",
                        data={"csrf_token": token}).status_code == 302
    with app.app_context():
        author = db.session.scalar(db.select(User).filter_by(username="agent"))
        incidents.record_incident(
            incidents.IncidentData(datetime(2026, 1, 15, 10), "Said the words MAGENTA-OTTER.",
                                   emergency_services_called=False), author)
        db.session.commit()
    # The same page signed in as a manager has all of these, so their absence means something.
    as_manager = manager.get("/crisis/").get_data(as_text=True)
    assert "Manage helplines" in as_manager and 'href="/crisis/incidents"' in as_manager
    assert "Morgan Manager" in as_manager  # the header's user menu

    html = client.get("/crisis/").get_data(as_text=True)
    for private in ("Morgan Manager", "Alex Agent", "MAGENTA-OTTER", "Manage helplines",
                    'href="/crisis/incidents"', "/verify", "need verifying", "never verified",
                    'name="what_was_said"', "Sign out"):
        assert private not in html, private
    assert "Checked " in card(html, samaritans)  # the date, not who checked it
    for url in ("/crisis/incidents", "/crisis/incidents/1", "/crisis/incidents/new",
                "/crisis/helplines", f"/crisis/helplines/{samaritans}/edit"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url
    assert "MAGENTA-OTTER" in agent.get("/crisis/incidents/1").get_data(as_text=True)


def test_signed_out_step_6_links_to_sign_in_and_back_to_the_record_form(client):
    html = client.get("/crisis/").get_data(as_text=True)
    links = re.findall(r'<a [^>]*href="([^"]+)"[^>]*>Sign in to record the incident</a>', html)
    assert links and len(set(links)) == 1
    assert "Record this call" not in html
    assert 'href="/crisis/incidents/new"' not in html
    target = links[0].replace("&amp;", "&")
    assert unquote(target) == "/login?next=/crisis/incidents/new"
    page = client.get(target)
    assert page.status_code == 200
    response = client.post(target, data={"username": "agent", "password": "demo",
                                         "csrf_token": csrf_token(page)})
    assert response.status_code == 302
    assert response.headers["Location"] == "/crisis/incidents/new"
    form = client.get("/crisis/incidents/new").get_data(as_text=True)
    assert 'name="what_was_said"' in form


def test_signed_in_agent_keeps_the_record_link_and_the_guided_script(app):
    html = signed_in(app, "agent").get("/crisis/").get_data(as_text=True)
    assert 'href="/crisis/incidents/new">Record this call' in html
    assert 'href="/scripts/crisis-self-harm/"' in html
    assert "Sign in to record the incident" not in html


# --- the sign-in page ----------------------------------------------------------------


def test_sign_in_page_links_to_the_crisis_page_with_the_header_shortcut(client):
    html = client.get("/login").get_data(as_text=True)
    link = re.search(r'<a class="crisis-link" href="/crisis/"[^>]*>', html)
    assert link, "no Crisis link on the sign-in page"
    assert "data-crisis-link" in link.group(0)
    assert 'aria-keyshortcuts="Alt+Shift+C"' in link.group(0)
    assert client.get("/crisis/").status_code == 200


def _remember_box(html: str) -> str:
    return re.search(r'<input[^>]*name="remember"[^>]*>', html).group(0)


def test_keep_me_signed_in_is_not_ticked_unless_configured(client):
    assert "checked" not in _remember_box(client.get("/login").get_data(as_text=True))


def test_keep_me_signed_in_is_ticked_when_configured(tmp_path):
    app = build_app(tmp_path, seeded=True, KB_REMEMBER_ME_DEFAULT=True)
    client = app.test_client()
    page = client.get("/login")
    assert "checked" in _remember_box(page.get_data(as_text=True))
    # Unticking it is respected: no remember-me cookie.
    response = client.post("/login", data={"username": "agent", "password": "demo",
                                           "csrf_token": csrf_token(page)})
    assert response.status_code == 302
    assert "remember_token=" not in " ".join(response.headers.getlist("Set-Cookie"))
    # A refused sign-in shows the box as the user left it.
    other = app.test_client()
    page = other.get("/login")
    refused = other.post("/login", data={"username": "agent", "password": "wrong",
                                         "csrf_token": csrf_token(page)})
    assert "checked" not in _remember_box(refused.get_data(as_text=True))


def test_ticked_keep_me_signed_in_sets_the_remember_cookie(client):
    page = client.get("/login")
    response = client.post("/login", data={"username": "agent", "password": "demo",
                                           "remember": "y", "csrf_token": csrf_token(page)})
    assert "remember_token=" in " ".join(response.headers.getlist("Set-Cookie"))


# --- order: national first, then local -----------------------------------------------


def test_shipped_helplines_list_national_first_then_local(client):
    html = client.get("/crisis/").get_data(as_text=True)
    names = helpline_names(html)
    assert names[:2] == ["Emergency services", "Samaritans"]
    assert names[-2:] == ["SLAM Crisis Line", "Patient Care 24 (local out-of-hours GP service)"]
    assert html.index("For callers anywhere in the country") < html.index("Samaritans")
    assert html.index("Local services") < html.index("SLAM Crisis Line") \
        < html.index("Patient Care 24")


def test_a_managers_coverage_choice_moves_a_helpline(app):
    manager = signed_in(app, "manager")
    samaritans = helpline_id(app, "Samaritans")
    response = edit_helpline(manager, samaritans, coverage="local", position="5")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Helpline, samaritans).coverage == "local"
    names = helpline_names(manager.get("/crisis/").get_data(as_text=True))
    # Position 5 is the lowest of all, yet a local line comes after every national one.
    assert names[-3:] == ["Samaritans", "SLAM Crisis Line",
                          "Patient Care 24 (local out-of-hours GP service)"]
    table = manager.get("/crisis/helplines").get_data(as_text=True)
    rows = re.findall(r'<th scope="row">([^<]*)', table)
    assert [r.strip() for r in rows][-3:] == names[-3:]
    assert "Local service" in table[table.index(f'id="helpline-{samaritans}"'):]


def test_a_bad_coverage_is_refused_and_changes_nothing(app):
    manager = signed_in(app, "manager")
    samaritans = helpline_id(app, "Samaritans")
    response = edit_helpline(manager, samaritans, coverage="regional")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Nothing was saved" in html and "anywhere in the country" in html
    with app.app_context():
        assert db.session.get(Helpline, samaritans).coverage == "national"


def test_a_new_helpline_is_national_unless_the_manager_says_local(app):
    manager = signed_in(app, "manager")
    url = "/crisis/helplines/new"
    html = manager.get(url).get_data(as_text=True)
    assert re.search(r'<input[^>]*checked[^>]*value="national"|'
                     r'<input[^>]*value="national"[^>]*checked', html)
    data = {"csrf_token": csrf_token(manager.get(url)), "name": "Borough line",
            "number": "020 7946 0000", "coverage": "local", "position": "1"}
    assert manager.post(url, data=data).status_code == 302
    names = helpline_names(manager.get("/crisis/").get_data(as_text=True))
    assert names.index("Borough line") > names.index("NHS online support")


def test_seed_file_coverage():
    coverage = {item.name: item.coverage for item in services.load_seed()}
    assert coverage["SLAM Crisis Line"] == "local"
    assert coverage["Patient Care 24 (local out-of-hours GP service)"] == "local"
    assert coverage["Samaritans"] == coverage["Emergency services"] == "national"


# --- what a call costs ---------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    ["0845 767 8000", "0870 123 4567", "0844 000 0000", "0871 000 0000", "0909 879 0000",
     "09 1234 5678", "118 118", "+44 (0)845 767 8000"],
)
def test_numbers_that_cost_the_caller_are_marked(number):
    cost = call_cost(number)
    assert cost is not None and cost.costs_caller and cost.label == "Costs the caller"


@pytest.mark.parametrize("number", ["0800 731 2864", "0808 8084994", "116 123", "116 000",
                                    "999", "111", "112"])
def test_free_numbers(number):
    cost = call_cost(number)
    assert cost.label == "Free to call" and not cost.costs_caller


@pytest.mark.parametrize("number", ["0300 1233393", "020 8401 3637", "01632 960000"])
def test_03_and_landline_numbers_cost_a_landline_call(number):
    cost = call_cost(number)
    assert cost.band == "landline" and not cost.costs_caller


@pytest.mark.parametrize("number", ["www.prevent-suicide.org.uk", "+33 1 23 45 67 89", "12345"])
def test_no_mark_when_the_cost_cannot_be_told(number):
    assert call_cost(number) is None


def test_the_page_says_what_each_number_costs_in_words(app, client):
    html = client.get("/crisis/").get_data(as_text=True)
    saneline = card(html, helpline_id(app, "SANEline"))
    assert "Costs the caller" in saneline and "service charge" in saneline
    assert "Free to call" in card(html, helpline_id(app, "Samaritans"))
    assert "Free to call" in card(html, helpline_id(app, "Emergency services"))
    assert "Free to call" in card(html, helpline_id(app, "SLAM Crisis Line"))
    mind = card(html, helpline_id(app, "Mind"))
    assert "Landline rate" in mind and "Costs the caller" not in mind
    web = card(html, helpline_id(app, "NHS online support"))
    assert "Free to call" not in web and "Costs the caller" not in web
    assert html.count("Costs the caller") == 1


def test_a_premium_number_added_by_a_manager_is_marked(app):
    manager = signed_in(app, "manager")
    url = "/crisis/helplines/new"
    data = {"csrf_token": csrf_token(manager.get(url)), "name": "Premium line",
            "number": "0909 879 0000", "coverage": "national"}
    assert manager.post(url, data=data).status_code == 302
    html = signed_in(app, "agent").get("/crisis/").get_data(as_text=True)
    premium = card(html, helpline_id(app, "Premium line"))
    assert "Costs the caller" in premium and "premium rate" in premium
    table = manager.get("/crisis/helplines").get_data(as_text=True)
    assert table.count("Costs the caller") == 2  # SANEline and this one


# --- when each number was last checked -----------------------------------------------


def test_agents_see_when_each_number_was_last_checked(app):
    manager, agent = signed_in(app, "manager"), signed_in(app, "agent")
    samaritans = helpline_id(app, "Samaritans")
    mind = helpline_id(app, "Mind")
    with app.app_context():
        db.session.get(Helpline, mind).last_verified = date(2026, 3, 14)
        db.session.get(Helpline, mind).verified_by = "Morgan Manager"
        db.session.commit()
    token = csrf_token(manager.get("/crisis/helplines"))
    manager.post(f"/crisis/helplines/{samaritans}/verify", data={"csrf_token": token})
    html = agent.get("/crisis/").get_data(as_text=True)
    with app.app_context():
        checked = db.session.get(Helpline, samaritans).last_verified
    assert f"Checked {checked.day} {checked:%B %Y}" in card(html, samaritans)
    assert "Morgan Manager" not in card(html, mind)
    assert "Checked 14 March 2026" in card(html, mind)
    assert "Not yet checked" in card(html, helpline_id(app, "SANEline"))
    assert html.count("Not yet checked") == 7
    # Agents see the date; managers still see "never verified" and who checked.
    assert "never verified" not in html
    assert "Needs verifying: never verified" in manager.get("/crisis/helplines").get_data(
        as_text=True)
