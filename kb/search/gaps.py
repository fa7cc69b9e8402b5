"""Knowledge gaps: an agent tells the knowledge team that search did not find what a
caller needed. Recorded here, from the search page; read and resolved in kb.analytics."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from kb.core.clock import local_date, to_utc
from kb.core.errors import Invalid, NotFound
from kb.core.permissions import require
from kb.extensions import db
from kb.models import KnowledgeGap, SearchLog, User, utcnow
from kb.search.query import MAX_QUERY_CHARS

MAX_NOTE_CHARS = 1000


class GapNotFound(NotFound):
    """No such report, or not one of this user's."""


def tidy_query(query: str) -> str:
    """A query as search logs it: no NUL, runs of spaces as one, at most what search reads."""
    return " ".join(query.replace("\x00", "")[:MAX_QUERY_CHARS].split())


def _tidy_note(note: str) -> str:
    """The note as typed, without NULs, line endings made one kind, ends trimmed."""
    return note.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n").strip()


def _local_day(now: datetime) -> tuple[datetime, datetime]:
    """The centre-local calendar day holding ``now`` (UTC), as a UTC range."""
    day = local_date(now)
    start = to_utc(datetime.combine(day, time.min))
    return start, to_utc(datetime.combine(day + timedelta(days=1), time.min))


def reported_today(user: User, query: str, now: datetime | None = None) -> KnowledgeGap | None:
    """This user's report of this query today (centre-local day), if they made one."""
    query = tidy_query(query)
    if not query or user is None or not user.is_authenticated:
        return None
    start, end = _local_day(now or utcnow())
    return db.session.scalar(
        db.select(KnowledgeGap).where(
            KnowledgeGap.user_id == user.id,
            db.func.lower(KnowledgeGap.query) == query.lower(),
            KnowledgeGap.created_at >= start, KnowledgeGap.created_at < end,
        ).order_by(KnowledgeGap.id).limit(1)
    )


def _own_search(user: User, log_id: int | None, query: str) -> int | None:
    """``log_id`` when it is this user's search for this query, else None."""
    if log_id is None:
        return None
    found = db.session.scalar(
        db.select(SearchLog.id).where(SearchLog.id == log_id, SearchLog.user_id == user.id,
                                      db.func.lower(SearchLog.query) == query.lower())
    )
    return found


def report_gap(user: User, query: str, note: str = "", search_log_id: int | None = None,
               now: datetime | None = None) -> tuple[KnowledgeGap, bool]:
    """Record that ``query`` did not find what the caller needed; returns (gap, created).

    The same person reporting the same query again on the same day records nothing new:
    their first report stands. Raises Invalid for an empty query or a note that is too
    long (nothing is recorded then). Flushes; the caller commits.
    """
    require(user, "agent", "Sign in to tell the knowledge team.")
    query = tidy_query(query)
    if not query:
        raise Invalid("q", "There is no search to report: search first, then tell the "
                           "knowledge team if nothing helped.")
    note = _tidy_note(note)
    if len(note) > MAX_NOTE_CHARS:
        raise Invalid("note", f"The note can be up to {MAX_NOTE_CHARS:,} characters; this one "
                              f"has {len(note):,}. Shorten it and send it again: nothing was "
                              "sent yet.")
    now = now or utcnow()
    earlier = reported_today(user, query, now)
    if earlier is not None:
        return earlier, False
    gap = KnowledgeGap(query=query, note=note, user_id=user.id,
                       search_log_id=_own_search(user, search_log_id, query), created_at=now)
    db.session.add(gap)
    db.session.flush()
    return gap, True


def own_gap(user: User, gap_id: int) -> KnowledgeGap:
    """One report, for the person who sent it or a manager (who sees every report in the
    search analytics); GapNotFound for other agents, as if it did not exist."""
    gap = db.session.get(KnowledgeGap, gap_id)
    if gap is None or user is None or not user.is_authenticated:
        raise GapNotFound(gap_id)
    if gap.user_id != user.id and not user.has_role("manager"):
        raise GapNotFound(gap_id)
    return gap
