"""Where a new starter stands on a programme: due dates, what is done (and when, and who
vouched for it), what is overdue. Set-based: six queries whatever the number of
enrolments and items.

An item is due ``start_date + due_days`` (calendar days). It is done when:
- article: the person's sign-off on it is current (they signed the latest material
  version or a later one); done at the signature of the earliest such version;
- script: they walked the call script through to an end (any time);
- task: a manager confirmed it.
Overdue: not done and the centre-local date is past the due date.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func

from kb.core.clock import local_today
from kb.extensions import db
from kb.induction.models import (
    Enrolment,
    ProgrammeItem,
    ScriptWalkthrough,
    TaskConfirmation,
)
from kb.models import Article, ArticleVersion, CallScript, User
from kb.signoffs.models import Countersignature, SignOff

KIND_LABELS = {"article": "Sign-off", "script": "Call script", "task": "Task"}


@dataclass(frozen=True)
class ItemProgress:
    """One item of one enrolment: when it is due, and whether (and when) it was done."""

    item_id: int
    position: int
    kind: str
    title: str
    slug: str | None  # the article's or script's slug
    due: date
    done_at: datetime | None = None
    by: str | None = None  # task: who confirmed it; article: who countersigned it
    by_at: datetime | None = None  # when they countersigned (articles)
    note: str = ""
    detail: str = ""  # what the evidence is: "version 3", "ended at: Resolved"
    overdue: bool = False

    @property
    def done(self) -> bool:
        """Ticked."""
        return self.done_at is not None

    @property
    def kind_label(self) -> str:
        """The kind in words."""
        return KIND_LABELS.get(self.kind, self.kind)


@dataclass
class Progress:
    """An enrolment with each item's progress, in programme order."""

    enrolment: Enrolment
    items: list[ItemProgress] = field(default_factory=list)

    @property
    def total(self) -> int:
        """How many items."""
        return len(self.items)

    @property
    def done(self) -> int:
        """How many are ticked."""
        return sum(item.done for item in self.items)

    @property
    def overdue(self) -> list[ItemProgress]:
        """The items past their due date and not done."""
        return [item for item in self.items if item.overdue]

    @property
    def complete(self) -> bool:
        """Every item done (an empty programme is never complete)."""
        return self.total > 0 and self.done == self.total

    @property
    def completed_at(self) -> datetime | None:
        """When the last item was done, once all are."""
        return max(item.done_at for item in self.items) if self.complete else None

    @property
    def percent(self) -> int:
        """Done as a whole percentage (for a bar)."""
        return round(100 * self.done / self.total) if self.total else 0


def due_date(start: date, due_days: int) -> date:
    """The day an item is due: the start date plus its days (calendar days)."""
    return start + timedelta(days=due_days)


def for_enrolments(enrolments: list[Enrolment], today: date | None = None) -> list[Progress]:
    """Progress of each enrolment, in the order given (five queries for any number, plus
    none for the enrolments themselves, which the caller loaded)."""
    today = today or local_today()
    if not enrolments:
        return []
    items = _items({e.programme_id for e in enrolments})
    user_ids = {e.user_id for e in enrolments}
    article_ids = {i.article_id for rows in items.values() for i, *_ in rows if i.article_id}
    script_ids = {i.script_id for rows in items.values() for i, *_ in rows if i.script_id}
    material = _material_numbers(article_ids)
    signatures = _signatures(user_ids, article_ids, material)
    walks = _walks(user_ids, script_ids)
    confirmations = _confirmations([e.id for e in enrolments])
    result = []
    for enrolment in enrolments:
        progress = Progress(enrolment)
        for item, slug, title in items.get(enrolment.programme_id, []):
            due = due_date(enrolment.start_date, item.due_days)
            found: dict = {}
            if item.kind == "article":
                found = signatures.get((enrolment.user_id, item.article_id), {})
            elif item.kind == "script":
                found = walks.get((enrolment.user_id, item.script_id), {})
            elif item.kind == "task":
                found = confirmations.get((enrolment.id, item.id), {})
            done_at = found.get("done_at")
            progress.items.append(ItemProgress(
                item_id=item.id, position=item.position, kind=item.kind,
                title=title or item.title, slug=slug, due=due, done_at=done_at,
                by=found.get("by"), by_at=found.get("by_at"), note=found.get("note", ""),
                detail=found.get("detail", ""), overdue=done_at is None and today > due,
            ))
        result.append(progress)
    return result


def for_enrolment(enrolment: Enrolment, today: date | None = None) -> Progress:
    """One enrolment's progress."""
    return for_enrolments([enrolment], today)[0]


def _items(programme_ids: set[int]) -> dict[int, list[tuple[ProgrammeItem, str | None,
                                                              str | None]]]:
    """Each programme's items in order, with the linked document's slug and current title
    (one query)."""
    rows = db.session.execute(
        db.select(ProgrammeItem,
                  func.coalesce(Article.slug, CallScript.slug),
                  func.coalesce(Article.title, CallScript.title))
        .outerjoin(Article, Article.id == ProgrammeItem.article_id)
        .outerjoin(CallScript, CallScript.id == ProgrammeItem.script_id)
        .where(ProgrammeItem.programme_id.in_(programme_ids))
        .order_by(ProgrammeItem.programme_id, ProgrammeItem.position, ProgrammeItem.id)
    ).all()
    grouped: dict[int, list] = defaultdict(list)
    for item, slug, title in rows:
        grouped[item.programme_id].append((item, slug, title))
    return grouped


def _material_numbers(article_ids: set[int]) -> dict[int, int]:
    """The latest material version number of each article (one query): signing it, or a
    later version, makes a sign-off current."""
    if not article_ids:
        return {}
    rows = db.session.execute(
        db.select(ArticleVersion.article_id, func.max(ArticleVersion.number))
        .where(ArticleVersion.article_id.in_(article_ids),
               ArticleVersion.material.is_(True))
        .group_by(ArticleVersion.article_id)
    ).all()
    return dict(rows)


def _signatures(user_ids: set[int], article_ids: set[int],
                material: dict[int, int]) -> dict[tuple[int, int], dict]:
    """For each (user, article) whose sign-off is current: when the earliest current
    signature was made, and who countersigned it (one query)."""
    if not article_ids:
        return {}
    countersigner = db.aliased(User)
    rows = db.session.execute(
        db.select(SignOff.user_id, SignOff.article_id, SignOff.version_number,
                  SignOff.signed_at, countersigner.display_name,
                  Countersignature.countersigned_at)
        .outerjoin(Countersignature, Countersignature.signoff_id == SignOff.id)
        .outerjoin(countersigner, countersigner.id == Countersignature.countersigner_id)
        .where(SignOff.user_id.in_(user_ids), SignOff.article_id.in_(article_ids))
        .order_by(SignOff.signed_at, SignOff.id)
    ).all()
    found: dict[tuple[int, int], dict] = {}
    for user_id, article_id, number, signed_at, by, by_at in rows:
        # Versions all minor (not possible today) count from version 1, as in status.py.
        if number < material.get(article_id, 1) or (user_id, article_id) in found:
            continue
        found[(user_id, article_id)] = {"done_at": signed_at, "by": by, "by_at": by_at,
                                        "detail": f"signed version {number}"}
    return found


def _walks(user_ids: set[int], script_ids: set[int]) -> dict[tuple[int, int], dict]:
    """Each user's first walk-through of each script (one query)."""
    if not script_ids:
        return {}
    rows = db.session.execute(
        db.select(ScriptWalkthrough.user_id, ScriptWalkthrough.script_id,
                  ScriptWalkthrough.walked_at, ScriptWalkthrough.version_number)
        .where(ScriptWalkthrough.user_id.in_(user_ids),
               ScriptWalkthrough.script_id.in_(script_ids))
        .order_by(ScriptWalkthrough.walked_at, ScriptWalkthrough.id)
    ).all()
    found: dict[tuple[int, int], dict] = {}
    for user_id, script_id, walked_at, number in rows:
        found.setdefault((user_id, script_id), {
            "done_at": walked_at, "detail": f"walked through version {number}"})
    return found


def _confirmations(enrolment_ids: list[int]) -> dict[tuple[int, int], dict]:
    """The managers' confirmations of task items, by (enrolment, item) (one query)."""
    rows = db.session.execute(
        db.select(TaskConfirmation.enrolment_id, TaskConfirmation.item_id,
                  TaskConfirmation.confirmed_at, TaskConfirmation.note, User.display_name)
        .join(User, User.id == TaskConfirmation.confirmed_by_id)
        .where(TaskConfirmation.enrolment_id.in_(enrolment_ids))
    ).all()
    return {(e, i): {"done_at": at, "by": by, "by_at": at, "note": note or "",
                     "detail": "confirmed"}
            for e, i, at, note, by in rows}
