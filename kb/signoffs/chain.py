"""The hash chains over the evidence tables (sign-offs, countersignatures): appending under
a lock, and verifying. Each table is a chain of its own, hashed the same way."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import func, text

from kb.extensions import db
from kb.models import AuditLog
from kb.signoffs.models import GENESIS_HASH, Countersignature, SignOff

# The fields a sign-off's hash covers, in this order (with the previous record's hash).
HASHED_FIELDS = (
    "seq", "user_id", "kind", "article_id", "version_id", "version_number", "content_sha256",
    "typed_name", "meaning", "signed_at", "client_address", "user_agent", "answers",
)
# The fields a countersignature's hash covers (with the previous countersignature's hash).
COUNTERSIGN_HASHED_FIELDS = (
    "seq", "signoff_id", "countersigner_id", "typed_name", "meaning", "countersigned_at",
    "client_address", "user_agent",
)
# Any fixed numbers: the keys of the PostgreSQL advisory locks that serialise appends, one
# per chain (countersigning does not wait for signing there).
ADVISORY_LOCK_KEY = 7_310_001
COUNTERSIGN_LOCK_KEY = 7_310_002


@dataclass(frozen=True)
class Chain:
    """One append-only table chained by hash: what it hashes, how it locks, what audits it."""

    name: str  # as the verifier prints it: "Sign-off"
    model: type
    fields: tuple[str, ...]
    time_field: str  # the hashed timestamp, written as ISO seconds
    lock_key: int
    audit_action: str  # written in the same transaction as each record
    noun: str  # what the audit trail counts: "signatures"


SIGNOFFS = Chain("Sign-off", SignOff, HASHED_FIELDS, "signed_at", ADVISORY_LOCK_KEY,
                 "signoff.recorded", "signatures")
COUNTERSIGNATURES = Chain("Countersignature", Countersignature, COUNTERSIGN_HASHED_FIELDS,
                          "countersigned_at", COUNTERSIGN_LOCK_KEY, "signoff.countersigned",
                          "countersignatures")
CHAINS = (SIGNOFFS, COUNTERSIGNATURES)


def chain_of(record) -> Chain:
    """The chain ``record`` belongs to (by its model)."""
    for which in CHAINS:
        if isinstance(record, which.model):
            return which
    raise TypeError(f"{type(record).__name__} is not chained")


def canonical(record, prev_hash: str) -> str:
    """The record as canonical JSON (sorted keys, no spaces, ISO time): what is hashed."""
    which = chain_of(record)
    values = {name: getattr(record, name) for name in which.fields}
    # How the signer re-authenticated is hashed when it was kept: records from before it
    # existed (None) keep the hash they were made with.
    if getattr(record, "reauth", None) is not None:
        values["reauth"] = record.reauth
    values[which.time_field] = getattr(record, which.time_field).strftime("%Y-%m-%dT%H:%M:%S")
    values["prev_hash"] = prev_hash
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def record_hash(record, prev_hash: str) -> str:
    """The SHA-256 of the record's canonical form chained to ``prev_hash``."""
    return hashlib.sha256(canonical(record, prev_hash).encode("utf-8")).hexdigest()


def lock_chain(which: Chain = SIGNOFFS) -> None:
    """Hold the chain's write lock until the transaction ends, so the tail read next is
    still the tail when the new record is inserted.

    PostgreSQL: a transaction-level advisory lock, one key per chain. SQLite has one write
    lock for the whole database: ``BEGIN IMMEDIATE`` takes it as the transaction opens, and
    a second writer waits there (busy_timeout) until the first commits, and only then reads
    the tail. pysqlite (legacy transaction control, Python's default) opens a transaction
    itself only before an INSERT, UPDATE or DELETE, and that statement took the write lock;
    so a connection already in a transaction (a batch's second record) holds it already.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": which.lock_key})
        return
    connection = db.session.connection()
    if not connection.connection.dbapi_connection.in_transaction:
        # pysqlite sees the open transaction (sqlite3_get_autocommit) and issues no BEGIN
        # of its own; the session's commit or rollback ends it as usual.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def append(record):
    """Number and hash ``record`` after its chain's tail and add it (flushed; the caller
    commits). Raises IntegrityError when a unique rule refuses it (already signed, already
    countersigned)."""
    which = chain_of(record)
    lock_chain(which)
    model = which.model
    tail = db.session.execute(
        db.select(model.seq, model.record_hash).order_by(model.seq.desc()).limit(1)
    ).first()
    record.seq = (tail.seq if tail else 0) + 1
    record.prev_hash = tail.record_hash if tail else GENESIS_HASH
    record.record_hash = record_hash(record, record.prev_hash)
    db.session.add(record)
    db.session.flush()
    return record


@dataclass(frozen=True)
class Break:
    """One place the chain does not hold: the record and what is wrong with it."""

    record_id: int
    seq: int
    problem: str

    def __str__(self) -> str:
        """How the verifier prints it."""
        if not self.record_id:
            return f"after position {self.seq - 1}: {self.problem}"
        return f"record {self.record_id} (position {self.seq}): {self.problem}"


def verify(batch: int = 1000, which: Chain = SIGNOFFS) -> tuple[int, list[Break]]:
    """Recompute one whole chain in order; returns (records checked, breaks found)."""
    breaks: list[Break] = []
    expected_prev, expected_seq, count = GENESIS_HASH, 1, 0
    model = which.model
    query = db.select(model).order_by(model.seq).execution_options(yield_per=batch)
    for record in db.session.scalars(query):
        count += 1
        if record.seq != expected_seq:
            breaks.append(Break(record.id, record.seq,
                                f"gap: position {expected_seq} expected, "
                                f"{record.seq - expected_seq} record(s) missing before it"))
        if record.prev_hash != expected_prev:
            breaks.append(Break(record.id, record.seq,
                                "previous-hash mismatch: it does not name the record "
                                "before it"))
        if record.record_hash != record_hash(record, record.prev_hash):
            breaks.append(Break(record.id, record.seq,
                                "hash mismatch: its fields were changed after signing"))
        expected_prev, expected_seq = record.record_hash, record.seq + 1
    # The chain cannot show its own newest records removed; the audit trail, written in
    # the same transaction as each record, still counts them.
    audited = db.session.scalar(
        db.select(func.count(AuditLog.id)).where(AuditLog.action == which.audit_action)
    ) or 0
    if audited > count:
        breaks.append(Break(0, expected_seq,
                            f"missing records: the audit trail has {audited} {which.noun}, "
                            f"the table {count}"))
    return count, breaks


def verify_all(batch: int = 1000) -> list[tuple[Chain, int, list[Break]]]:
    """Verify every chain: (chain, records checked, breaks) for each."""
    return [(which, *verify(batch, which)) for which in CHAINS]
