"""Sign-off dashboard, a person's page, the register CSV and GET /api/signoffs/status:
every state (awaiting countersign too), filters, who may see what, shapes, and a fixed
number of queries however many people and documents."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import timedelta

import pytest
from sqlalchemy import event, func

from kb.auth.services import issue_token
from kb.core.errors import NotAllowed, NotFound
from kb.extensions import db
from kb.models import Article, Team, User, utcnow
from kb.signoffs import chain, dashboard
from kb.signoffs.dashboard import Filters
from kb.signoffs.models import GENESIS_HASH, Countersignature, Reminder, SignOff
from tests.conftest import login
from tests.signoff_helpers import new_version, standard, user

TEXT = "## Greeting\n\nAnswer within 20 seconds and give your name.\n"
FORMULA_NAME = '=HYPERLINK("http://evil.example/","Click")'


def _sign(who: User, slug: str, *, number: int | None = None) -> SignOff:
    """Record ``who``'s signature on a version of ``slug`` through the real chain (the
    password and form checks are the signing service's, tested in test_signoffs.py)."""
    article = db.session.scalar(db.select(Article).filter_by(slug=slug))
    version = next(v for v in article.versions
                   if v.number == (number or article.current_version.number))
    record = SignOff(user_id=who.id, kind="article", article_id=article.id,
                     version_id=version.id, version_number=version.number,
                     content_sha256=version.sha256, typed_name=who.display_name,
                     signed_at=utcnow().replace(microsecond=0), client_address="10.0.0.7",
                     user_agent="pytest")
    return chain.append(record)


def _countersign(record: SignOff, by: User) -> Countersignature:
    """A countersignature row, chained in its own table (the countersigning service is
    built elsewhere: the hash here is only a well-formed stand-in)."""
    tail = db.session.execute(
        db.select(Countersignature.seq, Countersignature.record_hash)
        .order_by(Countersignature.seq.desc()).limit(1)).first()
    seq = (tail.seq if tail else 0) + 1
    prev = tail.record_hash if tail else GENESIS_HASH
    row = Countersignature(seq=seq, signoff_id=record.id, countersigner_id=by.id,
                           typed_name=by.display_name,
                           countersigned_at=utcnow().replace(microsecond=0), prev_hash=prev,
                           record_hash=hashlib.sha256(f"{seq}:{record.id}:{prev}".encode())
                           .hexdigest())
    db.session.add(row)
    db.session.flush()
    return row


def _person(username: str, display_name: str, *, role: str = "agent",
            team: str | None = "Contact centre") -> User:
    """A user inserted directly (no password hashing: these tests never sign in as them)."""
    team_row = None
    if team:
        team_row = db.session.scalar(db.select(Team).filter_by(name=team))
        if team_row is None:
            team_row = Team(name=team)
            db.session.add(team_row)
    person = User(username=username, display_name=display_name, role=role, team=team_row,
                  password_hash="!", created_at=utcnow() - timedelta(days=1))
    db.session.add(person)
    db.session.flush()
    return person


@pytest.fixture
def scene(app):
    """Four standards for agents, and the demo agent in each state on them:
    countersigned (current), signed only (awaiting), changed since (outdated), never."""
    with app.app_context():
        standard("countersigned", TEXT, signoff_window_days=3)
        standard("signed-only", TEXT, signoff_window_days=3)
        changed = standard("changed", TEXT, signoff_window_days=3)
        standard("never", TEXT, signoff_window_days=3)
        agent, manager = user("agent"), user("manager")
        _countersign(_sign(agent, "countersigned"), manager)
        _sign(agent, "signed-only")
        _sign(agent, "changed")
        new_version(changed, TEXT + "\nNew rule.\n", material=True)
        db.session.commit()
    return app


def _states(grid: dashboard.Grid, username: str) -> dict[str, str]:
    person = next(p for p in grid.people if p.user.username == username)
    return {cell.status.document.slug: cell.state for cell in person.cells.values()}


# --- the grid (service) --------------------------------------------------------------


def test_each_state_including_awaiting_countersign(scene):
    with scene.app_context():
        grid = dashboard.grid(user("manager"), Filters())
        assert _states(grid, "agent") == {
            "countersigned": "current", "signed-only": "awaiting_countersign",
            "changed": "outdated", "never": "missing"}
        later = utcnow() + timedelta(days=30)
        late = dashboard.grid(user("manager"), Filters(), now=later)
        # Overdue wins over outdated and missing; a signature stays what it was.
        assert _states(late, "agent") == {
            "countersigned": "current", "signed-only": "awaiting_countersign",
            "changed": "overdue", "never": "overdue"}


def test_a_countersignature_on_an_older_signature_does_not_count(scene):
    with scene.app_context():
        agent, manager = user("agent"), user("manager")
        first = db.session.scalar(db.select(SignOff).join(Article).filter(
            Article.slug == "changed", SignOff.user_id == agent.id))
        _countersign(first, manager)  # version 1, before the material change
        _sign(agent, "changed")  # version 2: current, not countersigned
        db.session.commit()
        assert _states(dashboard.grid(manager, Filters()), "agent")["changed"] == (
            "awaiting_countersign")


def test_completion_counts_awaiting_as_signed_and_the_counts_add_up(scene):
    with scene.app_context():
        grid = dashboard.grid(user("manager"), Filters())
        agent = next(p for p in grid.people if p.user.username == "agent")
        assert (agent.completion.signed, agent.completion.total, agent.completion.percent) == (
            2, 4, 50)
        docs = {d.slug: d.id for d in grid.documents}
        # agent and newstarter are asked; only the agent signed.
        assert grid.per_document[docs["signed-only"]].percent == 50
        assert grid.per_document[docs["never"]].percent == 0
        assert sum(grid.counts.values()) == grid.overall.total == 8
        assert grid.counts["awaiting_countersign"] == 1
        assert grid.counts["current"] == 1
        assert [p.user.username for p in grid.people] == ["agent", "newstarter"]


def test_people_are_sorted_by_name_and_filtered_by_team_and_role(scene):
    with scene.app_context():
        standard("everyone", TEXT, signoff_role="all")
        _person("zed", "aaron zed", team="Repairs")
        _person("boss2", "Bea Boss", role="manager", team="Repairs")
        db.session.commit()
        manager = user("manager")
        repairs = db.session.scalar(db.select(Team.id).filter_by(name="Repairs"))
        every = dashboard.grid(manager, Filters())
        names = [p.user.display_name for p in every.people]
        assert names == sorted(names, key=str.casefold)
        assert "aaron zed" in names and "Ash Admin" in names
        team = dashboard.grid(manager, Filters(team_id=repairs))
        assert {p.user.username for p in team.people} == {"zed", "boss2"}
        managers = dashboard.grid(manager, Filters(team_id=repairs, role="manager"))
        assert [p.user.username for p in managers.people] == ["boss2"]
        # Only the standard asked of every role applies to a manager: one column.
        assert [d.slug for d in managers.columns] == ["everyone"]


def test_filters_default_to_the_managers_team_and_refuse_unknown_values(scene):
    with scene.app_context():
        teams = dashboard.teams()
        own = user("manager").team_id
        assert dashboard.parse_filters(user("manager"), {}, teams) == (Filters(own), [])
        assert dashboard.parse_filters(user("admin"), {}, teams) == (Filters(), [])
        assert dashboard.parse_filters(user("manager"), {"team": "all"}, teams) == (
            Filters(), [])
        filters, problems = dashboard.parse_filters(
            user("manager"), {"team": "99999999999999", "role": "boss"}, teams)
        assert filters == Filters(own) and len(problems) == 2


def test_agents_are_refused_by_the_services(scene):
    with scene.app_context():
        with pytest.raises(NotAllowed):
            dashboard.grid(user("agent"), Filters())
        with pytest.raises(NotAllowed):
            dashboard.register_csv(user("agent"))
        with pytest.raises(NotAllowed):
            dashboard.history(user("agent"), user("newstarter").id)
        with pytest.raises(NotFound):
            dashboard.history(user("admin"), 987654)


# --- the pages -----------------------------------------------------------------------


def test_dashboard_page_shows_states_as_words_bars_and_a_legend(scene):
    client = scene.test_client()
    login(client, "manager")
    page = client.get("/signoffs/dashboard")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    for word in ("Current", "Awaiting countersign", "Outdated", "Missing", "Key"):
        assert word in body
    assert 'class="st st--awaiting_countersign"' in body
    assert 'class="bar__fill"' in body and "50%" in body
    assert 'href="/signoffs/register.csv"' in body
    with scene.app_context():
        agent_id = user("agent").id
    assert f'<a href="/signoffs/people/{agent_id}">Alex Agent</a>' in body
    assert "#doc-" not in body  # one link per person, not one per cell
    # The manager's own team by default, "all" on request.
    assert "Ash Admin" not in body
    assert 'selected>Contact centre (your team)' in body


def test_dashboard_filter_by_team_and_role_through_the_form(scene):
    with scene.app_context():
        _person("zed", "Zed Repairs", team="Repairs")
        repairs = db.session.scalar(db.select(Team.id).filter_by(name="Repairs"))
        db.session.commit()
    client = scene.test_client()
    login(client, "manager")
    body = client.get(f"/signoffs/dashboard?team={repairs}&role=agent").get_data(as_text=True)
    assert "Zed Repairs" in body and "Alex Agent" not in body
    # Another team's people: shown, but their pages are the admin's and their manager's.
    assert "/signoffs/people/" not in body.split("<tbody>")[1].split("</tbody>")[0]
    body = client.get("/signoffs/dashboard?team=all").get_data(as_text=True)
    assert "Zed Repairs" in body and "Alex Agent" in body
    bad = client.get("/signoffs/dashboard?team=nope&role=chief")
    assert bad.status_code == 400
    text = bad.get_data(as_text=True)
    assert "There is no team" in text and "There is no role" in text


def test_dashboard_without_documents_or_people_says_so(app):
    client = app.test_client()
    login(client, "admin")
    page = client.get("/signoffs/dashboard")
    assert page.status_code == 200
    assert "No standard requires a sign-off yet." in page.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/signoffs/dashboard", "/signoffs/register.csv"])
def test_agents_get_403_on_the_manager_pages(scene, path):
    client = scene.test_client()
    login(client, "agent")
    assert client.get(path).status_code == 403


def test_person_page_shows_every_signature_countersignature_and_reminder(scene):
    with scene.app_context():
        agent, manager = user("agent"), user("manager")
        article = db.session.scalar(db.select(Article).filter_by(slug="never"))
        db.session.add(Reminder(key="test-1", recipient_id=agent.id, subject_user_id=agent.id,
                                article_id=article.id, kind="due_in_7",
                                due_on=utcnow().date(), sent_at=utcnow(),
                                address="alex@example.org"))
        db.session.commit()
        agent_id = agent.id
        sha = db.session.scalar(db.select(SignOff.content_sha256).limit(1))
        manager_name = manager.display_name
    client = scene.test_client()
    login(client, "manager")
    page = client.get(f"/signoffs/people/{agent_id}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Every signature (3)" in body
    assert sha[:12] in body and "10.0.0.7" in body and "Alex Agent" in body
    assert manager_name in body and "Not yet" in body
    assert "Reminders sent about Alex Agent" in body and "alex@example.org" in body
    assert "Due in 7" in body
    for word in ("Current", "Awaiting countersign", "Outdated", "Missing"):
        assert word in body


def test_person_page_scope(scene):
    with scene.app_context():
        other = _person("zed", "Zed Repairs", team="Repairs").id
        db.session.commit()
        agent, newstarter = user("agent").id, user("newstarter").id
    client = scene.test_client()
    login(client, "agent")
    assert client.get(f"/signoffs/people/{agent}").status_code == 200  # oneself
    page = client.get(f"/signoffs/people/{agent}").get_data(as_text=True)
    assert "Reminders sent" not in page  # none yet: the section is left out
    assert client.get(f"/signoffs/people/{newstarter}").status_code == 403
    client = scene.test_client()
    login(client, "manager")
    assert client.get(f"/signoffs/people/{newstarter}").status_code == 200  # their team
    assert client.get(f"/signoffs/people/{other}").status_code == 403  # another team
    client = scene.test_client()
    login(client, "admin")
    assert client.get(f"/signoffs/people/{other}").status_code == 200
    assert client.get("/signoffs/people/987654").status_code == 404
    assert client.get(f"/signoffs/people/{2**31}").status_code == 404
    assert client.get("/signoffs/people/-1").status_code == 404


# --- the register CSV ----------------------------------------------------------------


def test_register_csv_columns_chain_order_and_a_formula_defused(scene):
    with scene.app_context():
        sly = _person("sly", FORMULA_NAME)
        _sign(sly, "never")
        db.session.commit()
        expected = [seq for seq in db.session.scalars(db.select(SignOff.seq).order_by(
            SignOff.seq))]
        count = db.session.scalar(db.select(func.count(SignOff.id)))
    client = scene.test_client()
    login(client, "manager")
    response = client.get("/signoffs/register.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert 'attachment; filename="signoff-register-' in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["user", "document", "version", "sha256", "typed_name", "meaning",
                       "signed_at_utc", "countersigner", "countersigned_at_utc"]
    assert len(rows) - 1 == count == len(expected) == 4
    assert [r[1] for r in rows[1:]] == ["countersigned", "signed-only", "changed", "never"]
    first = rows[1]
    assert first[0] == "agent" and first[2] == "1" and len(first[3]) == 64
    assert first[5] == "read and understood"
    assert first[7] == "manager" and first[8][:4].isdigit()
    assert rows[2][7] == "" and rows[2][8] == ""
    assert rows[4][4] == "'" + FORMULA_NAME  # shown as text, never run as a formula


# --- the API -------------------------------------------------------------------------


def test_api_shape_is_exactly_the_contract(scene):
    client = scene.test_client()
    login(client, "manager")
    response = client.get("/api/signoffs/status")
    assert response.status_code == 200
    data = response.get_json()
    assert set(data) == {"documents", "users"}
    assert sorted(data["documents"]) == ["changed", "countersigned", "never", "signed-only"]
    assert [u["username"] for u in data["users"]] == ["agent", "newstarter"]
    agent = data["users"][0]
    assert set(agent) == {"username", "display_name", "team", "signoffs"}
    assert agent == {"username": "agent", "display_name": "Alex Agent",
                     "team": "Contact centre",
                     "signoffs": {"countersigned": "current",
                                  "signed-only": "awaiting_countersign",
                                  "changed": "outdated", "never": "missing"}}


def test_api_filters_and_bearer_tokens(scene):
    with scene.app_context():
        _person("zed", "Zed Repairs", team="Repairs")
        repairs = db.session.scalar(db.select(Team.id).filter_by(name="Repairs"))
        manager_token, _ = issue_token(user("manager"), "test")
        agent_token, _ = issue_token(user("agent"), "test")
        db.session.commit()
    client = scene.test_client()
    headers = {"Authorization": f"Bearer {manager_token}"}
    every = client.get("/api/signoffs/status", headers=headers).get_json()
    assert {u["username"] for u in every["users"]} == {"agent", "newstarter", "zed"}
    team = client.get(f"/api/signoffs/status?team={repairs}", headers=headers).get_json()
    assert [u["username"] for u in team["users"]] == ["zed"]
    assert team["users"][0]["team"] == "Repairs"
    assert client.get("/api/signoffs/status?role=manager", headers=headers).get_json()[
        "users"] == []
    bad = client.get("/api/signoffs/status?team=x", headers=headers)
    assert bad.status_code == 400 and "There is no team" in bad.get_json()["message"]
    refused = client.get("/api/signoffs/status",
                         headers={"Authorization": f"Bearer {agent_token}"})
    assert refused.status_code == 403 and refused.get_json()["error"] == "forbidden"
    assert client.get("/api/signoffs/status").status_code == 401


def test_agent_session_gets_403_json_from_the_api(scene):
    client = scene.test_client()
    login(client, "agent")
    response = client.get("/api/signoffs/status")
    assert response.status_code == 403 and response.is_json


# --- a fixed number of queries -------------------------------------------------------


def _grow(people: int, documents: int) -> None:
    """Make ``documents`` standards and ``people`` agents with some of every state."""
    have = db.session.scalar(db.select(func.count(Article.id)).where(
        Article.requires_signoff.is_(True)))
    for n in range(have, documents):
        standard(f"std-{n}", TEXT)
    agents = db.session.scalar(db.select(func.count(User.id)).where(User.role == "agent"))
    for n in range(agents, people):
        _person(f"person{n}", f"Person {n}")
    manager = user("manager")
    slugs = sorted(db.session.scalars(db.select(Article.slug).where(
        Article.requires_signoff.is_(True))))
    done = {(u, a) for u, a in db.session.execute(db.select(SignOff.user_id,
                                                            SignOff.article_id))}
    people_rows = db.session.scalars(db.select(User).where(User.role == "agent")
                                     .order_by(User.id)).all()
    ids = {s: db.session.scalar(db.select(Article.id).filter_by(slug=s)) for s in slugs}
    for i, person in enumerate(people_rows):
        for j, slug in enumerate(slugs):
            if (i + j) % 3 and (person.id, ids[slug]) not in done:
                record = _sign(person, slug)
                if (i + j) % 3 == 1:
                    _countersign(record, manager)
    db.session.commit()


def _count(app, client, path: str) -> int:
    """SQL statements run while answering ``path`` (body read to the end)."""
    statements: list[str] = []

    def listener(*args):
        statements.append(args[2])

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", listener)
    try:
        response = client.get(path)
        response.get_data()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert response.status_code == 200, path
    return len(statements)


PATHS = ["/signoffs/dashboard?team=all", "/signoffs/dashboard", "/api/signoffs/status",
         "/api/signoffs/status?role=agent", "/signoffs/register.csv"]


def test_each_view_takes_the_same_number_of_queries_at_any_size(app):
    client = app.test_client()
    login(client, "manager")
    with app.app_context():
        _grow(3, 2)
        assert db.session.scalar(db.select(func.count(Countersignature.id))) > 0
    for path in PATHS:
        client.get(path)  # warm: nothing first-time is counted
    small = {path: _count(app, client, path) for path in PATHS}
    with app.app_context():
        _grow(30, 6)
        people = db.session.scalar(db.select(func.count(User.id)).where(
            User.role == "agent"))
        assert people == 30
    large = {path: _count(app, client, path) for path in PATHS}
    assert small == large
    assert max(large.values()) <= 10
