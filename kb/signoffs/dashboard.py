"""Managers' view of sign-offs: the people × documents grid with completion figures, one
person's whole history, and the register of every signature (CSV).

Each view costs a fixed number of queries whatever the number of people and documents:
documents, people, their signatures with the countersigned flag (and, for a person, their
signatures and reminders). The cells are worked out in Python from those sets.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kb.core.errors import NotAllowed, NotFound
from kb.core.permissions import require
from kb.core.spreadsheet import csv_line
from kb.extensions import db
from kb.models import ROLES, Article, Team, User, utcnow
from kb.signoffs import status
from kb.signoffs.models import Countersignature, Reminder, SignOff

# Worst last: the order of the legend and the summary.
STATES = ("current", "awaiting_countersign", "outdated", "missing", "overdue")
SIGNED = ("current", "awaiting_countersign")  # counted as done for completion
LABELS = {
    "current": "Current",
    "awaiting_countersign": "Awaiting countersign",
    "outdated": "Outdated",
    "missing": "Missing",
    "overdue": "Overdue",
}
MEANINGS = {
    "current": "Signed the latest material version, and countersigned.",
    "awaiting_countersign": "Signed the latest material version; no manager has "
                            "countersigned it yet.",
    "outdated": "Signed an earlier version; the standard has changed materially since.",
    "missing": "Never signed.",
    "overdue": "Outdated or missing, and past its due date.",
}
REGISTER_HEADER = ("user", "document", "version", "sha256", "typed_name", "meaning",
                   "signed_at_utc", "countersigner", "countersigned_at_utc")
ALL_TEAMS = "all"
REMINDERS_SHOWN = 200


@dataclass(frozen=True)
class Filters:
    """Which people the grid shows: one team (None: every team) and one role (None: all)."""

    team_id: int | None = None
    role: str | None = None

    def as_args(self) -> dict[str, str]:
        """The query-string form, for links that keep the filter."""
        args = {"team": str(self.team_id) if self.team_id is not None else ALL_TEAMS}
        if self.role:
            args["role"] = self.role
        return args


@dataclass(frozen=True)
class Cell:
    """One person on one document: the dashboard state and the status behind it. Cells
    with the same facts are one shared object (the grid has thousands)."""

    state: str
    status: status.Status

    @property
    def label(self) -> str:
        """The state in words."""
        return LABELS[self.state]


@dataclass
class Completion:
    """How many of the cells that apply are signed (current or awaiting countersign)."""

    signed: int = 0
    total: int = 0

    @property
    def percent(self) -> int:
        """Signed as a whole percentage (100 when nothing applies: nothing is owed)."""
        return 100 if not self.total else int(100 * self.signed / self.total)

    def add(self, state: str) -> None:
        """Count one cell."""
        self.total += 1
        self.signed += state in SIGNED


@dataclass
class Person:
    """One row of the grid."""

    user: Any  # a row of PERSON_COLUMNS: id, username, display_name, role, team_id...
    team: str | None  # the team's name
    cells: dict[int, Cell] = field(default_factory=dict)  # document id -> cell (applies)
    completion: Completion = field(default_factory=Completion)


@dataclass
class Grid:
    """The dashboard: people against documents, with completion and counts."""

    filters: Filters
    documents: list[status.Document]  # every document that requires a sign-off
    columns: list[status.Document]  # those that apply to at least one person shown
    people: list[Person]
    per_document: dict[int, Completion]
    counts: dict[str, int]
    overall: Completion


@dataclass
class Signature:
    """One signature in a person's history, with its countersignature if any."""

    record: SignOff
    slug: str
    title: str
    countersignature: Countersignature | None
    countersigner: str | None  # the countersigner's display name


@dataclass
class History:
    """A person's page: where they stand now, every signature, reminders sent about them."""

    user: User
    team: str | None
    cells: list[Cell]
    signatures: list[Signature]
    reminders: list[tuple[Reminder, str | None, str]]  # (reminder, document title, to whom)
    more_reminders: bool


def teams() -> list[Team]:
    """Every team, by name (one query)."""
    return list(db.session.scalars(db.select(Team).order_by(Team.name)))


def parse_filters(viewer, args: Mapping[str, str], known_teams: list[Team], *,
                  default_own_team: bool = True) -> tuple[Filters, list[str]]:
    """The filters asked for in ``args`` (``team``: an id or "all"; ``role``) and a message
    for each value that is not one; a bad value is left out. Without ``team`` a manager sees
    their own team (``default_own_team``), an admin every team."""
    problems = []
    own = (viewer.team_id if default_own_team and not viewer.has_role("admin") else None)
    team_id, raw = own, (args.get("team") or "").strip()
    if raw == ALL_TEAMS:
        team_id = None
    elif raw:
        ids = {team.id for team in known_teams}
        if raw.isdigit() and len(raw) <= 10 and int(raw) in ids:
            team_id = int(raw)
        else:
            problems.append(f"There is no team {raw[:40]!r}: choose one from the list.")
    role = (args.get("role") or "").strip() or None
    if role is not None and role not in ROLES:
        problems.append(f"There is no role {role[:40]!r}: choose agent, manager or admin.")
        role = None
    return Filters(team_id, role), problems


PERSON_COLUMNS = (User.id, User.username, User.display_name, User.role, User.team_id,
                  User.created_at, User.active)


def _people(docs: list[status.Document], filters: Filters) -> list[tuple]:
    """The active people at least one of ``docs`` applies to (rows of PERSON_COLUMNS,
    enough for the status rules), with their team's name, sorted by name (one query)."""
    query = (status.audience(docs).with_only_columns(*PERSON_COLUMNS, Team.name)
             .outerjoin(Team, Team.id == User.team_id))
    if filters.team_id is not None:
        query = query.where(User.team_id == filters.team_id)
    if filters.role is not None:
        query = query.where(User.role == filters.role)
    rows = [(row, row[-1]) for row in db.session.execute(query)]
    # Sorted here, not in SQL: the same order on SQLite and PostgreSQL (collations differ).
    return sorted(rows, key=lambda row: (row[0].display_name.casefold(), row[0].username))


def _latest(user_ids: list[int] | None) -> dict[tuple[int, int], tuple[int, bool]]:
    """(user, article) -> (highest version signed, whether that signature is countersigned)
    for these users (None: everyone): one query over their signatures, reduced here (faster
    than a grouped join on both databases at this size)."""
    query = (db.select(SignOff.user_id, SignOff.article_id, SignOff.version_number,
                       Countersignature.id)
             .outerjoin(Countersignature, Countersignature.signoff_id == SignOff.id))
    if user_ids is not None:
        query = query.where(SignOff.user_id.in_(user_ids))
    latest: dict[tuple[int, int], tuple[int, bool]] = {}
    for user_id, article_id, number, countersignature in db.session.execute(query):
        key = (user_id, article_id)
        best = latest.get(key)
        if best is None or number > best[0]:
            latest[key] = (number, countersignature is not None)
    return latest


def _cells(users: list, docs: list[status.Document], *, every_user: bool,
           now: datetime) -> dict[int, list[Cell]]:
    """Each user's cells on the documents that apply to them (one query: their latest
    signatures, countersigned or not). ``every_user``: read every user's rows rather than
    name hundreds of ids in the query."""
    if not users:
        return {}
    ids = None if every_user else [u.id for u in users]
    latest = _latest(ids)
    # The rule's answer depends on the document, the version signed and, for someone who
    # never signed, when their account began: worked out once per distinct case, not once
    # per cell (15,000 cells at 500 × 30).
    known: dict[tuple, Cell] = {}
    asked: dict[tuple, list[status.Document]] = {}  # (role, team) -> the documents asked
    cells: dict[int, list[Cell]] = {}
    for user in users:
        row = cells[user.id] = []
        if not user.active:
            continue
        group = (user.role, user.team_id)
        if group not in asked:
            asked[group] = [doc for doc in docs if doc.applies_to(user)]
        for doc in asked[group]:
            number, countersigned = latest.get((user.id, doc.id), (None, False))
            waiting = number is not None and not countersigned
            key = (doc.id, number, waiting, user.created_at if number is None else None)
            cell = known.get(key)
            if cell is None:
                state = status.status_of(user, doc, number, now)
                label = state.state
                if label == "current" and waiting:
                    label = "awaiting_countersign"
                cell = known[key] = Cell(label, state)
            row.append(cell)
    return cells


def grid(viewer, filters: Filters, now: datetime | None = None) -> Grid:
    """The dashboard for ``filters`` (managers and admins; three queries)."""
    require(viewer, "manager", "Only managers can see the sign-off dashboard.")
    now = now or utcnow()
    docs = status.documents()
    people = [Person(user, team) for user, team in _people(docs, filters)]
    unfiltered = filters.team_id is None and filters.role is None
    cells = _cells([p.user for p in people], docs, every_user=unfiltered, now=now)
    per_document = {doc.id: Completion() for doc in docs}
    counts = dict.fromkeys(STATES, 0)
    overall = Completion()
    for person in people:
        for cell in cells[person.user.id]:
            person.cells[cell.status.document.id] = cell
            person.completion.add(cell.state)
            per_document[cell.status.document.id].add(cell.state)
            overall.add(cell.state)
            counts[cell.state] += 1
    columns = [doc for doc in docs if per_document[doc.id].total]
    return Grid(filters, docs, columns, people, per_document, counts, overall)


def status_json(grid_: Grid) -> dict:
    """The contract's shape for ``GET /api/signoffs/status``."""
    return {
        "documents": [doc.slug for doc in grid_.documents],
        "users": [
            {"username": p.user.username, "display_name": p.user.display_name,
             "team": p.team,
             "signoffs": {cell.status.document.slug: cell.state
                          for cell in p.cells.values()}}
            for p in grid_.people
        ],
    }


def may_view_person(viewer, person: User) -> bool:
    """Admins see anyone; a manager the people of their own team; anyone themselves."""
    if viewer is None or not viewer.is_authenticated:
        return False
    if viewer.id == person.id or viewer.has_role("admin"):
        return True
    return (viewer.has_role("manager") and viewer.team_id is not None
            and viewer.team_id == person.team_id)


def history(viewer, user_id: int, now: datetime | None = None) -> History:
    """Person ``user_id``'s page: statuses, every signature, reminders (NotFound,
    NotAllowed)."""
    person = db.session.get(User, user_id)
    if person is None:
        raise NotFound("No such person.")
    if not may_view_person(viewer, person):
        raise NotAllowed("You can see your own sign-offs, and managers those of their team.")
    now = now or utcnow()
    cells = _cells([person], status.documents(), every_user=False, now=now)[person.id]
    order = {state: rank for rank, state in enumerate(reversed(STATES))}
    cells.sort(key=lambda c: (order[c.state], c.status.document.title))
    countersigner = db.aliased(User)
    rows = db.session.execute(
        db.select(SignOff, Article.slug, Article.title, Countersignature,
                  countersigner.display_name)
        .join(Article, Article.id == SignOff.article_id)
        .outerjoin(Countersignature, Countersignature.signoff_id == SignOff.id)
        .outerjoin(countersigner, countersigner.id == Countersignature.countersigner_id)
        .where(SignOff.user_id == person.id)
        .order_by(SignOff.seq.desc())
    ).all()
    signatures = [Signature(*row) for row in rows]
    recipient = db.aliased(User)
    reminders = [tuple(row) for row in db.session.execute(
        db.select(Reminder, Article.title, recipient.display_name)
        .outerjoin(Article, Article.id == Reminder.article_id)
        .join(recipient, recipient.id == Reminder.recipient_id)
        .where(Reminder.subject_user_id == person.id)
        .order_by(Reminder.sent_at.desc(), Reminder.id.desc())
        .limit(REMINDERS_SHOWN + 1)
    )]
    team = db.session.get(Team, person.team_id) if person.team_id else None
    return History(person, team.name if team else None, cells, signatures,
                   reminders[:REMINDERS_SHOWN], len(reminders) > REMINDERS_SHOWN)


def _utc(value: datetime | None) -> str:
    """A stored UTC time as the register writes it."""
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


def register_csv(viewer, batch: int = 1000) -> Iterator[str]:
    """The register as CSV lines, header first: one row per signature in chain order, read
    in one query (managers and admins). The role is checked now, not when the lines are
    first read, so a refusal is a 403 and not a broken download."""
    require(viewer, "manager", "Only managers can export the sign-off register.")
    signer, countersigner = db.aliased(User), db.aliased(User)
    query = (
        db.select(signer.username, Article.slug, SignOff.version_number,
                  SignOff.content_sha256, SignOff.typed_name, SignOff.meaning,
                  SignOff.signed_at, countersigner.username,
                  Countersignature.countersigned_at)
        .join(signer, signer.id == SignOff.user_id)
        .join(Article, Article.id == SignOff.article_id)
        .outerjoin(Countersignature, Countersignature.signoff_id == SignOff.id)
        .outerjoin(countersigner, countersigner.id == Countersignature.countersigner_id)
        .order_by(SignOff.seq)
        .execution_options(yield_per=batch)
    )

    def lines() -> Iterator[str]:
        """Header, then each signature (typed names go through the formula rule)."""
        yield csv_line(REGISTER_HEADER)
        for (user, slug, number, sha, typed, meaning, signed_at, by,
             countersigned_at) in db.session.execute(query):
            yield csv_line((user, slug, number, sha, typed, meaning, _utc(signed_at), by,
                            _utc(countersigned_at)))

    return lines()

