"""Review-cycle rules: next review = last review + cycle; what is overdue or due soon.

A review is either a new published version (``version_published``) or a manager's
"reviewed, no change". Both set ``last_reviewed_at`` / ``last_reviewed_by_id`` and
recompute ``next_review_date``; changing an article's cycle recomputes it too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import event
from sqlalchemy.orm import joinedload

from kb.core import audit
from kb.core.clock import add_months, local_date, local_today
from kb.core.errors import Invalid, NotFound
from kb.core.permissions import require
from kb.core.signals import version_published
from kb.extensions import db
from kb.models import Article, User, utcnow

# "Due soon" on the dashboard: next review within this many days from today.
DUE_SOON_DAYS = 30
NOTE_MAX = 500
NO_OWNER = "No owner set"


class ReviewNotFound(NotFound):
    """No published article has this slug."""


def next_review_on(last_reviewed_at: datetime | None, cycle_months: int | None) -> date | None:
    """The next review date: the (local) day of the last review plus the cycle in months."""
    if last_reviewed_at is None or not cycle_months or cycle_months < 1:
        return None
    return add_months(local_date(last_reviewed_at), cycle_months)


def _set_reviewed(article: Article, user_id: int | None, when: datetime) -> None:
    """Record a review of ``article`` at ``when`` (UTC) and schedule the next one."""
    article.last_reviewed_at = when
    article.last_reviewed_by_id = user_id
    article.next_review_date = next_review_on(when, article.review_cycle_months)


@version_published.connect
def _a_new_version_is_a_review(document, version=None, **_kwargs) -> None:
    """A newly published article version counts as a review (by its author)."""
    if isinstance(document, Article) and version is not None:
        _set_reviewed(document, version.author_id, version.created_at)


@event.listens_for(Article.review_cycle_months, "set")
def _cycle_changed(article: Article, value, oldvalue, _initiator) -> None:
    """A changed cycle moves the next review (from the same last review)."""
    if value != oldvalue and article.last_reviewed_at is not None:
        article.next_review_date = next_review_on(article.last_reviewed_at, value)


def get_article(slug: str) -> Article:
    """The published article with this slug; raises ReviewNotFound."""
    article = db.session.scalar(db.select(Article).filter_by(slug=slug))
    if article is None or article.current_version_id is None:
        raise ReviewNotFound(slug)
    return article


def mark_reviewed(slug: str, user: User | None, note: str = "",
                  now: datetime | None = None) -> Article:
    """A manager's "reviewed, no change": no new version, the next review moves on a cycle.

    Raises NotAllowed (not a manager), ReviewNotFound, Invalid("note"). The caller commits.
    """
    require(user, "manager", "Only managers can record a review.")
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise Invalid("note", f"The note is {len(note)} characters; keep it to {NOTE_MAX}.")
    article = get_article(slug)
    previous = article.next_review_date
    _set_reviewed(article, user.id, now or utcnow())
    audit.record(user, "article.reviewed", article, {
        "version": article.current_version.number if article.current_version else None,
        "note": note,
        "was_due": previous.isoformat() if previous else None,
        "next_review": (article.next_review_date.isoformat()
                        if article.next_review_date else None),
    })
    return article


# --- what the pages show -------------------------------------------------------------


@dataclass
class ReviewStatus:
    """One document's review dates as the article page shows them."""

    last_reviewed: date | None
    next_review: date | None
    today: date

    @property
    def overdue(self) -> bool:
        """Past the next review date (the day itself is still on time)."""
        return self.next_review is not None and self.next_review < self.today

    @property
    def days(self) -> int | None:
        """Days from today to the next review (negative: that many days overdue)."""
        return None if self.next_review is None else (self.next_review - self.today).days

    @property
    def due_soon(self) -> bool:
        """Due within DUE_SOON_DAYS (and not yet overdue)."""
        return self.days is not None and 0 <= self.days <= DUE_SOON_DAYS


def status(article: Article, today: date | None = None) -> ReviewStatus:
    """The review dates of ``article`` relative to today (centre-local)."""
    last = local_date(article.last_reviewed_at) if article.last_reviewed_at else None
    return ReviewStatus(last, article.next_review_date, today or local_today())


@dataclass
class ReviewItem:
    article: Article
    status: ReviewStatus


@dataclass
class OwnerGroup:
    owner: str
    overdue: list[ReviewItem] = field(default_factory=list)
    due_soon: list[ReviewItem] = field(default_factory=list)


def _live():
    """Published articles still in use: an archived one is not due for review."""
    return Article.current_version_id.isnot(None), Article.archived_at.is_(None)


def owners() -> list[str]:
    """Every owner named on a published article, alphabetically (blank as NO_OWNER)."""
    names = db.session.scalars(
        db.select(Article.owner).where(*_live()).distinct()
    ).all()
    return sorted({name.strip() or NO_OWNER for name in names}, key=str.lower)


def _due_select(today: date, within: int):
    return (
        db.select(Article)
        .options(joinedload(Article.last_reviewed_by))
        .where(*_live(),
               Article.next_review_date.isnot(None),
               Article.next_review_date <= today + timedelta(days=within))
        .order_by(Article.next_review_date, Article.title)
    )


def review_board(owner: str | None = None, today: date | None = None,
                 within: int = DUE_SOON_DAYS) -> list[OwnerGroup]:
    """Overdue and due-within-``within``-days articles grouped by owner (most overdue
    first in each; owners alphabetically). ``owner`` keeps one owner's group."""
    today = today or local_today()
    groups: dict[str, OwnerGroup] = {}
    for article in db.session.scalars(_due_select(today, within)):
        name = article.owner.strip() or NO_OWNER
        if owner is not None and name != owner:
            continue
        group = groups.setdefault(name, OwnerGroup(name))
        item = ReviewItem(article, status(article, today))
        (group.overdue if item.status.overdue else group.due_soon).append(item)
    return [groups[name] for name in sorted(groups, key=str.lower)]


def overdue_count(today: date | None = None) -> int:
    """How many published articles are past their next review date."""
    today = today or local_today()
    return db.session.scalar(
        db.select(db.func.count(Article.id)).where(
            *_live(),
            Article.next_review_date.isnot(None),
            Article.next_review_date < today,
        )
    ) or 0
