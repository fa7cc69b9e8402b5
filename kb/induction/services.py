"""Induction: assigning programmes to new starters, who may see and tick what, managers'
confirmations of tasks, and script walk-throughs heard through ``script_walked``.

Team rule: a manager handles the people of their own team (not themselves); an admin
handles anyone active. Programme editing is in programmes.py, progress in progress.py.
Services flush; the view or CLI command commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from kb.core import audit
from kb.core.clock import local_today
from kb.core.errors import Invalid, NotAllowed, NotFound
from kb.core.permissions import require
from kb.extensions import db
from kb.induction import progress
from kb.induction.models import (
    Enrolment,
    Programme,
    ScriptWalkthrough,
    TaskConfirmation,
)
from kb.induction.programmes import ItemNotFound, default_programme, get_programme
from kb.models import CallScript, User, utcnow

NOTE_MAX = 500
PATH_MAX = 2000
EARLIEST_START = date(2000, 1, 1)


class EnrolmentNotFound(NotFound):
    """No enrolment has this id."""


class AlreadyEnrolled(Invalid):
    """The person is already on this programme."""


class AlreadyConfirmed(Invalid):
    """The task was confirmed for this person already."""


@dataclass(frozen=True)
class OverdueItem:
    """One overdue item of one person, for the managers' list."""

    progress: progress.Progress
    item: progress.ItemProgress

    @property
    def person(self) -> User:
        """Who owes it."""
        return self.progress.enrolment.user

    @property
    def days_late(self) -> int:
        """Calendar days past the due date, today."""
        return (local_today() - self.item.due).days


# --- Who may handle whom ---------------------------------------------------------------


def manages(actor, person: User) -> bool:
    """True when ``actor`` may assign ``person`` a programme and confirm their tasks: an
    admin for anyone but themself, a manager for the others in their own team."""
    if actor is None or not actor.is_authenticated or actor.id == person.id:
        return False
    if actor.has_role("admin"):
        return True
    return (actor.has_role("manager") and actor.team_id is not None
            and person.team_id == actor.team_id)


def can_view(actor, enrolment: Enrolment) -> bool:
    """The person themself, their team's manager and admins see an enrolment."""
    return (actor is not None and actor.is_authenticated
            and (actor.id == enrolment.user_id or manages(actor, enrolment.user)))


def assignable_people(actor) -> list[User]:
    """The active people ``actor`` may enrol: their team's (managers), anyone (admins)."""
    require(actor, "manager")
    query = db.select(User).where(User.active.is_(True)).order_by(User.display_name)
    if not actor.has_role("admin"):
        if actor.team_id is None:
            return []
        query = query.where(User.team_id == actor.team_id, User.id != actor.id)
    return list(db.session.scalars(query))


def assignable_programmes() -> list[Programme]:
    """Programmes that take new enrolments (not archived), by name."""
    return list(db.session.scalars(db.select(Programme).where(Programme.archived_at.is_(None))
                                   .order_by(Programme.name)))


# --- Enrolments ------------------------------------------------------------------------


def parse_start_date(text: str | None) -> date | None:
    """A start date as a date input sends it (2026-09-07) or as typed here (07/09/2026);
    None when blank; Invalid when it is not a date."""
    text = (text or "").strip()
    if not text:
        return None
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise Invalid("start_date", "That is not a date: give the start date as day/month/year, "
                                "for example 07/09/2026.")


def assign(actor, programme_id: int, user_id: int, start_date: date | None) -> Enrolment:
    """Enrol a person on a programme from a start date (one enrolment per person and
    programme); audited ``induction.assigned``."""
    require(actor, "manager")
    try:
        programme = get_programme(programme_id)
    except NotFound:
        raise Invalid("programme", "Choose one of the programmes listed.") from None
    if programme.archived_at is not None:
        raise Invalid("programme", f"“{programme.name}” is archived: restore it first, or "
                                   "choose another programme.")
    person = db.session.get(User, user_id) if user_id else None
    if person is None or not person.active or not manages(actor, person):
        raise Invalid("user", "Choose one of the people listed: you can enrol the active "
                              "members of your own team.")
    if start_date is None:
        raise Invalid("start_date", "Give the start date, for example 07/09/2026.")
    if not EARLIEST_START <= start_date <= date(local_today().year + 2, 12, 31):
        raise Invalid("start_date", "That start date is out of range: give a date within the "
                                    "next two years or since 2000.")
    existing = db.session.scalar(db.select(Enrolment).filter_by(programme_id=programme.id,
                                                                user_id=person.id))
    if existing is not None:
        raise AlreadyEnrolled("user", _already(person, programme, existing))
    enrolment = Enrolment(programme_id=programme.id, user_id=person.id, start_date=start_date,
                          assigned_by_id=actor.id, assigned_at=utcnow())
    try:
        with db.session.begin_nested():  # a simultaneous second assignment loses cleanly
            db.session.add(enrolment)
    except IntegrityError:
        raise AlreadyEnrolled("user", _already(person, programme, None)) from None
    audit.record(actor, "induction.assigned", enrolment,
                 {"programme": programme.name, "user": person.username,
                  "start_date": start_date.isoformat()},
                 label=f"{person.username}: {programme.name}")
    return enrolment


def _already(person: User, programme: Programme, enrolment: Enrolment | None) -> str:
    since = f" (from {enrolment.start_date:%d/%m/%Y})" if enrolment is not None else ""
    return f"{person.display_name} is already enrolled on “{programme.name}”{since}."


def enrol_demo_starter(username: str = "newstarter") -> Enrolment | None:
    """``flask seed-demo``: enrol the demo new starter on the default programme from today,
    unless they are on it already or either is missing; returns the enrolment made."""
    person = db.session.scalar(db.select(User).filter_by(username=username))
    programme = default_programme()
    if person is None or programme is None or programme.archived_at is not None:
        return None
    if db.session.scalar(db.select(Enrolment.id).filter_by(
            programme_id=programme.id, user_id=person.id)) is not None:
        return None
    enrolment = Enrolment(programme_id=programme.id, user_id=person.id,
                          start_date=local_today(), assigned_at=utcnow())
    db.session.add(enrolment)
    db.session.flush()
    audit.record(None, "induction.assigned", enrolment,
                 {"programme": programme.name, "user": person.username,
                  "start_date": enrolment.start_date.isoformat(), "source": "seed-demo"},
                 label=f"{person.username}: {programme.name}")
    return enrolment


def get_enrolment(enrolment_id: int) -> Enrolment:
    """The enrolment with its person and programme, or EnrolmentNotFound."""
    enrolment = db.session.scalar(
        db.select(Enrolment).where(Enrolment.id == enrolment_id)
        .options(joinedload(Enrolment.user), joinedload(Enrolment.programme)))
    if enrolment is None:
        raise EnrolmentNotFound("No induction enrolment has this number.")
    return enrolment


def enrolment_for(actor, enrolment_id: int) -> Enrolment:
    """The enrolment, if ``actor`` may see it (NotAllowed otherwise)."""
    enrolment = get_enrolment(enrolment_id)
    if not can_view(actor, enrolment):
        raise NotAllowed("Only the person, their team's manager or an admin can see this.")
    return enrolment


def _enrolments(query) -> list[Enrolment]:
    return list(db.session.scalars(
        query.options(joinedload(Enrolment.user), joinedload(Enrolment.programme))))


def my_progress(user) -> list[progress.Progress]:
    """The user's own enrolments with progress, newest start first."""
    return progress.for_enrolments(_enrolments(
        db.select(Enrolment).where(Enrolment.user_id == user.id)
        .order_by(Enrolment.start_date.desc(), Enrolment.id.desc())))


def unfinished(user) -> list[progress.Progress]:
    """The user's enrolments not yet complete (the home page's checklist)."""
    return [p for p in my_progress(user) if not p.complete]


def team_progress(actor) -> list[progress.Progress]:
    """Enrolments of the active people ``actor`` looks after (their team; everyone for an
    admin), by person then start date."""
    require(actor, "manager")
    query = (db.select(Enrolment).join(User, User.id == Enrolment.user_id)
             .where(User.active.is_(True))
             .order_by(func.lower(User.display_name), Enrolment.start_date, Enrolment.id))
    if not actor.has_role("admin"):
        if actor.team_id is None:
            return []
        query = query.where(User.team_id == actor.team_id, User.id != actor.id)
    return progress.for_enrolments(_enrolments(query))


def overdue(actor, rows: list[progress.Progress] | None = None) -> list[OverdueItem]:
    """Overdue induction items of the people ``actor`` looks after, longest overdue first."""
    rows = team_progress(actor) if rows is None else rows
    found = [OverdueItem(p, item) for p in rows for item in p.overdue]
    return sorted(found, key=lambda o: (o.item.due, o.person.display_name.lower(),
                                        o.item.position))


# --- Managers confirm tasks ------------------------------------------------------------


def confirm_task(actor, enrolment_id: int, item_id: int, note: str = "") -> TaskConfirmation:
    """A manager of the person's team (or an admin; never the person) confirms a task item
    was done: append-only evidence, audited ``induction.task_confirmed``."""
    require(actor, "manager")
    enrolment = get_enrolment(enrolment_id)
    if actor.id == enrolment.user_id:
        raise NotAllowed("Nobody confirms their own induction tasks: ask your manager.")
    if not manages(actor, enrolment.user):
        raise NotAllowed("Only a manager of this person's team, or an admin, can confirm "
                         "their tasks.")
    item = next((i for i in enrolment.programme.items if i.id == item_id), None)
    if item is None:
        raise ItemNotFound("This programme has no such item.")
    if item.kind != "task":
        raise Invalid("item", "Sign-offs and call script walk-throughs tick themselves when "
                              "the person does them; only tasks are confirmed here.")
    note = " ".join((note or "").split())
    if len(note) > NOTE_MAX:
        raise Invalid("note", f"Keep the note to {NOTE_MAX} characters.")
    already = f"“{item.title}” is already confirmed for {enrolment.user.display_name}."
    if db.session.scalar(db.select(TaskConfirmation.id).filter_by(
            enrolment_id=enrolment.id, item_id=item.id)) is not None:
        raise AlreadyConfirmed("item", already)
    record = TaskConfirmation(enrolment_id=enrolment.id, item_id=item.id,
                              confirmed_by_id=actor.id, note=note,
                              confirmed_at=utcnow().replace(microsecond=0))
    try:
        with db.session.begin_nested():  # a simultaneous double submit records one
            db.session.add(record)
    except IntegrityError:
        raise AlreadyConfirmed("item", already) from None
    audit.record(actor, "induction.task_confirmed", enrolment,
                 {"item": item.id, "title": item.title, "user": enrolment.user.username,
                  "note": note},
                 label=f"{enrolment.user.username}: {enrolment.programme.name}")
    return record


# --- Script walk-throughs --------------------------------------------------------------


def on_script_walked(script: CallScript, *, user=None, version: int | None = None,
                     end_step: str = "", path: list[str] | None = None, **_extra) -> None:
    """Receiver of kb.core.signals.script_walked: keep the walk-through as evidence and
    audit it (the sender has checked the path; the sending view commits)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return
    record = ScriptWalkthrough(
        user_id=user.id, script_id=script.id, version_number=int(version or 0),
        end_step=str(end_step)[:64], path=",".join(path or [])[:PATH_MAX],
        walked_at=utcnow().replace(microsecond=0))
    db.session.add(record)
    db.session.flush()
    audit.record(user, "script.walked_through", script,
                 {"version": record.version_number, "end_step": record.end_step,
                  "path": record.path, "walkthrough": record.id})
