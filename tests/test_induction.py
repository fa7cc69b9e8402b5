"""Induction services: due dates, progress, each kind of item ticking itself (or ticked by
a manager), overdue, the team rule, task confirmations, programme editing and the
default programme's import."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import DatabaseError

from kb.auth.services import create_user
from kb.core.clock import local_today
from kb.core.errors import Invalid, NotAllowed
from kb.core.signals import script_walked
from kb.extensions import db
from kb.induction import programmes, progress, services
from kb.induction.models import (
    Enrolment,
    Programme,
    ScriptWalkthrough,
    TaskConfirmation,
)
from kb.models import Article, AuditLog, utcnow
from kb.signoffs.models import Countersignature
from tests.conftest import SHIPPED_ARTICLES, SHIPPED_SCRIPTS
from tests.induction_helpers import (
    enrol,
    import_script,
    programme_with,
    sign_current,
    user,
)
from tests.signoff_helpers import new_version, standard

START = date(2026, 9, 7)  # a Monday


@pytest.fixture
def scripted(app):
    """The app with the lost-fob script imported."""
    with app.app_context():
        import_script(Path(app.config["KB_SCRIPTS_DIR"]))
    return app


def _actions(name: str) -> list[AuditLog]:
    return list(db.session.scalars(db.select(AuditLog).filter_by(action=name)))


# --- Due dates, progress and overdue ---------------------------------------------------


def test_an_item_is_due_its_days_after_the_start_date_in_calendar_days(app):
    assert progress.due_date(START, 0) == START
    assert progress.due_date(START, 5) == date(2026, 9, 12)  # a Saturday: calendar days
    assert progress.due_date(date(2026, 12, 30), 3) == date(2027, 1, 2)
    with app.app_context():
        prog = programme_with(("task", "Shadow three calls with a buddy", 3),
                              ("task", "CRM system training", 0))
        p = progress.for_enrolment(enrol(prog, user("newstarter"), START), today=START)
        assert [i.due for i in p.items] == [date(2026, 9, 10), START]


def test_overdue_is_not_done_and_past_the_due_day_and_progress_counts_done(app):
    with app.app_context():
        prog = programme_with(("task", "Shadow three calls", 3), ("task", "CRM training", 1))
        enrolment = enrol(prog, user("newstarter"), START)
        on_the_day = progress.for_enrolment(enrolment, today=START + timedelta(days=1))
        assert [i.overdue for i in on_the_day.items] == [False, False]  # due today: not late
        after = progress.for_enrolment(enrolment, today=START + timedelta(days=2))
        assert [i.overdue for i in after.items] == [False, True]
        assert (after.done, after.total, after.percent, after.complete) == (0, 2, 0, False)
        services.confirm_task(user("manager"), enrolment.id, prog.items[1].id)
        later = progress.for_enrolment(enrolment, today=START + timedelta(days=30))
        assert (later.done, later.total, later.percent) == (1, 2, 50)
        assert [i.overdue for i in later.items] == [True, False]  # done is never overdue
        assert later.completed_at is None


def test_an_empty_programme_is_never_complete(app):
    with app.app_context():
        p = progress.for_enrolment(enrol(programme_with(), user("newstarter"), START))
        assert (p.total, p.done, p.complete, p.percent) == (0, 0, False, 0)


def test_an_article_item_ticks_itself_when_the_sign_off_is_current(app):
    with app.app_context():
        article = standard("greeting", "Answer within 20 seconds.")
        prog = programme_with(("article", article, 5))
        enrolment = enrol(prog, user("newstarter"), START)
        assert not progress.for_enrolment(enrolment).items[0].done
        record = sign_current("greeting", user("newstarter"))
        item = progress.for_enrolment(enrolment).items[0]
        assert (item.done, item.done_at, item.kind, item.slug) == (
            True, record.signed_at, "article", "greeting")
        assert item.detail == "signed version 1" and item.by is None

        # A minor change keeps it done, at the time of the signature that made it current.
        new_version(article, "Answer within 20 seconds. Typo fixed.", material=False)
        sign_current("greeting", user("newstarter"))  # signs version 2 as well
        item = progress.for_enrolment(enrolment).items[0]
        assert item.done_at == record.signed_at
        # A material change un-ticks it until the new version is signed.
        new_version(article, "Answer within 15 seconds.", material=True)
        assert not progress.for_enrolment(enrolment).items[0].done
        again = sign_current("greeting", user("newstarter"))
        item = progress.for_enrolment(enrolment).items[0]
        assert item.done_at == again.signed_at and item.detail == "signed version 3"


def test_another_persons_signature_does_not_tick_mine(app):
    with app.app_context():
        article = standard("greeting")
        enrolment = enrol(programme_with(("article", article, 5)), user("newstarter"), START)
        sign_current("greeting", user("agent"))
        assert progress.for_enrolment(enrolment).done == 0


def test_an_article_items_record_names_the_countersigner(app):
    with app.app_context():
        standard("greeting")
        article = db.session.scalar(db.select(Article).filter_by(slug="greeting"))
        enrolment = enrol(programme_with(("article", article, 5)), user("newstarter"), START)
        signed = sign_current("greeting", user("newstarter"))
        at = utcnow().replace(microsecond=0)
        db.session.add(Countersignature(
            seq=1, signoff_id=signed.id, countersigner_id=user("manager").id,
            typed_name="Morgan Manager", countersigned_at=at, prev_hash="0" * 64,
            record_hash="a" * 64))
        db.session.flush()
        item = progress.for_enrolment(enrolment).items[0]
        assert (item.by, item.by_at) == ("Morgan Manager", at)


def test_a_script_item_ticks_itself_when_the_script_is_walked_through(scripted):
    from kb.callscripts.services import walked_through

    with scripted.app_context():
        from kb.models import CallScript

        script = db.session.scalar(db.select(CallScript).filter_by(slug="lost-fob"))
        enrolment = enrol(programme_with(("script", script, 7)), user("newstarter"),
                          START)
        assert not progress.for_enrolment(enrolment).items[0].done
        walked_through("lost-fob", "lost", "ask", user("newstarter"))
        db.session.commit()
        walk = db.session.scalar(db.select(ScriptWalkthrough))
        assert (walk.user_id, walk.script_id, walk.version_number, walk.end_step,
                walk.path) == (user("newstarter").id, script.id, 1, "lost", "ask")
        item = progress.for_enrolment(enrolment).items[0]
        assert (item.done, item.done_at) == (True, walk.walked_at)
        [audited] = _actions("script.walked_through")
        assert audited.target_id == str(script.id) and audited.detail["end_step"] == "lost"


def test_a_walk_through_refuses_a_path_the_script_does_not_allow(scripted):
    from kb.callscripts.services import StepNotFound, walked_through

    with scripted.app_context():
        who = user("newstarter")
        with pytest.raises(Invalid, match="not one the script allows"):
            walked_through("lost-fob", "lost", "stolen", who)  # stolen does not lead to lost
        with pytest.raises(Invalid, match="not one the script allows"):
            walked_through("lost-fob", "lost", "", who)  # skipped the start
        with pytest.raises(Invalid, match="Only an end step"):
            walked_through("lost-fob", "ask", "", who)
        with pytest.raises(StepNotFound):
            walked_through("lost-fob", "nowhere", "ask", who)
        assert db.session.scalar(db.select(db.func.count(ScriptWalkthrough.id))) == 0


def test_a_walk_through_signal_without_a_signed_in_user_records_nothing(scripted):
    with scripted.app_context():
        from kb.models import CallScript

        script = db.session.scalar(db.select(CallScript))
        script_walked.send(script, user=None, version=1, end_step="lost", path=["ask"])
        assert db.session.scalar(db.select(db.func.count(ScriptWalkthrough.id))) == 0


def test_progress_of_many_enrolments_takes_a_fixed_number_of_queries(scripted):
    from kb.models import CallScript

    with scripted.app_context():
        articles = [standard(f"standard-{n}") for n in range(3)]
        script = db.session.scalar(db.select(CallScript))
        prog = programme_with(*[("article", a, 5) for a in articles], ("script", script, 5),
                              ("task", "Shadow three calls", 3))
        other = programme_with(("task", "CRM training", 2), name="Second")
        people = [create_user(f"starter{n}", "pw-starter-1", role="agent",
                              team="Contact centre") for n in range(6)]
        enrolments = [enrol(prog if n % 2 else other, p, START) for n, p in enumerate(people)]
        db.session.commit()

        def count(rows) -> int:
            db.session.expire_all()
            seen = []
            listener = lambda *args: seen.append(1)  # noqa: E731
            event.listen(db.engine, "before_cursor_execute", listener)
            try:
                loaded = list(db.session.scalars(
                    db.select(Enrolment).where(Enrolment.id.in_([e.id for e in rows]))))
                seen.clear()  # the enrolments themselves are the caller's query
                result = progress.for_enrolments(loaded)
                assert len(result) == len(rows)
            finally:
                event.remove(db.engine, "before_cursor_execute", listener)
            return len(seen)

        assert count(enrolments[:2]) == count(enrolments) <= 6


# --- Who may assign, see and confirm ---------------------------------------------------


def test_a_manager_assigns_people_in_their_team_and_an_admin_anyone(app):
    with app.app_context():
        prog = programme_with(("task", "Shadow three calls", 3))
        outsider = create_user("outsider", "pw-outsider-1", role="agent", team="Repairs")
        db.session.flush()
        enrolment = services.assign(user("manager"), prog.id, user("newstarter").id, START)
        assert (enrolment.start_date, enrolment.assigned_by_id) == (START, user("manager").id)
        [audited] = _actions("induction.assigned")
        assert audited.detail == {"programme": "Test induction", "user": "newstarter",
                                  "start_date": "2026-09-07"}
        with pytest.raises(Invalid, match="members of your own team") as refused:
            services.assign(user("manager"), prog.id, outsider.id, START)
        assert refused.value.field == "user"
        with pytest.raises(Invalid, match="members of your own team"):
            services.assign(user("manager"), prog.id, user("manager").id, START)  # themself
        assert services.assign(user("admin"), prog.id, outsider.id, START).user_id == outsider.id
        with pytest.raises(NotAllowed):
            services.assign(user("agent"), prog.id, user("newstarter").id, START)
        names = {u.username for u in services.assignable_people(user("manager"))}
        assert names == {"agent", "newstarter"}
        assert "outsider" in {u.username for u in services.assignable_people(user("admin"))}


def test_one_enrolment_per_person_and_programme(app):
    with app.app_context():
        prog = programme_with(("task", "Shadow three calls", 3))
        services.assign(user("manager"), prog.id, user("newstarter").id, START)
        db.session.commit()
        with pytest.raises(services.AlreadyEnrolled, match="already enrolled on “Test "
                                                           "induction” \\(from 07/09/2026\\)"):
            services.assign(user("admin"), prog.id, user("newstarter").id, START)
        db.session.rollback()
        assert db.session.scalar(db.select(db.func.count(Enrolment.id))) == 1


def test_assigning_refuses_archived_and_unknown_programmes_and_bad_dates(app):
    with app.app_context():
        prog = programme_with(("task", "Shadow three calls", 3))
        who, manager = user("newstarter").id, user("manager")
        with pytest.raises(Invalid, match="Choose one of the programmes"):
            services.assign(manager, 999, who, START)
        with pytest.raises(Invalid, match="Give the start date"):
            services.assign(manager, prog.id, who, None)
        with pytest.raises(Invalid, match="out of range"):
            services.assign(manager, prog.id, who, date(1999, 1, 1))
        programmes.set_archived(manager, prog.id, True)
        with pytest.raises(Invalid, match="archived"):
            services.assign(manager, prog.id, who, START)
        assert services.parse_start_date("2026-09-07") == START
        assert services.parse_start_date("07/09/2026") == START
        assert services.parse_start_date("  ") is None
        for bad in ("31/02/2026", "tomorrow", "2026-13-01"):
            with pytest.raises(Invalid, match="not a date"):
                services.parse_start_date(bad)


def test_who_may_see_an_enrolment(app):
    with app.app_context():
        create_user("outside-boss", "pw-outside-1", role="manager", team="Repairs")
        enrolment = enrol(programme_with(), user("newstarter"), START)
        assert services.can_view(user("newstarter"), enrolment)
        assert services.can_view(user("manager"), enrolment)
        assert services.can_view(user("admin"), enrolment)
        assert not services.can_view(user("agent"), enrolment)
        assert not services.can_view(user("outside-boss"), enrolment)
        with pytest.raises(NotAllowed):
            services.enrolment_for(user("agent"), enrolment.id)
        with pytest.raises(services.EnrolmentNotFound):
            services.enrolment_for(user("admin"), 12345)


def test_task_confirmation_rules(app):
    with app.app_context():
        create_user("outside-boss", "pw-outside-1", role="manager", team="Repairs")
        boss = create_user("team-boss", "pw-team-boss-1", role="manager", team="Contact centre")
        article = standard("greeting")
        prog = programme_with(("task", "Shadow three calls", 3), ("article", article, 5))
        task, signoff_item = prog.items
        enrolment = enrol(prog, user("newstarter"), START)
        for refused in (user("agent"), user("outside-boss")):
            with pytest.raises(NotAllowed):
                services.confirm_task(refused, enrolment.id, task.id)
        with pytest.raises(Invalid, match="tick themselves"):
            services.confirm_task(user("manager"), enrolment.id, signoff_item.id)
        with pytest.raises(programmes.ItemNotFound):
            services.confirm_task(user("manager"), enrolment.id, 99999)
        with pytest.raises(Invalid, match="500 characters"):
            services.confirm_task(user("manager"), enrolment.id, task.id, "x" * 501)
        record = services.confirm_task(user("manager"), enrolment.id, task.id,
                                       "  Sat with   Priya ")
        assert (record.confirmed_by_id, record.note) == (user("manager").id, "Sat with Priya")
        with pytest.raises(services.AlreadyConfirmed, match="already confirmed"):
            services.confirm_task(boss, enrolment.id, task.id)
        item = progress.for_enrolment(enrolment).items[0]
        assert (item.done, item.by, item.note) == (True, "Morgan Manager", "Sat with Priya")
        [audited] = _actions("induction.task_confirmed")
        assert audited.detail["item"] == task.id and audited.detail["user"] == "newstarter"


def test_nobody_confirms_their_own_task_not_even_an_admin(app):
    with app.app_context():
        prog = programme_with(("task", "Shadow three calls", 3))
        enrolment = enrol(prog, user("admin"), START)
        with pytest.raises(NotAllowed, match="own induction"):
            services.confirm_task(user("admin"), enrolment.id, prog.items[0].id)


def test_task_confirmations_and_walk_throughs_are_append_only(scripted):
    with scripted.app_context():
        prog = programme_with(("task", "Shadow three calls", 3))
        enrolment = enrol(prog, user("newstarter"), START)
        record = services.confirm_task(user("manager"), enrolment.id, prog.items[0].id)
        from kb.callscripts.services import walked_through

        walked_through("lost-fob", "stolen", "ask", user("newstarter"))
        db.session.commit()
        record.note = "changed"
        with pytest.raises(RuntimeError, match="evidence"):
            db.session.flush()
        db.session.rollback()
        for statement in ("UPDATE task_confirmations SET note = 'x'",
                          "DELETE FROM task_confirmations",
                          "DELETE FROM script_walkthroughs",
                          "UPDATE script_walkthroughs SET end_step = 'lost'"):
            with pytest.raises(DatabaseError):
                db.session.execute(text(statement))
            db.session.rollback()
        assert db.session.scalar(db.select(TaskConfirmation.note)) == ""
        assert db.session.scalar(db.select(ScriptWalkthrough.end_step)) == "stolen"


def test_the_overdue_list_covers_the_managers_team_only(app):
    with app.app_context():
        outsider = create_user("outsider", "pw-outsider-1", role="agent", team="Repairs")
        prog = programme_with(("task", "Shadow three calls", 0), ("task", "CRM training", 30))
        long_ago = local_today() - timedelta(days=10)
        enrol(prog, user("newstarter"), long_ago)
        enrol(prog, outsider, long_ago - timedelta(days=1))
        mine = services.overdue(user("manager"))
        assert [(o.person.username, o.item.title, o.days_late) for o in mine] == [
            ("newstarter", "Shadow three calls", 10)]
        everyone = services.overdue(user("admin"))
        assert [o.person.username for o in everyone] == ["outsider", "newstarter"]
        with pytest.raises(NotAllowed):
            services.overdue(user("agent"))


# --- Editing programmes ----------------------------------------------------------------


def test_programme_names_are_checked(app):
    with app.app_context():
        manager = user("manager")
        with pytest.raises(Invalid, match="Give the programme a name"):
            programmes.create_programme(manager, "   ")
        first = programmes.create_programme(manager, "  Repairs   desk ", "For the desk.")
        assert first.name == "Repairs desk"
        with pytest.raises(Invalid, match="already a programme called “Repairs desk”"):
            programmes.create_programme(manager, "REPAIRS DESK")
        with pytest.raises(Invalid, match="120 characters"):
            programmes.create_programme(manager, "x" * 121)
        with pytest.raises(NotAllowed):
            programmes.create_programme(user("agent"), "Agents' own")
        assert programmes.update_programme(manager, first.id, "Repairs desk", "For the desk.") \
            == []
        assert programmes.update_programme(manager, first.id, "Repairs hub", "") == [
            "name", "description"]
        assert [a.action for a in db.session.scalars(db.select(AuditLog).order_by(AuditLog.id))
                if a.action.startswith("induction.")] == [
            "induction.programme_created", "induction.programme_updated"]


def test_items_are_checked_when_added(scripted):
    with scripted.app_context():
        manager = user("manager")
        standard("greeting")
        standard("not-a-standard", requires=False)
        prog = programmes.create_programme(manager, "Checked")
        for days in ("-1", "366", "abc", "", "1.5", None):
            with pytest.raises(Invalid, match="from 0 to 365") as refused:
                programmes.add_item(manager, prog.id, "task", title="Shadow", due_days=days)
            assert refused.value.field == "due_days"
        with pytest.raises(Invalid, match="Say what the task is"):
            programmes.add_item(manager, prog.id, "task", title="  ", due_days=3)
        with pytest.raises(Invalid, match="Choose a sign-off, a call script or a task"):
            programmes.add_item(manager, prog.id, "quiz", title="x", due_days=3)
        for slug in ("nothing-here", "not-a-standard", ""):
            with pytest.raises(Invalid, match="Choose one of the standards"):
                programmes.add_item(manager, prog.id, "article", article=slug, due_days=3)
        with pytest.raises(Invalid, match="Choose one of the call scripts"):
            programmes.add_item(manager, prog.id, "script", script="nope", due_days=3)
        article = programmes.add_item(manager, prog.id, "article", article="greeting",
                                      due_days="0")
        assert (article.title, article.due_days, article.position) == ("Greeting", 0, 1)
        with pytest.raises(Invalid, match="already in this programme"):
            programmes.add_item(manager, prog.id, "article", article="greeting", due_days=3)
        script = programmes.add_item(manager, prog.id, "script", script="lost-fob",
                                     due_days="365")
        assert (script.title, script.position) == ("Lost key fob", 2)
        with pytest.raises(NotAllowed):
            programmes.add_item(user("agent"), prog.id, "task", title="x", due_days=1)


def test_a_programme_holds_at_most_sixty_items(app):
    with app.app_context():
        manager = user("manager")
        prog = programmes.create_programme(manager, "Long")
        for n in range(programmes.MAX_ITEMS):
            programmes.add_item(manager, prog.id, "task", title=f"Task {n}", due_days=1)
        with pytest.raises(Invalid, match="at most 60 items"):
            programmes.add_item(manager, prog.id, "task", title="One more", due_days=1)


def test_moving_and_removing_keep_positions_contiguous(app):
    with app.app_context():
        manager = user("manager")
        prog = programmes.create_programme(manager, "Ordered")
        ids = [programmes.add_item(manager, prog.id, "task", title=t, due_days=1).id
               for t in ("A", "B", "C", "D")]

        def order() -> list[tuple[str, int]]:
            db.session.expire_all()
            return [(i.title, i.position) for i in programmes.get_programme(prog.id).items]

        assert programmes.move_item(manager, prog.id, ids[2], "up")
        assert order() == [("A", 1), ("C", 2), ("B", 3), ("D", 4)]
        assert not programmes.move_item(manager, prog.id, ids[0], "up")  # already first
        assert programmes.move_item(manager, prog.id, ids[0], "down")
        assert order() == [("C", 1), ("A", 2), ("B", 3), ("D", 4)]
        with pytest.raises(Invalid):
            programmes.move_item(manager, prog.id, ids[0], "sideways")
        programmes.remove_item(manager, prog.id, ids[1])
        assert order() == [("C", 1), ("A", 2), ("D", 3)]
        with pytest.raises(programmes.ItemNotFound):
            programmes.remove_item(manager, prog.id, ids[1])
        assert [a.action for a in db.session.scalars(db.select(AuditLog).order_by(AuditLog.id))
                ].count("induction.item_moved") == 2


def test_a_confirmed_task_cannot_be_removed(app):
    with app.app_context():
        prog = programme_with(("task", "Shadow three calls", 3))
        enrolment = enrol(prog, user("newstarter"), START)
        services.confirm_task(user("manager"), enrolment.id, prog.items[0].id)
        with pytest.raises(Invalid, match="confirmed for 1 person"):
            programmes.remove_item(user("manager"), prog.id, prog.items[0].id)


# --- The default programme ------------------------------------------------------------


@pytest.fixture
def shipped(tmp_path):
    """An app with the shipped articles and scripts in its content folders (not loaded)."""
    import shutil

    from tests.conftest import build_app

    shutil.copytree(SHIPPED_ARTICLES, tmp_path / "articles", dirs_exist_ok=True)
    shutil.copytree(SHIPPED_SCRIPTS, tmp_path / "scripts")
    app = build_app(tmp_path)
    yield app
    with app.app_context():
        db.engine.dispose()


def test_the_default_programme_is_loaded_once_by_import_content(shipped):
    runner = shipped.test_cli_runner()
    result = runner.invoke(args=["import-content"])
    assert result.exit_code == 0, result.output
    assert "Induction: “Contact centre induction” loaded" in result.output
    with shipped.app_context():
        prog = db.session.scalar(db.select(Programme))
        kinds = [i.kind for i in prog.items]
        standards = {a.id for a in programmes.signable_articles()}
        assert standards and {i.article_id for i in prog.items if i.article_id} == standards
        assert kinds.count("script") == 4 and kinds.count("task") >= 10
        assert [i.position for i in prog.items] == list(range(1, len(prog.items) + 1))
        assert all(0 <= i.due_days <= 365 and i.title for i in prog.items)
        assert any("CRM" in i.title for i in prog.items)
        assert any("Shadow three calls" in i.title for i in prog.items)
        # Managers own it from now on: a renamed default is not loaded again.
        prog.name = "Our induction"
        db.session.commit()
    again = runner.invoke(args=["import-content"])
    assert again.exit_code == 0 and "Induction:" not in again.output
    with shipped.app_context():
        assert db.session.scalar(db.select(db.func.count(Programme.id))) == 1


def test_seed_demo_enrols_the_new_starter_from_today_once(shipped):
    runner = shipped.test_cli_runner()
    assert runner.invoke(args=["import-content"]).exit_code == 0
    first = runner.invoke(args=["seed-demo"])
    assert "newstarter is enrolled" in first.output
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0 and "newstarter is enrolled" not in second.output
    with shipped.app_context():
        [enrolment] = db.session.scalars(db.select(Enrolment)).all()
        assert (enrolment.user.username, enrolment.start_date) == ("newstarter", local_today())
        assert services.unfinished(enrolment.user)[0].total == len(enrolment.programme.items)
