"""The hash chain over sign-off records: appending under a lock, and verifying."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import func, text

from kb.extensions import db
from kb.models import AuditLog
from kb.signoffs.models import GENESIS_HASH, SignOff

# The fields a record's hash covers, in this order (with the previous record's hash).
HASHED_FIELDS = (
    "seq", "user_id", "kind", "article_id", "version_id", "version_number", "content_sha256",
    "typed_name", "meaning", "signed_at", "client_address", "user_agent", "answers",
)
# Any fixed number: the key of the PostgreSQL advisory lock that serialises appends.
ADVISORY_LOCK_KEY = 7_310_001


def canonical(record: SignOff, prev_hash: str) -> str:
    """The record as canonical JSON (sorted keys, no spaces, ISO time): what is hashed."""
    values = {name: getattr(record, name) for name in HASHED_FIELDS}
    values["signed_at"] = record.signed_at.strftime("%Y-%m-%dT%H:%M:%S")
    values["prev_hash"] = prev_hash
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def record_hash(record: SignOff, prev_hash: str) -> str:
    """The SHA-256 of the record's canonical form chained to ``prev_hash``."""
    return hashlib.sha256(canonical(record, prev_hash).encode("utf-8")).hexdigest()


def lock_chain() -> None:
    """Hold the chain's write lock until the transaction ends, so the tail read next is
    still the tail when this record is inserted.

    PostgreSQL: a transaction-level advisory lock. SQLite: a write statement that touches
    no row (the triggers fire per row, so none fires) makes pysqlite open the transaction
    and SQLite take its single write lock; a second writer waits (busy_timeout) until the
    first commits, and only then reads the tail.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                           {"key": ADVISORY_LOCK_KEY})
    else:
        db.session.execute(text("DELETE FROM signoffs WHERE 0 = 1"))


def append(record: SignOff) -> SignOff:
    """Number and hash ``record`` after the chain's tail and add it (flushed; the caller
    commits). Raises IntegrityError when the user has already signed this version."""
    lock_chain()
    tail = db.session.execute(
        db.select(SignOff.seq, SignOff.record_hash).order_by(SignOff.seq.desc()).limit(1)
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


def verify(batch: int = 1000) -> tuple[int, list[Break]]:
    """Recompute the whole chain in order; returns (records checked, breaks found)."""
    breaks: list[Break] = []
    expected_prev, expected_seq, count = GENESIS_HASH, 1, 0
    query = db.select(SignOff).order_by(SignOff.seq).execution_options(yield_per=batch)
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
        db.select(func.count(AuditLog.id)).where(AuditLog.action == "signoff.recorded")
    ) or 0
    if audited > count:
        breaks.append(Break(0, expected_seq,
                            f"missing records: the audit trail has {audited} signatures, the "
                            f"table {count}"))
    return count, breaks
