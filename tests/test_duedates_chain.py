"""Chained deadlines and standard sets, through the services (app and database)."""

from __future__ import annotations

from datetime import datetime

import pytest

from kb.extensions import db
from kb.models import AuditLog
from kb.tools.duedates.arithmetic import DueDateError
from kb.tools.duedates.models import StandardSet
from kb.tools.duedates.services import (
    compute,
    compute_chain,
    list_standards,
    policy_set,
    save_set,
    save_standard,
)
from tests.conftest import user_named


def _two_step_set(manager, key="code", region=None, in_force=True):
    chosen = StandardSet(key=key, label=f"Set {key}", region=region, in_force=in_force)
    db.session.add(chosen)
    db.session.flush()
    save_standard(None, user=manager, standard_set=chosen, key=f"{key}-ack",
                  label="Acknowledge", channel="Complaints", rule="working_days", amount=5,
                  event="acknowledged", promise="acknowledge your complaint")
    save_standard(None, user=manager, standard_set=chosen, key=f"{key}-reply",
                  label="Reply", channel="Complaints", rule="working_days", amount=10,
                  counts_from=f"{key}-ack", extension_days=10,
                  extension_note="Only with a good reason, told to the resident",
                  promise="reply to your complaint")
    return chosen


def test_a_chain_counts_from_the_step_before_when_nothing_is_recorded(app):
    with app.app_context():
        _two_step_set(user_named("manager"))
        chain = compute_chain("code-reply", now=datetime(2026, 8, 29, 10, 0))
        ack, reply = chain.steps
        # Saturday 29 August 2026; Monday 31st is a bank holiday: ack day 5 is Monday
        # 7 September, and the reply's day 10 counts on from there.
        assert ack.result.due.date().isoformat() == "2026-09-07"
        assert not reply.recorded and reply.start_event == "acknowledged"
        assert reply.result.due.date().isoformat() == "2026-09-21"
        assert reply.result.extended.date().isoformat() == "2026-10-05"
        assert chain.inputs == ["received", "acknowledged"]


def test_a_recorded_acknowledgement_moves_the_reply(app):
    with app.app_context():
        _two_step_set(user_named("manager"))
        chain = compute_chain("code-reply", {"acknowledged": datetime(2026, 9, 1, 9, 0)},
                              now=datetime(2026, 8, 29, 10, 0))
        ack, reply = chain.steps
        assert ack.done is not None and not ack.late
        assert reply.recorded
        assert reply.result.due.date().isoformat() == "2026-09-15"


def test_a_set_follows_its_own_bank_holidays(app):
    with app.app_context():
        _two_step_set(user_named("manager"), key="scot", region="SCT")
        # 30 November 2026 is St Andrew's Day (Monday) in Scotland only.
        scot = compute("scot-ack", datetime(2026, 11, 27, 10, 0))
        email = compute("email", datetime(2026, 11, 27, 10, 0))
        assert email.due.date().isoformat() == "2026-12-02"  # Mon, Tue, Wed in England
        assert scot.due.date().isoformat() == "2026-12-07"  # 5, less St Andrew's Day


def test_standards_of_a_set_out_of_force_are_not_offered(app):
    with app.app_context():
        manager = user_named("manager")
        chosen = _two_step_set(manager, in_force=False)
        assert "code-ack" not in {s.key for s in list_standards()}
        save_set(chosen, user=manager, label="Complaint Handling Code", region="ENG",
                 in_force=True)
        save_set(policy_set(), user=manager, label="Our policy", region=None, in_force=False)
        db.session.commit()
        keys = {s.key for s in list_standards()}
        assert "code-ack" in keys and "email" not in keys
        actions = db.session.scalars(db.select(AuditLog.action)).all()
        assert actions.count("standard_set.update") == 2
        with pytest.raises(DueDateError, match="stay in force"):
            save_set(chosen, user=manager, label="Complaint Handling Code", region="ENG",
                     in_force=False)


def test_loops_and_unknown_starts_are_refused(app):
    with app.app_context():
        manager = user_named("manager")
        _two_step_set(manager)
        from kb.tools.duedates.services import get_standard

        with pytest.raises(DueDateError, match="loop"):
            save_standard(get_standard("code-ack"), user=manager, counts_from="code-reply")
        with pytest.raises(DueDateError, match="nowhere"):
            save_standard(get_standard("code-ack"), user=manager, counts_from="nowhere")


def test_a_chained_standard_says_what_it_counts_from_in_words(app):
    with app.app_context():
        _two_step_set(user_named("manager"))
        from kb.tools.duedates.services import get_rule

        assert get_rule("code-reply").describe() == (
            "within 10 working days of the acknowledgement")
        assert get_rule("complaint-stage-2").describe() == (
            "within 20 working days of the request to escalate")
