"""Users and teams: the manage rule, the last admin, sessions, passwords, tokens, audit."""

from __future__ import annotations

import re

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from kb.core.errors import Invalid, NotAllowed
from kb.extensions import db
from kb.models import ApiToken, AuditLog, Team, User
from kb.users import services
from tests.conftest import ROOT, build_app, csrf_token, every_stored_value, login, user_named

SECRET_RE = re.compile(r'id="secret" class="secret" type="text" value="([^"]+)"')


def _audit(action: str) -> list[AuditLog]:
    return list(db.session.scalars(db.select(AuditLog).filter_by(action=action)))


def _signed_in(app, username: str, password: str = "demo"):
    client = app.test_client()
    assert login(client, username, password).status_code == 302, f"{username} cannot sign in"
    return client


def _post(client, url: str, form_url: str | None = None, **data):
    """POST a form with the CSRF token of the page it lives on."""
    token = csrf_token(client.get(form_url or url))
    return client.post(url, data={"csrf_token": token, **data})


def _team_id(name: str) -> int:
    return db.session.scalar(db.select(Team.id).filter_by(name=name))


# --- services ------------------------------------------------------------------------


def test_admin_creates_a_user_with_a_generated_password_shown_once_and_never_stored(app):
    with app.app_context():
        admin = user_named("admin")
        user, password = services.create_user(
            admin, username=" Sam.Jones ", display_name="Sam  Jones", role="agent",
            team_id=_team_id("Contact centre"))
        db.session.commit()
        assert (user.username, user.display_name, user.team.name) == (
            "sam.jones", "Sam Jones", "Contact centre")
        assert password and user.check_password(password)
        assert password not in every_stored_value(db)
        (row,) = _audit("user.created")
        assert row.user_id == admin.id and row.target == "sam.jones"
        assert row.detail == {"role": "agent", "team": "Contact centre",
                              "password_generated": True}


def test_bad_usernames_names_and_passwords_are_refused_and_nothing_is_created(app):
    with app.app_context():
        admin, before = user_named("admin"), db.session.scalar(db.select(db.func.count(User.id)))
        team = _team_id("Systems")
        cases = [
            (dict(username="agent"), "username"),  # taken
            (dict(username="has space"), "username"),
            (dict(username="-dash"), "username"),
            (dict(username="x" * 65), "username"),
            (dict(display_name="   "), "display_name"),
            (dict(password="short"), "password"),
            (dict(role="owner"), "role"),
            (dict(team_id=999), "team"),
        ]
        for change, field in cases:
            args = dict(username="new.person", display_name="New Person", role="agent",
                        team_id=team, password="long enough")
            args.update(change)
            with pytest.raises(Invalid) as caught:
                services.create_user(admin, **args)
            assert caught.value.field == field, change
            db.session.rollback()
        assert db.session.scalar(db.select(db.func.count(User.id))) == before
        assert not _audit("user.created")


def test_a_manager_creates_only_agents_and_only_in_their_own_team(app):
    with app.app_context():
        manager, own = user_named("manager"), _team_id("Contact centre")
        base = dict(username="new.agent", display_name="New Agent", password="long enough")
        for role in ("manager", "admin"):
            with pytest.raises(Invalid, match=f"cannot give the {role} role"):
                services.create_user(manager, role=role, team_id=own, **base)
        with pytest.raises(Invalid) as caught:
            services.create_user(manager, role="agent", team_id=_team_id("Systems"), **base)
        assert caught.value.field == "team"
        with pytest.raises(Invalid):  # managers cannot make team-less users they could
            services.create_user(manager, role="agent", team_id=None, **base)  # not manage
        user, generated = services.create_user(manager, role="agent", team_id=own, **base)
        assert generated is None and user.check_password("long enough")
        assert services.can_manage(manager, user)


def test_who_manages_whom(app, make_user):
    make_user("peer", "manager", team="Contact centre")
    make_user("boss", "admin", team="Contact centre")
    make_user("elsewhere", "agent", team="Repairs")
    with app.app_context():
        manager, admin = user_named("manager"), user_named("admin")
        agent, other_team, peer, boss = (user_named(n) for n in ("agent", "elsewhere", "peer",
                                                              "boss"))
        assert services.can_manage(manager, agent)
        assert not services.can_manage(manager, other_team)  # another team
        assert not services.can_manage(manager, peer)  # same rank
        assert not services.can_manage(manager, boss)  # higher rank
        assert not services.can_manage(manager, manager)  # nobody manages themself here
        assert not services.can_manage(agent, user_named("newstarter"))
        assert all(services.can_manage(admin, u) for u in (agent, other_team, peer, boss))
        assert not services.can_manage(admin, admin)
        with pytest.raises(NotAllowed):
            services.update_user(manager, peer.id, role="agent", team_id=peer.team_id)
        with pytest.raises(NotAllowed):
            services.set_active(manager, other_team.id, False)
        with pytest.raises(NotAllowed):
            services.reset_password(manager, boss.id, "long enough")
        db.session.rollback()
        assert user_named("peer").role == "manager" and user_named("elsewhere").active


def test_a_manager_cannot_promote_their_agents(app):
    with app.app_context():
        manager, agent = user_named("manager"), user_named("agent")
        for role in ("manager", "admin"):
            with pytest.raises(Invalid, match="cannot give"):
                services.update_user(manager, agent.id, role=role, team_id=agent.team_id)
        with pytest.raises(Invalid):  # nor move them out of the team they manage
            services.update_user(manager, agent.id, role="agent", team_id=_team_id("Systems"))
        db.session.rollback()
        assert user_named("agent").role == "agent"
        assert user_named("agent").team.name == "Contact centre"


def test_admin_changes_role_and_team_and_both_are_audited(app):
    with app.app_context():
        admin, agent = user_named("admin"), user_named("agent")
        changed = services.update_user(admin, agent.id, role="manager",
                                       team_id=_team_id("Systems"))
        db.session.commit()
        assert changed == ["role", "team"]
        assert (user_named("agent").role, user_named("agent").team.name) == ("manager", "Systems")
        assert _audit("user.role_changed")[0].detail == {"before": "agent", "after": "manager"}
        assert _audit("user.team_changed")[0].detail == {"before": "Contact centre",
                                                         "after": "Systems"}
        assert services.update_user(admin, agent.id, role="manager",
                                    team_id=_team_id("Systems")) == []


def test_two_admins_demoting_each_other_leave_one_admin(app, make_user):
    """The second demotion is re-checked inside its transaction against what the first
    committed, so the site is never left without an admin."""
    make_user("admin2", "admin", team="Systems")
    with app.app_context():
        first, second = user_named("admin"), user_named("admin2")
        assert first.role == second.role == "admin"
        # Another request (admin2's) demotes admin and commits, while this one still
        # holds admin's row as it was.
        other = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
        with other.begin() as connection:
            connection.execute(text("UPDATE users SET role = 'agent' WHERE id = :id"),
                               {"id": first.id})
        other.dispose()
        with pytest.raises((NotAllowed, Invalid, OperationalError)):
            services.update_user(first, second.id, role="agent", team_id=second.team_id)
        db.session.rollback()
        admins = db.session.scalar(db.select(db.func.count(User.id)).filter_by(role="admin"))
        assert admins == 1


def test_the_last_admin_cannot_be_deactivated_from_the_command_line(app, runner):
    result = runner.invoke(args=["deactivate-user", "admin"])
    assert result.exit_code != 0 and "last active admin" in result.output
    with app.app_context():
        assert user_named("admin").active
    assert runner.invoke(args=["deactivate-user", "agent"]).exit_code == 0
    with app.app_context():
        (row,) = _audit("user.deactivated")
        assert row.user_id is None and row.detail == {"via": "command line"}


def test_teams_have_unique_names_ignoring_case_and_only_admins_add_them(app):
    with app.app_context():
        admin = user_named("admin")
        team = services.create_team(admin, "  Repairs   line ")
        db.session.commit()
        assert team.name == "Repairs line"
        with pytest.raises(Invalid, match="already a team"):
            services.create_team(admin, "repairs LINE")
        with pytest.raises(NotAllowed):
            services.create_team(user_named("manager"), "Lettings")
        assert [row.target for row in _audit("team.created")] == ["Repairs line"]


def test_the_migration_turns_free_text_teams_into_team_rows(tmp_path):
    app = build_app(tmp_path)
    migrations = str(ROOT / "kb" / "migrations")
    with app.app_context():
        downgrade(directory=migrations, revision="b9d4e2a7c513")  # before teams
        for number, team in enumerate(["Contact centre", " contact  CENTRE", None, "Repairs"]):
            db.session.execute(text(
                "INSERT INTO users (username, display_name, role, team, password_hash, "
                "active, created_at, session_version) VALUES (:u, :u, 'agent', :t, 'x', "
                ":active, CURRENT_TIMESTAMP, 1)"), {"u": f"user{number}", "t": team,
                                                    "active": True})
        db.session.commit()
        upgrade(directory=migrations)
        rows = db.session.execute(text(
            "SELECT u.username, t.name FROM users u LEFT JOIN teams t ON t.id = u.team_id "
            "ORDER BY u.username")).all()
        assert [tuple(r) for r in rows] == [("user0", "Contact centre"),
                                           ("user1", "Contact centre"), ("user2", None),
                                           ("user3", "Repairs")]
        db.engine.dispose()


# --- pages ---------------------------------------------------------------------------


def test_agents_get_403_on_every_users_page(app):
    agent = _signed_in(app, "agent")
    with app.app_context():
        ids = {n: user_named(n).id for n in ("agent", "manager", "newstarter")}
    for url in ("/users/", "/users/new", f"/users/{ids['newstarter']}", "/users/teams",
                f"/users/{ids['manager']}/tokens", f"/users/{ids['agent']}"):
        assert agent.get(url).status_code == 403, url
    token = csrf_token(agent.get(f"/users/{ids['agent']}/tokens"))
    for url in (f"/users/{ids['newstarter']}/deactivate", f"/users/{ids['newstarter']}/password",
                "/users/new", "/users/teams"):
        assert agent.post(url, data={"csrf_token": token, "username": "x",
                                     "display_name": "x", "name": "x"}).status_code == 403
    with app.app_context():
        assert user_named("newstarter").active and user_named("x") is None


def test_managers_see_only_their_team_and_admins_see_everyone(app, make_user):
    make_user("olu", display_name="Olu Other", team="Repairs")  # an agent in another team
    manager, admin = _signed_in(app, "manager"), _signed_in(app, "admin")
    page = manager.get("/users/").get_data(as_text=True)
    assert "Alex Agent" in page and "Nina Newstarter" in page  # the manager's team
    assert "Olu Other" not in page and "Ash Admin" not in page
    assert manager.get("/users/teams").status_code == 403
    page = admin.get("/users/").get_data(as_text=True)
    assert all(name in page for name in ("Alex Agent", "Olu Other", "Morgan Manager"))


def test_an_admin_creates_a_user_who_can_then_sign_in(app):
    admin = _signed_in(app, "admin")
    with app.app_context():
        team = _team_id("Contact centre")
    response = _post(admin, "/users/new", username="sam.jones", display_name="Sam Jones",
                     role="agent", team=str(team), password="")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    password = SECRET_RE.search(response.get_data(as_text=True)).group(1)
    assert "not shown again" in response.get_data(as_text=True)
    assert _signed_in(app, "sam.jones", password)


def test_bad_input_on_the_create_form_says_why_and_creates_nothing(app):
    admin = _signed_in(app, "admin")
    response = _post(admin, "/users/new", username="sam", display_name="Sam", role="agent",
                     team="0", password="short")
    assert response.status_code == 400
    assert "at least 8 characters" in response.get_data(as_text=True)
    response = _post(admin, "/users/new", username="agent", display_name="Sam", role="agent",
                     team="0", password="long enough")
    assert "already a user called agent" in response.get_data(as_text=True)
    response = _post(admin, "/users/new", username="sam", display_name="Sam", role="chief",
                     team="0", password="long enough")
    assert response.status_code == 400
    with app.app_context():
        assert user_named("sam") is None and not _audit("user.created")


def test_a_forged_post_without_the_csrf_token_changes_nothing(app):
    admin = _signed_in(app, "admin")
    with app.app_context():
        agent_id = user_named("agent").id
    for url, data in ((f"/users/{agent_id}/deactivate", {}),
                      (f"/users/{agent_id}", {"role": "admin", "team": "0"}),
                      (f"/users/{agent_id}/password", {"password": "forged password"}),
                      ("/users/new", {"username": "forged", "display_name": "F",
                                      "role": "admin", "team": "0"})):
        assert admin.post(url, data=data).status_code == 400, url
    with app.app_context():
        agent = user_named("agent")
        assert agent.active and agent.role == "agent" and agent.check_password("demo")
        assert user_named("forged") is None
        assert not db.session.scalars(db.select(AuditLog).where(
            AuditLog.action.like("user.%"))).all()


def test_deactivation_signs_the_user_out_on_their_next_request(app):
    agent, admin = _signed_in(app, "agent"), _signed_in(app, "admin")
    assert agent.get("/articles/").status_code == 200
    with app.app_context():
        agent_id = user_named("agent").id
    response = _post(admin, f"/users/{agent_id}/deactivate", f"/users/{agent_id}")
    assert response.status_code == 302
    assert "deactivated and signed out" in admin.get(f"/users/{agent_id}").get_data(as_text=True)
    response = agent.get("/articles/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert login(agent.application.test_client(), "agent").status_code == 200  # refused
    _post(admin, f"/users/{agent_id}/reactivate", f"/users/{agent_id}")
    assert agent.get("/articles/").status_code == 302  # the old session stays ended
    assert _signed_in(app, "agent")
    with app.app_context():
        assert [r.action for r in db.session.scalars(db.select(AuditLog).where(
            AuditLog.action.like("user.%")).order_by(AuditLog.id))] == ["user.deactivated",
                                                                         "user.reactivated"]


def test_nobody_deactivates_themself(app):
    admin = _signed_in(app, "admin")
    with app.app_context():
        admin_id = user_named("admin").id
    assert admin.get(f"/users/{admin_id}").status_code == 403
    token = csrf_token(admin.get("/users/"))
    response = admin.post(f"/users/{admin_id}/deactivate", data={"csrf_token": token})
    assert response.status_code == 403
    with app.app_context():
        assert user_named("admin").active


def test_reset_password_ends_sessions_and_the_password_is_never_logged(app):
    agent, manager = _signed_in(app, "agent"), _signed_in(app, "manager")
    with app.app_context():
        agent_id = user_named("agent").id
    response = _post(manager, f"/users/{agent_id}/password", f"/users/{agent_id}",
                     password="a new password")
    assert response.status_code == 302
    assert agent.get("/articles/").status_code == 302  # signed out
    assert login(app.test_client(), "agent", "demo").status_code == 200  # old one refused
    assert _signed_in(app, "agent", "a new password")
    response = _post(manager, f"/users/{agent_id}/password", f"/users/{agent_id}", password="")
    generated = SECRET_RE.search(response.get_data(as_text=True)).group(1)
    assert _signed_in(app, "agent", generated)
    with app.app_context():
        rows = _audit("user.password_reset")
        assert [r.detail for r in rows] == [{"password_generated": False},
                                            {"password_generated": True}]
        stored = every_stored_value(db)
        assert "a new password" not in stored and generated not in stored


def test_the_edit_form_refuses_a_role_the_manager_cannot_give(app):
    manager = _signed_in(app, "manager")
    with app.app_context():
        agent_id, team = user_named("agent").id, _team_id("Contact centre")
    response = _post(manager, f"/users/{agent_id}", role="admin", team=str(team))
    assert response.status_code == 400
    with app.app_context():
        assert user_named("agent").role == "agent" and not _audit("user.role_changed")


# --- API tokens ----------------------------------------------------------------------


def test_a_user_creates_lists_and_revokes_their_own_token(app):
    agent = _signed_in(app, "agent")
    with app.app_context():
        agent_id = user_named("agent").id
    url = f"/users/{agent_id}/tokens"
    response = _post(agent, url, name="CRM widget")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    token = SECRET_RE.search(response.get_data(as_text=True)).group(1)
    api = app.test_client()
    bearer = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/search?q=rent", headers=bearer).status_code == 200
    page = agent.get(url).get_data(as_text=True)
    assert "CRM widget" in page and token not in page
    with app.app_context():
        token_id = db.session.scalar(db.select(ApiToken.id).filter_by(user_id=agent_id))
        assert db.session.get(ApiToken, token_id).last_used_at is not None
    response = _post(agent, f"{url}/{token_id}/revoke", url)
    assert response.status_code == 302
    assert api.get("/api/search?q=rent", headers=bearer).status_code == 401
    assert "Revoked" in agent.get(url).get_data(as_text=True)
    with app.app_context():
        assert [r.action for r in db.session.scalars(db.select(AuditLog).where(
            AuditLog.action.like("token.%")).order_by(AuditLog.id))] == ["token.created",
                                                                          "token.revoked"]
        assert token not in every_stored_value(db)


def test_managers_and_admins_manage_tokens_of_users_they_manage_only(app, make_user):
    other_id = make_user("olu", display_name="Olu Other", team="Repairs")  # another team
    manager, admin = _signed_in(app, "manager"), _signed_in(app, "admin")
    with app.app_context():
        agent_id, admin_id = (user_named(n).id for n in ("agent", "admin"))
        _, row = services.create_token(user_named("agent"), agent_id, "Sync script")
        db.session.commit()
        token_id = row.id
    assert manager.get(f"/users/{other_id}/tokens").status_code == 403
    assert manager.get(f"/users/{admin_id}/tokens").status_code == 403
    assert admin.get(f"/users/{other_id}/tokens").status_code == 200
    url = f"/users/{agent_id}/tokens"
    assert "Sync script" in manager.get(url).get_data(as_text=True)
    _post(manager, f"{url}/{token_id}/revoke", url)
    with app.app_context():
        assert db.session.get(ApiToken, token_id).revoked
        (row,) = _audit("token.revoked")
        assert row.user_id == user_named("manager").id


def test_a_token_needs_a_name_and_a_deactivated_user_gets_none(app):
    agent = _signed_in(app, "agent")
    with app.app_context():
        agent_id = user_named("agent").id
    response = _post(agent, f"/users/{agent_id}/tokens", name="   ")
    assert response.status_code == 400 and "Say what the token is for" in response.get_data(
        as_text=True)
    with app.app_context():
        services.set_active(user_named("admin"), agent_id, False)
        db.session.commit()
        with pytest.raises(Invalid, match="deactivated"):
            services.create_token(user_named("admin"), agent_id, "Too late")
        assert not db.session.scalars(db.select(ApiToken)).all()


def test_no_route_deletes_a_user(app):
    paths = {rule.rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("users.")}
    assert not any("delete" in path for path in paths)
    assert not any("DELETE" in rule.methods for rule in app.url_map.iter_rules())


def test_a_deactivated_users_token_is_refused(app):
    with app.app_context():
        agent = user_named("agent")
        token, _row = services.create_token(agent, agent.id, "Sync script")
        db.session.commit()
    api, bearer = app.test_client(), {"Authorization": f"Bearer {token}"}
    assert api.get("/api/standards", headers=bearer).status_code == 200
    with app.app_context():
        services.set_active(user_named("admin"), user_named("agent").id, False)
        db.session.commit()
    assert api.get("/api/standards", headers=bearer).status_code == 401


def test_the_users_link_is_shown_to_managers_and_admins_only(app):
    for username, shown in (("agent", False), ("manager", True), ("admin", True)):
        page = _signed_in(app, username).get("/articles/").get_data(as_text=True)
        assert ('href="/users/"' in page) is shown, username
        assert "API tokens</a>" in page  # everyone reaches their own tokens
