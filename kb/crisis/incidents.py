"""Step 6 of the crisis plan: incident records, never changed once submitted, and reviews."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import event, inspect
from sqlalchemy.orm import joinedload, selectinload

from kb.core.clock import wall_clock_kind
from kb.crisis.services import (
    IncidentLocked,
    IncidentNotFound,
    InvalidEntry,
    NotAllowed,
    audit,
    page_order,
    require_manager,
    to_utc,
)
from kb.extensions import db
from kb.models import CrisisIncident, CrisisIncidentReview, Helpline, User, utcnow

# A record written straight after a call may be a few minutes "ahead" of a slow clock;
# anything later than this is a typo in the date or time.
FUTURE_GRACE = timedelta(minutes=10)
# No contact centre call on record is older than this: an earlier year is a typo.
EARLIEST = datetime(2000, 1, 1)
FOLDS = {"first": 0, "second": 1}  # which of two identical autumn times was meant


@dataclass(frozen=True)
class IncidentData:
    """One crisis call as the agent records it; ``occurred_at`` is local wall-clock time."""

    occurred_at: datetime
    what_was_said: str
    caller_location: str = ""
    support_partner: str = ""
    emergency_services_called: bool = False
    helpline_ids: tuple[int, ...] = ()
    notes: str = ""
    # When the clocks go back, 01:00-01:59 happens twice: "first" (summer time) or
    # "second" (winter time). None until the agent has been asked.
    clock_change: str | None = None


def _check_occurred(value: datetime, clock_change: str | None) -> datetime:
    """The naive local call time as naive UTC; InvalidEntry if it is not a real time here."""
    if value < EARLIEST:
        raise InvalidEntry("occurred_at", f"The year {value.year} is before 2000. Check the "
                           "date of the call.")
    when = f"{value:%H:%M} on {value.day} {value:%B %Y}"
    kind = wall_clock_kind(value)
    if kind == "gap":
        raise InvalidEntry("occurred_at", f"{when} did not happen on UK clocks: the clocks "
                           "went forward an hour at that moment. Check the time of the call.")
    if kind == "ambiguous":
        if clock_change not in FOLDS:
            raise InvalidEntry("clock_change", f"{when} happened twice: the clocks went back "
                               "an hour. Choose whether the call was at the first or the "
                               f"second {value:%H:%M}.")
        value = value.replace(fold=FOLDS[clock_change])
    return to_utc(value)


def record_incident(data: IncidentData, actor: User, now: datetime | None = None) -> CrisisIncident:
    """Store an incident record (never changed afterwards) and audit it."""
    if actor is None or not actor.is_authenticated:
        raise NotAllowed("Sign in to record an incident.")
    now = now or utcnow()
    what = data.what_was_said.strip()
    if not what:
        raise InvalidEntry("what_was_said", "Write down what the caller said.")
    occurred = _check_occurred(data.occurred_at, data.clock_change)
    if occurred > now + FUTURE_GRACE:
        raise InvalidEntry("occurred_at", "That time is in the future. Check the date and time.")
    wanted = set(data.helpline_ids)
    given = (
        list(
            db.session.scalars(
                db.select(Helpline)
                .where(Helpline.id.in_(wanted), Helpline.active.is_(True))
                .order_by(*page_order())
            )
        )
        if wanted
        else []
    )
    if len(given) != len(wanted):
        raise InvalidEntry("helplines_given",
                           "One of the helplines chosen is no longer listed. Choose again.")
    incident = CrisisIncident(
        recorded_by_id=actor.id,
        recorded_at=now,
        occurred_at=occurred,
        what_was_said=what,
        caller_location=data.caller_location.strip(),
        support_partner=data.support_partner.strip(),
        emergency_services_called=bool(data.emergency_services_called),
        # A snapshot of what was given: the helpline rows may change later.
        helplines_given=[f"{h.name}: {h.number}" for h in given],
        notes=data.notes.strip(),
    )
    db.session.add(incident)
    db.session.flush()
    # The record itself is sensitive: the audit row says that it exists, not what it says.
    audit(actor, "crisis_incident.create", incident, {
        "occurred_at": incident.occurred_at.isoformat(),
        "emergency_services_called": incident.emergency_services_called,
        "helplines_given": len(incident.helplines_given),
    })
    db.session.flush()
    return incident


def get_incident(incident_id: int, viewer: User) -> CrisisIncident:
    """An incident record for a manager or the agent who recorded it; else NotAllowed."""
    incident = db.session.get(CrisisIncident, incident_id)
    if incident is None:
        raise IncidentNotFound(incident_id)
    if not (viewer.has_role("manager") or incident.recorded_by_id == viewer.id):
        raise NotAllowed("Only managers and the person who recorded it can see this record.")
    return incident


def list_incidents(viewer: User, page: int = 1, per_page: int = 50) -> Pagination:
    """Every incident record, newest first, for managers."""
    require_manager(viewer)
    query = (
        db.select(CrisisIncident)
        .options(joinedload(CrisisIncident.recorded_by), selectinload(CrisisIncident.reviews))
        .order_by(CrisisIncident.recorded_at.desc(), CrisisIncident.id.desc())
    )
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def incident_reviews(incident: CrisisIncident) -> list[CrisisIncidentReview]:
    """An incident's review notes, oldest first."""
    return list(
        db.session.scalars(
            db.select(CrisisIncidentReview)
            .options(joinedload(CrisisIncidentReview.reviewer))
            .filter_by(incident_id=incident.id)
            .order_by(CrisisIncidentReview.created_at, CrisisIncidentReview.id)
        )
    )


def add_review(
    incident_id: int, note: str, reviewer: User, now: datetime | None = None
) -> CrisisIncidentReview:
    """Append a manager's review note to an incident record and audit it."""
    require_manager(reviewer)
    incident = get_incident(incident_id, reviewer)
    text = note.strip()
    if not text:
        raise InvalidEntry("note", "Write the review note.")
    review = CrisisIncidentReview(
        incident_id=incident.id, reviewer_id=reviewer.id, note=text, created_at=now or utcnow()
    )
    db.session.add(review)
    db.session.flush()
    audit(reviewer, "crisis_incident.review", incident, {"review_id": review.id})
    db.session.flush()
    return review


# Append-only, enforced where every write passes: a changed column or a delete on a
# record or a review note stops the flush, whichever code path tries it.
@event.listens_for(CrisisIncident, "before_update")
@event.listens_for(CrisisIncidentReview, "before_update")
def _refuse_update(mapper, _connection, target) -> None:
    attrs = inspect(target).attrs
    changed = [a.key for a in mapper.column_attrs if attrs[a.key].history.has_changes()]
    if changed:
        raise IncidentLocked(
            f"{type(target).__name__} {target.id} cannot be changed after it is submitted "
            f"(tried to change {', '.join(changed)}); add a review note instead."
        )


@event.listens_for(CrisisIncident, "before_delete")
@event.listens_for(CrisisIncidentReview, "before_delete")
def _refuse_delete(_mapper, _connection, target) -> None:
    raise IncidentLocked(f"{type(target).__name__} {target.id} cannot be deleted.")
