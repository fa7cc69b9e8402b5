"""Who must sign what, and where each person stands: set-based, a fixed number of queries.

Status of a (user, document): ``current`` (signed the latest material version or a later
one), ``outdated`` (signed only before the latest material change), ``missing`` (never
signed); either of the last two past its due date is ``overdue``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, false, func, or_, true

from kb.extensions import db
from kb.models import Article, ArticleVersion, User, utcnow
from kb.signoffs.models import SignOff

OUTSTANDING = ("missing", "outdated", "overdue")
EVERY_ROLE = (None, "all")  # an article's signoff_role that asks every role


@dataclass(frozen=True)
class Document:
    """A document people must sign, with the facts the status rules need."""

    id: int
    slug: str
    title: str
    role: str | None
    team_id: int | None
    window_days: int
    current_number: int
    material_number: int  # the latest material version: signing it or later is current
    material_at: datetime

    def applies_to(self, user) -> bool:
        """Whether ``user`` (active) is in this document's audience."""
        return ((self.role in EVERY_ROLE or user.role == self.role)
                and (self.team_id is None or user.team_id == self.team_id))


@dataclass(frozen=True)
class Status:
    """Where one user stands on one document."""

    document: Document
    state: str  # current | outdated | missing | overdue
    signed_number: int | None  # the latest version they signed, if any
    due: datetime | None  # when an outstanding sign-off is (or was) due

    @property
    def outstanding(self) -> bool:
        """Not current: something to sign."""
        return self.state in OUTSTANDING

    @property
    def was_signed(self) -> bool:
        """Signed some earlier version (an outdated or overdue re-acknowledgement)."""
        return self.signed_number is not None


def documents() -> list[Document]:
    """Every live article that requires a sign-off (one query)."""
    latest_material = (
        db.select(ArticleVersion.article_id, func.max(ArticleVersion.number).label("number"))
        .where(ArticleVersion.material.is_(True))
        .group_by(ArticleVersion.article_id)
        .subquery()
    )
    material = db.aliased(ArticleVersion)
    current = db.aliased(ArticleVersion)
    rows = db.session.execute(
        db.select(Article.id, Article.slug, Article.title, Article.signoff_role,
                  Article.signoff_team_id, Article.signoff_window_days, current.number,
                  latest_material.c.number, material.created_at, current.created_at)
        .join(current, current.id == Article.current_version_id)
        .outerjoin(latest_material, latest_material.c.article_id == Article.id)
        .outerjoin(material, and_(material.article_id == Article.id,
                                  material.number == latest_material.c.number))
        .where(Article.requires_signoff.is_(True), Article.archived_at.is_(None))
        .order_by(Article.title)
    ).all()
    # A document whose versions were all minor (not possible today) counts from version 1.
    return [Document(r[0], r[1], r[2], r[3], r[4], 14 if r[5] is None else r[5], r[6], r[7] or 1,
                     r[8] or r[9]) for r in rows]


def latest_signed(user_ids: list[int] | None = None) -> dict[tuple[int, int], int]:
    """The highest version number each user signed of each article (one query);
    ``user_ids`` None: every user."""
    query = db.select(SignOff.user_id, SignOff.article_id,
                      func.max(SignOff.version_number)).group_by(SignOff.user_id,
                                                                 SignOff.article_id)
    if user_ids is not None:
        query = query.where(SignOff.user_id.in_(user_ids))
    return {(u, a): n for u, a, n in db.session.execute(query)}


def audience(docs: list[Document]):
    """A select of the active users at least one of ``docs`` applies to."""
    if not docs:
        return db.select(User).where(false())
    conditions = [
        # true() first: a document for every role and team adds no condition of its own.
        and_(true(), *([User.role == d.role] if d.role not in EVERY_ROLE else []),
             *([User.team_id == d.team_id] if d.team_id else []))
        for d in docs
    ]
    return db.select(User).where(User.active.is_(True), or_(*conditions))


def status_of(user, doc: Document, signed: int | None, now: datetime) -> Status:
    """The status rule for one cell (pure: no queries)."""
    if signed is not None and signed >= doc.material_number:
        return Status(doc, "current", signed, None)
    window = timedelta(days=doc.window_days)
    if signed is None:
        # New documents and new people: the window runs from the later of the two.
        start = max(doc.material_at, user.created_at or doc.material_at)
        state = "missing"
    else:
        start, state = doc.material_at, "outdated"
    due = start + window
    return Status(doc, "overdue" if now > due else state, signed, due)


def matrix(users: list, docs: list[Document] | None = None,
           now: datetime | None = None) -> dict[int, list[Status]]:
    """Each user's statuses on the documents that apply to them (two queries whatever the
    number of users and documents, one fewer when ``docs`` is given)."""
    docs = documents() if docs is None else docs
    now = now or utcnow()
    signed = latest_signed([u.id for u in users]) if users else {}
    return {
        user.id: [status_of(user, d, signed.get((user.id, d.id)), now)
                  for d in docs if user.active and d.applies_to(user)]
        for user in users
    }


def for_user(user, now: datetime | None = None) -> list[Status]:
    """One user's statuses, outstanding first (overdue, then by due date), then current."""
    statuses = matrix([user], now=now)[user.id]
    order = {"overdue": 0, "outdated": 1, "missing": 1, "current": 2}
    return sorted(statuses, key=lambda s: (order[s.state], s.due or datetime.max,
                                           s.document.title))
