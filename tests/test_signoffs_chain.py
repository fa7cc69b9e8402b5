"""Sign-off records as evidence: triggers refuse UPDATE and DELETE, the hash chain holds
under simultaneous signing, and ``verify-signoffs`` finds tampering below the app."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from kb.extensions import db
from kb.models import Article
from kb.signoffs import chain
from kb.signoffs.models import GENESIS_HASH, SignOff
from kb.signoffs.services import AlreadySigned, Submission, sign
from tests.signoff_helpers import standard, user

PEOPLE = [(f"signer{n}", f"Signer Number{n}") for n in range(6)]


@pytest.fixture
def signers(app, make_user):
    """Six agents and one standard; returns the standard's slug."""
    for username, name in PEOPLE:
        make_user(username, display_name=name)
    with app.app_context():
        standard("greeting", "Answer within 20 seconds.")
        db.session.commit()
    return "greeting"


def _sign_as(username: str, slug: str = "greeting"):
    """Sign the current version as ``username`` (password pw-<username>) and commit."""
    who = user(username)
    article = db.session.scalar(db.select(Article).filter_by(slug=slug))
    record = sign(slug, who, Submission(
        user_id=str(who.id), version_number=str(article.current_version.number),
        content_sha256=article.current_version.sha256, typed_name=who.display_name,
        password="pw-" + username, understood=True), address="127.0.0.1", user_agent="t")
    db.session.commit()
    return record


def _records() -> list[SignOff]:
    return list(db.session.scalars(db.select(SignOff).order_by(SignOff.seq)))


def _drop_triggers() -> None:
    """What someone with direct database access could do first."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("DROP TRIGGER signoffs_append_only ON signoffs"))
    else:
        db.session.execute(text("DROP TRIGGER signoffs_refuse_update"))
        db.session.execute(text("DROP TRIGGER signoffs_refuse_delete"))
    db.session.commit()


def test_each_record_chains_to_the_one_before(app, signers):
    with app.app_context():
        for username, _ in PEOPLE[:3]:
            _sign_as(username)
        records = _records()
        assert [r.seq for r in records] == [1, 2, 3]
        assert records[0].prev_hash == GENESIS_HASH
        assert [r.prev_hash for r in records[1:]] == [r.record_hash for r in records[:2]]
        assert all(r.record_hash == chain.record_hash(r, r.prev_hash) for r in records)


@pytest.mark.parametrize("statement", [
    "UPDATE signoffs SET typed_name = 'Someone Else'",
    "DELETE FROM signoffs",
])
def test_the_database_refuses_update_and_delete(app, signers, statement):
    with app.app_context():
        _sign_as("signer0")
        with pytest.raises(DBAPIError) as refused:
            db.session.execute(text(statement))
        db.session.rollback()
        assert "append-only" in str(refused.value)
        assert [r.typed_name for r in _records()] == ["Signer Number0"]


def test_the_application_refuses_to_change_or_delete_a_record(app, signers):
    with app.app_context():
        record = _sign_as("signer0")
        record.typed_name = "Changed"
        with pytest.raises(RuntimeError, match="cannot be changed"):
            db.session.flush()
        db.session.rollback()
        db.session.delete(_records()[0])
        with pytest.raises(RuntimeError, match="cannot be deleted"):
            db.session.flush()
        db.session.rollback()
        assert len(_records()) == 1


def test_verify_reports_an_intact_chain(app, runner, signers):
    result = runner.invoke(args=["verify-signoffs"])
    assert result.exit_code == 0 and "0 records checked" in result.output
    with app.app_context():
        for username, _ in PEOPLE[:3]:
            _sign_as(username)
    result = runner.invoke(args=["verify-signoffs"])
    assert result.exit_code == 0, result.output
    assert "Sign-off chain intact: 3 records checked." in result.output


def test_verify_finds_a_field_changed_below_the_app(app, runner, signers):
    with app.app_context():
        ids = [_sign_as(username).id for username, _ in PEOPLE[:3]]
        _drop_triggers()
        db.session.execute(text("UPDATE signoffs SET typed_name = 'Someone Else' "
                                "WHERE id = :id"), {"id": ids[1]})
        db.session.commit()
    result = runner.invoke(args=["verify-signoffs"])
    assert result.exit_code == 1
    assert f"record {ids[1]} (position 2): hash mismatch" in result.output
    assert "1 problem in 3 records" in result.output


def test_verify_finds_a_rehashed_record_by_the_next_ones_link(app, runner, signers):
    with app.app_context():
        ids = [_sign_as(username).id for username, _ in PEOPLE[:3]]
        _drop_triggers()
        # A careful forger also recomputes the changed record's own hash...
        record = db.session.get(SignOff, ids[1])
        record.typed_name = "Someone Else"
        forged = chain.record_hash(record, record.prev_hash)
        db.session.expunge(record)
        db.session.execute(text("UPDATE signoffs SET typed_name = 'Someone Else', "
                                "record_hash = :h WHERE id = :id"), {"h": forged, "id": ids[1]})
        db.session.commit()
    result = runner.invoke(args=["verify-signoffs"])
    # ...but the record after it still names the original.
    assert result.exit_code == 1
    assert f"record {ids[2]} (position 3): previous-hash mismatch" in result.output
    assert "hash mismatch: its fields" not in result.output


def test_verify_finds_a_deleted_record_as_a_gap(app, runner, signers):
    with app.app_context():
        ids = [_sign_as(username).id for username, _ in PEOPLE[:3]]
        _drop_triggers()
        db.session.execute(text("DELETE FROM signoffs WHERE id = :id"), {"id": ids[1]})
        db.session.commit()
    result = runner.invoke(args=["verify-signoffs"])
    assert result.exit_code == 1
    assert f"record {ids[2]} (position 3): gap: position 2 expected" in result.output
    assert f"record {ids[2]} (position 3): previous-hash mismatch" in result.output


def _in_threads(app, usernames: list[str]) -> list[str]:
    """Sign as each of ``usernames`` at the same moment, one thread each; returns what
    each thread ended with ("signed", "already", or the error)."""
    barrier = threading.Barrier(len(usernames))
    outcomes: list[str] = []

    def run(username: str) -> None:
        with app.app_context():
            barrier.wait()
            try:
                _sign_as(username)
                outcomes.append("signed")
            except AlreadySigned:
                db.session.rollback()
                outcomes.append("already")
            except Exception as error:  # noqa: BLE001 - reported by the assertion
                db.session.rollback()
                outcomes.append(repr(error))

    threads = [threading.Thread(target=run, args=(name,)) for name in usernames]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


def test_simultaneous_signatures_keep_one_unbroken_chain(app, runner, signers):
    outcomes = _in_threads(app, [username for username, _ in PEOPLE])
    assert outcomes == ["signed"] * len(PEOPLE)
    with app.app_context():
        assert [r.seq for r in _records()] == list(range(1, len(PEOPLE) + 1))
    result = runner.invoke(args=["verify-signoffs"])
    assert result.exit_code == 0, result.output


def test_a_simultaneous_double_submit_records_one(app, signers):
    outcomes = _in_threads(app, ["signer0"] * 4)
    assert sorted(outcomes) == ["already"] * 3 + ["signed"]
    with app.app_context():
        assert len(_records()) == 1


def test_verify_finds_the_newest_record_removed_by_the_audit_trail(app, runner, signers):
    with app.app_context():
        ids = [_sign_as(username).id for username, _ in PEOPLE[:3]]
        _drop_triggers()
        db.session.execute(text("DELETE FROM signoffs WHERE id = :id"), {"id": ids[2]})
        db.session.commit()
    result = runner.invoke(args=["verify-signoffs"])
    assert result.exit_code == 1
    assert ("after position 2: missing records: the audit trail has 3 signatures, the "
            "table 2") in result.output
