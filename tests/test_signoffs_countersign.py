"""Countersigning: the queue's scope, the team rule, every refusal (nothing recorded, the
reason given), batches all or nothing, double submits, the audit trail and the signal,
and the pages: the queue, the header count and My sign-offs."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event

from kb.core.errors import Invalid, NotAllowed
from kb.core.signals import signoff_countersigned
from kb.extensions import db
from kb.models import AuditLog, Team
from kb.signoffs import chain
from kb.signoffs.countersign import (
    AlreadyCountersigned,
    countersigned_by,
    queue,
    queue_count,
)
from kb.signoffs.services import TooManyAttempts
from tests.conftest import csrf_token, login
from tests.countersign_helpers import (
    countersign_as,
    countersignatures,
    sign_as,
    sign_everyone,
)
from tests.signoff_helpers import user


@pytest.fixture
def signed(app, make_user):
    """Five signatures in two teams (see sign_everyone); {name: sign-off id}."""
    return sign_everyone(app, make_user)


def _queue_ids(username: str, team_id=None) -> list[int]:
    return [item.signoff.id for item in queue(user(username), team_id)]


def _audited() -> list[AuditLog]:
    return list(db.session.scalars(db.select(AuditLog).filter_by(
        action="signoff.countersigned").order_by(AuditLog.id)))


def _nothing_recorded() -> None:
    db.session.rollback()
    assert countersignatures() == []
    assert _audited() == []


# --- the queue and the rule ------------------------------------------------------------


def test_a_manager_queues_their_own_teams_signoffs_oldest_first(app, signed):
    with app.app_context():
        # Not Otto's (another team), not the manager's own; the admin's is in "Systems".
        assert _queue_ids("manager") == [signed["agent"], signed["newstarter"]]
        assert queue_count(user("manager")) == 2


def test_an_admin_queues_everyones_but_their_own_and_filters_by_team(app, signed):
    with app.app_context():
        assert _queue_ids("admin") == [signed[n] for n in ("agent", "newstarter", "otto",
                                                           "manager")]
        outreach = db.session.scalar(db.select(Team).filter_by(name="Outreach"))
        assert _queue_ids("admin", outreach.id) == [signed["otto"]]
        assert queue_count(user("admin"), outreach.id) == 1


def test_a_countersigned_signoff_leaves_the_queue_and_inactive_people_are_not_queued(
        app, signed):
    with app.app_context():
        countersign_as("manager", [signed["agent"]])
        assert _queue_ids("manager") == [signed["newstarter"]]
        user("newstarter").active = False
        db.session.commit()
        assert _queue_ids("manager") == []
        with pytest.raises(Invalid, match="is not in your queue"):
            countersign_as("manager", [signed["newstarter"]])
        db.session.rollback()


def test_a_manager_without_a_team_has_an_empty_queue(app, signed, make_user):
    make_user("lone", role="manager", display_name="Lone Manager")
    with app.app_context():
        assert _queue_ids("lone") == []
        with pytest.raises(Invalid, match="is not in your queue"):
            countersign_as("lone", [signed["agent"]])
        _nothing_recorded()


def test_agents_cannot_countersign(app, signed):
    with app.app_context():
        with pytest.raises(NotAllowed):
            countersign_as("newstarter", [signed["agent"]])
        with pytest.raises(NotAllowed):
            queue(user("agent"))
        assert queue_count(user("agent")) == 0
        _nothing_recorded()


@pytest.mark.parametrize("who, whose, message", [
    ("manager", "manager", "is your own: someone else must countersign it"),
    ("admin", "admin", "is your own"),
    ("manager", "otto", "is not in your queue"),
    ("manager", "admin", "is not in your queue"),
])
def test_nobody_countersigns_their_own_or_outside_their_team(app, signed, who, whose, message):
    with app.app_context():
        with pytest.raises(Invalid) as refused:
            countersign_as(who, [signed[whose]])
        assert refused.value.field == "signoff_ids"
        assert message in refused.value.message
        assert "nothing was recorded" in refused.value.message
        _nothing_recorded()


# --- countersigning and every refusal -----------------------------------------------------


def test_countersigning_records_who_what_when_and_audits_it(app, signed):
    heard = []

    def receiver(sender, **kwargs):
        heard.append((sender.slug, kwargs["signer"].username, kwargs["countersigner"].username,
                      kwargs["signoff"].id))

    with app.app_context(), signoff_countersigned.connected_to(receiver):
        records = countersign_as("manager", [signed["agent"], signed["newstarter"]],
                                 typed_name="  morgan   MANAGER ")
        assert len(records) == 2
        first = countersignatures()[0]
        assert first.signoff_id == signed["agent"]
        assert first.countersigner_id == user("manager").id
        assert (first.typed_name, first.meaning) == ("morgan MANAGER", "countersigned")
        assert (first.client_address, first.user_agent) == ("10.0.0.9", "pytest manager")
        assert first.countersigned_at.microsecond == 0 and first.countersigned_at.tzinfo is None
        assert first.record_hash == chain.record_hash(first, first.prev_hash)
        audits = _audited()
        assert [(a.user_id, a.target_type, a.target_id) for a in audits] == [
            (user("manager").id, "sign_off", str(signed[n])) for n in ("agent", "newstarter")]
        assert audits[1].detail == {"signoff": signed["newstarter"], "seq": 2,
                                    "record_hash": countersignatures()[1].record_hash}
    assert heard == [("greeting", "agent", "manager", signed["agent"]),
                     ("greeting", "newstarter", "manager", signed["newstarter"])]


def test_a_batch_is_all_or_nothing_and_names_the_bad_one(app, signed):
    with app.app_context():
        with pytest.raises(Invalid) as refused:
            countersign_as("manager", [signed["agent"], signed["otto"], signed["newstarter"]])
        assert f"Sign-off {signed['otto']} is not in your queue" in refused.value.message
        _nothing_recorded()
        with pytest.raises(Invalid, match="There is no sign-off 99999"):
            countersign_as("manager", [signed["agent"], 99999])
        _nothing_recorded()


@pytest.mark.parametrize("ids, message", [
    ([], "Select at least one sign-off"),
    (["", " "], "Select at least one sign-off"),
    (["abc"], "“abc” is not a sign-off number"),
    (["1e3"], "is not a sign-off number"),
    (["²"], "is not a sign-off number"),
    (["99999999999999999999"], "is not a sign-off number"),
    ([str(n) for n in range(1, 202)], "at most 200"),
])
def test_ids_that_are_not_signoffs_are_refused(app, signed, ids, message):
    with app.app_context():
        with pytest.raises(Invalid) as refused:
            countersign_as("manager", ids)
        assert message in refused.value.message
        _nothing_recorded()


def test_the_name_must_match_and_the_password_must_be_right(app, signed):
    with app.app_context():
        with pytest.raises(Invalid) as refused:
            countersign_as("manager", [signed["agent"]], typed_name="Alex Agent")
        assert refused.value.field == "typed_name"
        assert "Morgan Manager" in refused.value.message
        _nothing_recorded()
        with pytest.raises(Invalid) as refused:
            countersign_as("manager", [signed["agent"]], password="wrong")
        assert refused.value.field == "password"
        assert "That password is not right" in refused.value.message
        _nothing_recorded()


def test_wrong_passwords_count_like_sign_in_failures(app, signed):
    app.config["KB_LOGIN_ACCOUNT_LIMIT"] = "2 per 5 minutes"
    with app.app_context():
        for _ in range(2):
            with pytest.raises(Invalid, match="not right"):
                countersign_as("manager", [signed["agent"]], password="wrong")
        with pytest.raises(TooManyAttempts):  # even the right password waits now
            countersign_as("manager", [signed["agent"]])
        _nothing_recorded()
        # Its own key: the manager's own sign-in and signing are not held back by it.
        from kb.auth.services import login_backoff

        assert login_backoff("manager") == 0 and login_backoff("signoff:manager") == 0


def test_already_countersigned(app, signed):
    with app.app_context():
        countersign_as("manager", [signed["agent"]])
        # The same again (a double submit): nothing more to record, nothing wrong.
        with pytest.raises(AlreadyCountersigned) as again:
            countersign_as("manager", [signed["agent"]])
        assert again.value.by_you
        db.session.rollback()
        # Another countersigner, or a batch that still had something to do, is told who.
        with pytest.raises(AlreadyCountersigned) as other:
            countersign_as("admin", [signed["otto"], signed["agent"]])
        assert not other.value.by_you
        assert (f"Sign-off {signed['agent']} (Alex Agent, Greeting) was already countersigned "
                "by Morgan Manager on") in other.value.message
        db.session.rollback()
        assert len(countersignatures()) == 1 and len(_audited()) == 1


def test_countersigned_by_takes_one_query(app, signed):
    with app.app_context():
        countersign_as("manager", [signed["agent"]])
        countersign_as("admin", [signed["otto"]])
        db.session.expire_all()
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            found = countersigned_by(signed.values())
            names = {k: v.countersigner.display_name for k, v in found.items()}
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        assert names == {signed["agent"]: "Morgan Manager", signed["otto"]: "Ash Admin"}
        assert len(statements) == 1
        assert countersigned_by([]) == {}


# --- through the pages ------------------------------------------------------------------


URL = "/signoffs/countersign"


def _post(client, url=URL, *, ids=(), everything=False, **changes):
    """Post the queue form as it was shown: tick ``ids`` (or press "all shown")."""
    page = client.get(url)
    assert page.status_code == 200
    shown = re.findall(r'name="shown" value="(\d+)"', page.get_data(as_text=True))
    data = {"csrf_token": csrf_token(page), "typed_name": "Morgan Manager",
            "password": "demo", "ids": [str(n) for n in ids], "shown": shown}
    data["submit_all" if everything else "submit"] = "x"
    data.update(changes)
    data = {k: v for k, v in data.items() if v is not None}
    return client.post(url, data=data, headers={"User-Agent": "Manager browser 2.0"},
                       environ_base={"REMOTE_ADDR": "192.0.2.80"})


def _count(app) -> int:
    with app.app_context():
        return len(countersignatures())


def test_agents_get_a_403(app, client, signed):
    login(client, "agent")
    assert client.get(URL).status_code == 403
    token = csrf_token(client.get("/signoffs/"))
    response = client.post(URL, data={"csrf_token": token, "ids": str(signed["newstarter"]),
                                      "typed_name": "Alex Agent", "password": "demo"})
    assert response.status_code == 403
    assert _count(app) == 0
    assert 'href="/signoffs/countersign"' not in client.get("/signoffs/").get_data(as_text=True)


def test_the_queue_page_shows_the_teams_signoffs(app, client, signed):
    login(client, "manager")
    page = client.get(URL).get_data(as_text=True)
    assert "2 sign-offs awaiting your countersignature, oldest first" in page
    assert "Alex Agent" in page and "Nina Newstarter" in page
    assert "Otto Outreach" not in page and "Ash Admin" not in page
    assert page.index("Alex Agent") < page.index("Nina Newstarter")
    assert f'name="ids" value="{signed["agent"]}"' in page
    assert "Greeting</a>" in page and "<td>1</td>" in page
    assert 'Countersign <span class="nav-count">2' in page  # the header link and count
    assert "Countersign all shown" in page and 'name="team"' not in page


def test_countersigning_the_ticked_ones(app, client, signed):
    login(client, "manager")
    response = _post(client, ids=[signed["newstarter"]])
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "Countersigned 1 sign-off." in page
    assert "1 sign-off awaiting your countersignature" in page
    with app.app_context():
        (record,) = countersignatures()
        assert record.signoff_id == signed["newstarter"]
        assert (record.client_address, record.user_agent) == ("192.0.2.80",
                                                              "Manager browser 2.0")


def test_countersigning_all_shown_without_ticking(app, client, signed):
    login(client, "manager")
    response = _post(client, everything=True)
    assert response.status_code == 302
    assert "Countersigned 2 sign-offs." in client.get(response.location).get_data(as_text=True)
    with app.app_context():
        assert sorted(r.signoff_id for r in countersignatures()) == [signed["agent"],
                                                                     signed["newstarter"]]
    page = client.get(URL).get_data(as_text=True)
    assert "Nothing to countersign" in page and 'name="password"' not in page


@pytest.mark.parametrize("change, message", [
    ({}, "Select at least one sign-off"),
    ({"ids": ["OTTO"]}, "is not in your queue"),
    ({"ids": ["424242"]}, "There is no sign-off 424242"),
    ({"typed_name": "Someone Else"}, "Type your full name"),
    ({"password": "nope"}, "That password is not right"),
    # The app's CSRF check answers before the view (kb/errors.py).
    ({"csrf_token": None}, "did not come from this site, so nothing was changed"),
    ({"csrf_token": "forged"}, "did not come from this site, so nothing was changed"),
])
def test_a_refused_post_says_why_and_records_nothing(app, client, signed, change, message):
    login(client, "manager")
    if change.get("ids") == ["OTTO"]:
        change = {"ids": [str(signed["agent"]), str(signed["otto"])]}
    elif change and "ids" not in change:
        change["ids"] = [str(signed["agent"])]
    response = _post(client, **change)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert "nothing was recorded" in page or "csrf_token" in change
    assert _count(app) == 0
    # What was ticked stays ticked; the password is never sent back.
    if str(signed["agent"]) in change.get("ids", []) and "csrf_token" not in change:
        assert f'name="ids" value="{signed["agent"]}" checked' in page
    assert 'value="nope"' not in page


def test_a_double_submit_records_one(app, client, signed):
    login(client, "manager")
    page = client.get(URL)
    data = {"csrf_token": csrf_token(page), "typed_name": "Morgan Manager", "password": "demo",
            "ids": [str(signed["agent"])], "submit": "x"}
    assert client.post(URL, data=data).status_code == 302
    again = client.post(URL, data=data)  # the back button, a double click
    assert again.status_code == 302
    assert "already countersigned this sign-off" in client.get(again.location).get_data(
        as_text=True)
    assert _count(app) == 1


def test_wrong_passwords_on_the_page_are_rate_limited(app, client, signed):
    app.config["KB_LOGIN_ACCOUNT_LIMIT"] = "2 per 5 minutes"
    login(client, "manager")
    for _ in range(2):
        assert _post(client, ids=[signed["agent"]], password="nope").status_code == 400
    response = _post(client, ids=[signed["agent"]])
    assert response.status_code == 429
    assert "Too many wrong passwords" in response.get_data(as_text=True)
    assert _count(app) == 0


def test_countersign_posts_are_limited_per_address_like_sign_in(tmp_path):
    from kb.auth.services import seed_demo_accounts
    from tests.conftest import build_app
    from tests.signoff_helpers import standard

    app = build_app(tmp_path, KB_LOGIN_RATE_LIMIT="2 per minute")
    with app.app_context():
        seed_demo_accounts()
        standard("greeting", "Answer within 20 seconds.")
        db.session.commit()
        ident = sign_as("agent").id
    client = app.test_client()
    login(client, "manager")
    assert [_post(client, ids=[ident], password="nope").status_code
            for _ in range(2)] == [400, 400]
    assert _post(client, ids=[ident]).status_code == 429
    assert _count(app) == 0
    with app.app_context():
        db.engine.dispose()


def test_an_admin_filters_the_queue_by_team(app, client, signed):
    login(client, "admin")
    page = client.get(URL).get_data(as_text=True)
    assert "4 sign-offs awaiting" in page and "Otto Outreach (Outreach)" in page
    with app.app_context():
        outreach = db.session.scalar(db.select(Team).filter_by(name="Outreach")).id
    page = client.get(f"{URL}?team={outreach}").get_data(as_text=True)
    assert "1 sign-off awaiting" in page and "Alex Agent" not in page
    assert f'<option value="{outreach}" selected>Outreach</option>' in page
    # "All shown" means the shown ones: Otto's only.
    response = _post(client, f"{URL}?team={outreach}", everything=True,
                     typed_name="Ash Admin")
    assert response.status_code == 302 and f"team={outreach}" in response.location
    with app.app_context():
        assert [r.signoff_id for r in countersignatures()] == [signed["otto"]]
    for bad in ("abc", "99999", "99999999999999999999", "-1"):
        assert client.get(f"{URL}?team={bad}").status_code == 404


def test_a_manager_cannot_widen_the_queue_with_the_team_filter(app, client, signed):
    login(client, "manager")
    with app.app_context():
        outreach = db.session.scalar(db.select(Team).filter_by(name="Outreach")).id
    page = client.get(f"{URL}?team={outreach}").get_data(as_text=True)
    assert "Alex Agent" in page and "Otto Outreach" not in page


def test_my_signoffs_shows_who_countersigned(app, client, signed):
    login(client, "agent")
    page = client.get("/signoffs/").get_data(as_text=True)
    assert "Awaiting countersignature" in page
    with app.app_context():
        countersign_as("manager", [signed["agent"]])
    page = client.get("/signoffs/").get_data(as_text=True)
    assert "Countersigned by Morgan Manager on <time" in page
    assert "Awaiting countersignature" not in page


def test_the_queue_needs_a_signed_in_user(client, signed):
    response = client.get(URL)
    assert response.status_code == 302 and "/login" in response.location
