"""Reported gaps: what agents told the knowledge team search did not find (recorded by
kb.search.gaps from the search page), grouped by query, and marked resolved by managers."""

from __future__ import annotations

from datetime import datetime

from kb.analytics.services import LIMIT, Row, Window
from kb.core import audit
from kb.core.clock import format_local
from kb.core.errors import Invalid
from kb.core.permissions import require
from kb.extensions import db
from kb.models import KnowledgeGap, User, utcnow

MAX_NOTES = 10  # notes shown per query (the newest); the CSV has the same ones
MAX_KEY_CHARS = 500


def _key():
    """A reported query as the report groups it: lower-cased (spaces already tidied)."""
    return db.func.lower(KnowledgeGap.query)


def reported_gaps(user: User | None, win: Window | None = None, limit: int = LIMIT) -> list[Row]:
    """Open reports (not yet resolved, whenever made), one row per query: how many people
    reported it, how many times, first and last reported, and their notes.

    The period does not apply: an open gap stays on the list until a manager resolves it.
    """
    require(user, "manager", "Only managers see search analytics.")
    key = _key()
    people = db.func.count(db.distinct(KnowledgeGap.user_id))
    first, last = db.func.min(KnowledgeGap.created_at), db.func.max(KnowledgeGap.created_at)
    rows = db.session.execute(
        db.select(key, people, db.func.count(KnowledgeGap.id), first, last)
        .where(KnowledgeGap.resolved_at.is_(None))
        .group_by(key).order_by(people.desc(), last.desc(), key).limit(limit)
    ).all()
    notes: dict[str, list[str]] = {}
    if rows:
        for query, note in db.session.execute(
            db.select(key, KnowledgeGap.note)
            .where(KnowledgeGap.resolved_at.is_(None), KnowledgeGap.note != "",
                   key.in_([r[0] for r in rows]))
            .order_by(KnowledgeGap.created_at.desc(), KnowledgeGap.id.desc())
        ):
            kept = notes.setdefault(query, [])
            if len(kept) < MAX_NOTES and note not in kept:
                kept.append(note)
    return [Row(q, int(n), {"reports": int(r), "first": f, "last": la,
                            "first_text": format_local(f), "last_text": format_local(la),
                            "notes": notes.get(q, [])})
            for q, n, r, f, la in rows]


def resolve_gap(user: User | None, query: str, now: datetime | None = None) -> int:
    """Mark every open report of ``query`` (any case) resolved by ``user``; returns how many
    there were (0 when someone resolved them first). Flushes; the caller commits."""
    require(user, "manager", "Only managers resolve reported gaps.")
    key = " ".join((query or "").split()).lower()
    if not key or len(key) > MAX_KEY_CHARS:
        raise Invalid("query", "Choose a reported gap to mark resolved.")
    now = now or utcnow()
    open_rows = db.session.scalars(
        db.select(KnowledgeGap).where(_key() == key, KnowledgeGap.resolved_at.is_(None))
    ).all()
    for gap in open_rows:
        gap.resolved_at, gap.resolved_by_id = now, user.id
    if open_rows:
        db.session.flush()
        audit.record(user, "knowledge_gap.resolved", open_rows[0],
                     {"query": key, "reports": len(open_rows)}, label=key[:200])
    return len(open_rows)
