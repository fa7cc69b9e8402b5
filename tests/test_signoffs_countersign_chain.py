"""Countersignatures as evidence: their own hash chain, the triggers, simultaneous
countersigning, and ``verify-signoffs`` finding tampering in either chain."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from kb.extensions import db
from kb.signoffs import chain
from kb.signoffs.countersign import AlreadyCountersigned
from kb.signoffs.models import GENESIS_HASH, Countersignature
from tests.countersign_helpers import countersign_as, countersignatures, sign_as, sign_everyone


@pytest.fixture
def signed(app, make_user):
    """Five signatures in two teams (see sign_everyone); {name: sign-off id}."""
    return sign_everyone(app, make_user)


def _three(signed) -> list[int]:
    """Three countersignatures, one per batch; returns their ids."""
    return [countersign_as(who, [signed[whose]])[0].id
            for who, whose in (("manager", "agent"), ("admin", "otto"),
                               ("manager", "newstarter"))]


def _drop_triggers() -> None:
    """What someone with direct database access could do first."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("DROP TRIGGER countersignatures_append_only "
                                "ON countersignatures"))
    else:
        db.session.execute(text("DROP TRIGGER countersignatures_refuse_update"))
        db.session.execute(text("DROP TRIGGER countersignatures_refuse_delete"))
    db.session.commit()


def test_each_countersignature_chains_to_the_one_before_in_a_chain_of_its_own(app, signed):
    with app.app_context():
        countersign_as("manager", [signed["agent"], signed["newstarter"]])
        countersign_as("admin", [signed["otto"]])
        records = countersignatures()
        assert [r.seq for r in records] == [1, 2, 3]  # the sign-offs are at 1..5: separate
        assert records[0].prev_hash == GENESIS_HASH
        assert [r.prev_hash for r in records[1:]] == [r.record_hash for r in records[:2]]
        assert all(r.record_hash == chain.record_hash(r, r.prev_hash) for r in records)
        # The hash covers the countersignature's own fields.
        assert '"countersigner_id":' in chain.canonical(records[0], GENESIS_HASH)
        assert '"countersigned_at":' in chain.canonical(records[0], GENESIS_HASH)


@pytest.mark.parametrize("statement", [
    "UPDATE countersignatures SET typed_name = 'Someone Else'",
    "DELETE FROM countersignatures",
])
def test_the_database_refuses_update_and_delete(app, signed, statement):
    with app.app_context():
        countersign_as("manager", [signed["agent"]])
        with pytest.raises(DBAPIError) as refused:
            db.session.execute(text(statement))
        db.session.rollback()
        assert "append-only" in str(refused.value)
        assert [r.typed_name for r in countersignatures()] == ["Morgan Manager"]


def test_the_application_refuses_to_change_or_delete_one(app, signed):
    with app.app_context():
        (record,) = countersign_as("manager", [signed["agent"]])
        record.typed_name = "Changed"
        with pytest.raises(RuntimeError, match="cannot be changed"):
            db.session.flush()
        db.session.rollback()
        db.session.delete(countersignatures()[0])
        with pytest.raises(RuntimeError, match="cannot be deleted"):
            db.session.flush()
        db.session.rollback()
        assert len(countersignatures()) == 1


def test_verify_checks_both_chains(app, runner, signed):
    result = runner.invoke(args=["verify-signoffs"])
    assert result.exit_code == 0, result.output
    assert "Sign-off chain intact: 5 records checked." in result.output
    assert "Countersignature chain intact: 0 records checked." in result.output
    with app.app_context():
        _three(signed)
    result = runner.invoke(args=["verify-signoffs"])
    assert result.exit_code == 0, result.output
    assert "Countersignature chain intact: 3 records checked." in result.output


def test_verify_finds_a_countersignature_changed_below_the_app(app, runner, signed):
    with app.app_context():
        ids = _three(signed)
        _drop_triggers()
        db.session.execute(text("UPDATE countersignatures SET countersigner_id = :who "
                                "WHERE id = :id"), {"who": ids[0], "id": ids[1]})
        db.session.commit()
    result = runner.invoke(args=["verify-signoffs"])
    assert result.exit_code == 1
    assert (f"BREAK in the countersignature chain: record {ids[1]} (position 2): "
            "hash mismatch") in result.output
    assert "Countersignature chain broken: 1 problem in 3 records." in result.output
    assert "Sign-off chain intact: 5 records checked." in result.output


def test_verify_finds_a_rehashed_countersignature_by_the_next_ones_link(app, runner, signed):
    with app.app_context():
        ids = _three(signed)
        _drop_triggers()
        record = db.session.get(Countersignature, ids[1])
        record.typed_name = "Someone Else"
        forged = chain.record_hash(record, record.prev_hash)
        db.session.expunge(record)
        db.session.execute(text("UPDATE countersignatures SET typed_name = 'Someone Else', "
                                "record_hash = :h WHERE id = :id"), {"h": forged, "id": ids[1]})
        db.session.commit()
    result = runner.invoke(args=["verify-signoffs"])
    assert result.exit_code == 1
    assert (f"countersignature chain: record {ids[2]} (position 3): previous-hash mismatch"
            in result.output)
    assert "hash mismatch: its fields" not in result.output


def test_verify_finds_a_deleted_countersignature_as_a_gap(app, runner, signed):
    with app.app_context():
        ids = _three(signed)
        _drop_triggers()
        db.session.execute(text("DELETE FROM countersignatures WHERE id = :id"),
                           {"id": ids[1]})
        db.session.commit()
    result = runner.invoke(args=["verify-signoffs"])
    assert result.exit_code == 1
    assert f"record {ids[2]} (position 3): gap: position 2 expected" in result.output


def test_verify_finds_the_newest_countersignature_removed_by_the_audit_trail(
        app, runner, signed):
    with app.app_context():
        ids = _three(signed)
        _drop_triggers()
        db.session.execute(text("DELETE FROM countersignatures WHERE id = :id"),
                           {"id": ids[2]})
        db.session.commit()
    result = runner.invoke(args=["verify-signoffs"])
    assert result.exit_code == 1
    assert ("BREAK in the countersignature chain: after position 2: missing records: the "
            "audit trail has 3 countersignatures, the table 2") in result.output


def _in_threads(app, jobs: list) -> list[str]:
    """Run each job (a function) at the same moment, one thread and session each; returns
    what each ended with ("done", "already", or the error)."""
    barrier = threading.Barrier(len(jobs))
    outcomes: list[str] = []

    def run(job) -> None:
        with app.app_context():
            barrier.wait()
            try:
                job()
                outcomes.append("done")
            except AlreadyCountersigned:
                db.session.rollback()
                outcomes.append("already")
            except Exception as error:  # noqa: BLE001 - reported by the assertion
                db.session.rollback()
                outcomes.append(repr(error))

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


def test_simultaneous_countersigning_and_signing_keep_both_chains_unbroken(
        app, runner, signed, make_user):
    for n in range(3):
        make_user(f"late{n}", display_name=f"Late Signer{n}")
    jobs = [lambda: countersign_as("manager", [signed["agent"]]),
            lambda: countersign_as("manager", [signed["newstarter"]]),
            lambda: countersign_as("admin", [signed["otto"]]),
            lambda: countersign_as("admin", [signed["manager"]])]
    jobs += [lambda n=n: sign_as(f"late{n}") for n in range(3)]
    outcomes = _in_threads(app, jobs)
    assert outcomes == ["done"] * len(jobs)
    with app.app_context():
        assert [r.seq for r in countersignatures()] == [1, 2, 3, 4]
    result = runner.invoke(args=["verify-signoffs"])
    assert result.exit_code == 0, result.output
    assert "Sign-off chain intact: 8 records checked." in result.output
    assert "Countersignature chain intact: 4 records checked." in result.output


def test_a_simultaneous_double_submit_records_one(app, signed):
    both = [signed["agent"], signed["newstarter"]]
    outcomes = _in_threads(app, [lambda: countersign_as("manager", both)] * 4)
    assert sorted(outcomes) == ["already"] * 3 + ["done"]
    with app.app_context():
        assert sorted(r.signoff_id for r in countersignatures()) == sorted(both)
        assert [r.seq for r in countersignatures()] == [1, 2]
