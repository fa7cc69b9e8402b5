"""Reading the audit log: filters, pages, readable rows and the CSV export (managers).

Rows are written only by ``kb.core.audit.record``; nothing here (or anywhere) changes one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, func, or_

from kb.bounds import MAX_ID
from kb.core.clock import format_local, to_local, to_utc
from kb.core.errors import NotFound
from kb.core.permissions import require
from kb.core.spreadsheet import csv_line
from kb.extensions import db
from kb.models import Article, AuditLog, CallScript, User

PER_PAGE = 50
# The "who" filter's value for rows no signed-in person made (imports, failed sign-ins).
NOBODY = "none"
# Dates a person could mean; outside them the day arithmetic would overflow.
MIN_YEAR, MAX_YEAR = 1900, 2999
TEXT_MAX = 200
CSV_HEADER = ("time (local)", "who", "action", "target type", "target id", "target",
              "detail", "detail (JSON)")


class AuditPageNotFound(NotFound):
    """A page number past the last page of the filtered rows."""


@dataclass
class AuditFilter:
    """What the audit page is narrowed to; None means "any"."""

    user: int | str | None = None  # a user id, or NOBODY
    action: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    target_type: str | None = None
    target: str | None = None

    def as_args(self) -> dict[str, str]:
        """The query-string form, for page and export links."""
        values = {"user": self.user, "action": self.action, "target_type": self.target_type,
                  "target": self.target,
                  "from": self.date_from.isoformat() if self.date_from else None,
                  "to": self.date_to.isoformat() if self.date_to else None}
        return {key: str(value) for key, value in values.items() if value not in (None, "")}


def _parse_date(raw: str) -> date | None:
    """A date typed as YYYY-MM-DD (the date picker) or DD/MM/YYYY; None if it is not one."""
    raw = raw.strip()
    try:
        if "/" in raw:
            day, month, year = (int(part) for part in raw.split("/"))
            value = date(year, month, day)
        else:
            value = date.fromisoformat(raw)
    except (ValueError, TypeError):
        return None
    return value if MIN_YEAR <= value.year <= MAX_YEAR else None


def parse_filters(args: Mapping[str, str]) -> tuple[AuditFilter, list[str]]:
    """The filters in a query string, and a message for each value that was ignored."""
    found, problems = AuditFilter(), []
    user = (args.get("user") or "").strip()
    if user == NOBODY:
        found.user = NOBODY
    elif user:
        if user.isdigit() and len(user) <= 10 and 1 <= int(user) <= MAX_ID:
            found.user = int(user)
        else:
            problems.append("The person filter was not a user, so it was ignored.")
    for name, attr, label in (("from", "date_from", "From"), ("to", "date_to", "To")):
        raw = (args.get(name) or "").strip()
        if not raw:
            continue
        value = _parse_date(raw[:40])
        if value is None:
            problems.append(f"“{raw[:40]}” is not a date (use the date picker or "
                            f"YYYY-MM-DD), so the {label} date was ignored.")
        setattr(found, attr, value)
    if found.date_from and found.date_to and found.date_from > found.date_to:
        problems.append("The From date is after the To date, so both were ignored.")
        found.date_from = found.date_to = None
    for name in ("action", "target_type", "target"):
        value = (args.get(name) or "").strip()[:TEXT_MAX]
        setattr(found, name, value or None)
    return found, problems


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def audit_select(filters: AuditFilter):
    """The audit rows matching ``filters``, newest first (a select of AuditLog)."""
    query = db.select(AuditLog)
    if filters.user == NOBODY:
        query = query.where(AuditLog.user_id.is_(None))
    elif filters.user is not None:
        query = query.where(AuditLog.user_id == filters.user)
    if filters.action:
        query = query.where(AuditLog.action == filters.action)
    # Local days: "from 1 March" starts at local midnight, "to 1 March" includes all of it.
    if filters.date_from:
        query = query.where(AuditLog.created_at >= to_utc(datetime.combine(filters.date_from,
                                                                           time.min)))
    if filters.date_to:
        end = datetime.combine(filters.date_to + timedelta(days=1), time.min)
        query = query.where(AuditLog.created_at < to_utc(end))
    if filters.target_type:
        query = query.where(AuditLog.target_type == filters.target_type)
    if filters.target:
        pattern = f"%{_escape_like(filters.target.lower())}%"
        query = query.where(or_(AuditLog.target_id == filters.target,
                                func.lower(AuditLog.target).like(pattern, escape="\\")))
    return query.order_by(AuditLog.created_at.desc(), AuditLog.id.desc())


@dataclass
class FilterChoices:
    """The values the filter selects offer: only what the log holds."""

    users: list[User] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    target_types: list[str] = field(default_factory=list)


def filter_choices() -> FilterChoices:
    """The people, actions and target types present in the audit log."""
    users = db.session.scalars(
        db.select(User).where(User.id.in_(db.select(AuditLog.user_id).distinct()))
        .order_by(User.username)
    ).all()
    actions = db.session.scalars(
        db.select(AuditLog.action).distinct().order_by(AuditLog.action)).all()
    kinds = db.session.scalars(
        db.select(AuditLog.target_type).where(AuditLog.target_type != "").distinct()
        .order_by(AuditLog.target_type)).all()
    return FilterChoices(list(users), list(actions), list(kinds))


@dataclass
class AuditRow:
    """One audit row as the page shows it."""

    row: AuditLog
    who: str
    detail: str
    link: tuple[str, str] | None  # (endpoint, slug) when the target is a document


def audit_page(user: User | None, filters: AuditFilter, page: int = 1,
               per_page: int = PER_PAGE):
    """One page of matching rows (a Flask-SQLAlchemy Pagination whose ``items`` are
    AuditRow). Managers only; raises AuditPageNotFound past the last page."""
    require(user, "manager", "Only managers can read the audit log.")
    pagination = db.paginate(audit_select(filters), page=page, per_page=per_page,
                             error_out=False)
    if page > max(pagination.pages, 1):
        raise AuditPageNotFound(page)
    pagination.items = readable(pagination.items)
    return pagination


def readable(rows: list[AuditLog]) -> list[AuditRow]:
    """Rows with their author's name, a readable detail and a link to the document."""
    user_ids = {row.user_id for row in rows if row.user_id is not None}
    names = {u.id: u for u in db.session.scalars(
        db.select(User).where(User.id.in_(user_ids)))} if user_ids else {}
    links = _document_links(rows)
    out = []
    for row in rows:
        person = names.get(row.user_id)
        who = f"{person.display_name} ({person.username})" if person else (
            "Deleted user" if row.user_id is not None else "Not signed in / system")
        out.append(AuditRow(row, who, describe(row.detail),
                            links.get((row.target_type, row.target_id))))
    return out


def _document_links(rows: list[AuditLog]) -> dict[tuple[str, str], tuple[str, str]]:
    """(target_type, target_id) -> (endpoint, current slug) for articles and call scripts."""
    links: dict[tuple[str, str], tuple[str, str]] = {}
    for kind, model, endpoint in (("article", Article, "articles.article"),
                                  ("call_script", CallScript, "callscripts.start")):
        ids = {int(row.target_id) for row in rows
               if row.target_type == kind and row.target_id.isdigit()
               and int(row.target_id) <= MAX_ID}
        if ids:
            for ident, slug in db.session.execute(
                    db.select(model.id, model.slug).where(model.id.in_(ids))):
                links[(kind, str(ident))] = (endpoint, slug)
    return links


def _short(value: object, limit: int = 80) -> str:
    """A value in a few characters: text as is, anything else as JSON."""
    if value is None:
        return "(none)"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False,
                                                            default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe(detail: dict | None, limit: int = 400) -> str:
    """An audit detail in words: the version, field changes as before → after, diff
    counts, then any other values."""
    if not detail:
        return ""
    detail = dict(detail) if isinstance(detail, dict) else {"detail": detail}
    parts = []
    if detail.get("version") is not None:
        parts.append(f"version {detail.pop('version')}")
    else:
        detail.pop("version", None)
    before, after = detail.pop("before", None), detail.pop("after", None)
    if isinstance(before, dict) or isinstance(after, dict):
        before, after = before or {}, after or {}
        for key in list(dict.fromkeys([*before, *after])):
            parts.append(f"{key}: {_short(before.get(key))} → {_short(after.get(key))}")
    elif before is not None or after is not None:
        parts.append(f"{_short(before)} → {_short(after)}")
    diff = detail.pop("diff", None)
    if isinstance(diff, list):
        added = sum(1 for line in diff if str(line).startswith("+"))
        removed = sum(1 for line in diff if str(line).startswith("-"))
        shown = "; ".join(_short(line, 60) for line in diff[:3])
        parts.append(f"{added} line{'s' if added != 1 else ''} added, {removed} removed"
                     + (f": {shown}" if shown else ""))
    detail.pop("sha256", None)  # a fingerprint, not something people read
    for key, value in detail.items():
        if value not in (None, "", [], {}):
            parts.append(f"{key.replace('_', ' ')}: {_short(value)}")
    text = "; ".join(parts)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- CSV -----------------------------------------------------------------------------


def export_csv(user: User | None, filters: AuditFilter, batch: int = 500) -> Iterator[str]:
    """The matching rows as CSV lines, header first, read from the database in batches
    (stream it). Managers only."""
    require(user, "manager", "Only managers can export the audit log.")
    yield csv_line(CSV_HEADER)
    query, last = audit_select(filters), None
    while True:
        page = query
        if last is not None:  # keyset: rows written during the export cannot shift pages
            page = page.where(or_(AuditLog.created_at < last.created_at,
                                  and_(AuditLog.created_at == last.created_at,
                                       AuditLog.id < last.id)))
        rows = db.session.scalars(page.limit(batch)).all()
        for item in readable(rows):
            row = item.row
            when = to_local(row.created_at).strftime("%Y-%m-%d %H:%M:%S")
            yield csv_line((when, item.who, row.action, row.target_type, row.target_id,
                             row.target, item.detail,
                             json.dumps(row.detail or {}, ensure_ascii=False, default=str)))
        if len(rows) < batch:
            return
        last = rows[-1]


def time_text(row: AuditLog) -> str:
    """When a row was written, in local time as people read it."""
    return format_local(row.created_at)
