"""One person's desk on the home page: the articles they pinned and what they opened lately.

Pins are rows of ``pinned_articles`` (one per person and article, kept in ``position``
order); recently viewed is read from the usage log ``article_views`` that kb.analytics
writes when an article or call script is opened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kb.articles.models import PinnedArticle
from kb.core.errors import Invalid
from kb.core.permissions import require
from kb.extensions import db
from kb.models import Article, ArticleView, CallScript, User

MAX_PINS = 12
RECENT_COUNT = 8
# Recently viewed looks through a person's latest openings only, so an agent with years of
# history costs the same as a new one (read newest first through their index).
RECENT_WINDOW = 300


class PinLimitReached(Invalid):
    """The person already has MAX_PINS articles pinned."""


def _visible():
    """Articles a pin or a recent view may show: published and not archived."""
    return Article.archived_at.is_(None) & Article.current_version_id.is_not(None)


def pinned(user: User) -> list[Article]:
    """The person's pinned articles in their order, archived ones left out."""
    return db.session.scalars(
        db.select(Article).join(PinnedArticle, PinnedArticle.article_id == Article.id)
        .where(PinnedArticle.user_id == user.id, _visible())
        .order_by(PinnedArticle.position, PinnedArticle.id)
    ).all()


def is_pinned(user: User, article: Article) -> bool:
    """Whether the person has pinned this article."""
    return db.session.scalar(
        db.select(PinnedArticle.id).filter_by(user_id=user.id, article_id=article.id)
    ) is not None


def pin(user: User, article: Article) -> bool:
    """Pin an article to the end of the person's list; False when it already was.

    Raises PinLimitReached at MAX_PINS (archived articles' pins do not count: the person
    cannot see them to unpin them). The caller commits.
    """
    require(user, "agent")
    if article.archived_at is not None:
        raise Invalid("article", "An archived article cannot be pinned.")
    if is_pinned(user, article):
        return False
    shown = pinned(user)
    if len(shown) >= MAX_PINS:
        raise PinLimitReached("article", (
            f"You already have {MAX_PINS} pinned articles, the most the home page keeps. "
            "Unpin one you use less, then pin this one."))
    last = db.session.scalar(
        db.select(db.func.max(PinnedArticle.position)).filter_by(user_id=user.id))
    db.session.add(PinnedArticle(user_id=user.id, article_id=article.id,
                                 position=(last if last is not None else -1) + 1))
    db.session.flush()
    return True


def unpin(user: User, article: Article) -> bool:
    """Take an article off the person's home page; False when it was not pinned."""
    require(user, "agent")
    gone = db.session.execute(
        db.delete(PinnedArticle).filter_by(user_id=user.id, article_id=article.id))
    return bool(gone.rowcount)


def move_pin(user: User, article: Article, direction: str) -> bool:
    """Move a pinned article one place "up" or "down"; False when it cannot move."""
    require(user, "agent")
    if direction not in {"up", "down"}:
        raise Invalid("direction", "Move a pinned article up or down.")
    rows = db.session.scalars(
        db.select(PinnedArticle).join(Article, PinnedArticle.article_id == Article.id)
        .where(PinnedArticle.user_id == user.id, _visible())
        .order_by(PinnedArticle.position, PinnedArticle.id)
    ).all()
    index = next((i for i, row in enumerate(rows) if row.article_id == article.id), None)
    if index is None:
        raise Invalid("article", "This article is not pinned, so it cannot be moved.")
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(rows):
        return False
    rows[index], rows[other] = rows[other], rows[index]
    for position, row in enumerate(rows):  # renumbered: ties and gaps go away
        row.position = position
    db.session.flush()
    return True


@dataclass
class Viewed:
    kind: str  # "article" | "script"
    slug: str
    title: str
    category: str
    viewed_at: datetime  # UTC, as stored


def recently_viewed(user: User, limit: int = RECENT_COUNT) -> list[Viewed]:
    """The articles and call scripts the person opened lately, newest first, each once;
    archived ones left out."""
    latest = (
        db.select(ArticleView.id, ArticleView.article_id, ArticleView.call_script_id,
                  ArticleView.created_at)
        .where(ArticleView.user_id == user.id)
        .order_by(ArticleView.created_at.desc(), ArticleView.id.desc())
        .limit(RECENT_WINDOW)
        .subquery()
    )
    grouped = (
        db.select(latest.c.article_id, latest.c.call_script_id,
                  db.func.max(latest.c.created_at).label("viewed_at"),
                  db.func.max(latest.c.id).label("last_id"))
        .group_by(latest.c.article_id, latest.c.call_script_id)
        .subquery()
    )
    rows = db.session.execute(
        db.select(grouped.c.viewed_at, Article, CallScript)
        .outerjoin(Article, Article.id == grouped.c.article_id)
        .outerjoin(CallScript, CallScript.id == grouped.c.call_script_id)
        .where(db.or_(
            _visible(),
            CallScript.archived_at.is_(None) & CallScript.current_version_id.is_not(None),
        ))
        .order_by(grouped.c.viewed_at.desc(), grouped.c.last_id.desc())
        .limit(limit)
    ).all()
    seen = []
    for viewed_at, article, script in rows:
        if article is not None:
            seen.append(Viewed("article", article.slug, article.title, article.category,
                               viewed_at))
        else:
            seen.append(Viewed("script", script.slug, script.title, script.category,
                               viewed_at))
    return seen
