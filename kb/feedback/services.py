"""Feedback rules: who may send what, once or many times, and resolving reports."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from kb.core import audit
from kb.core.errors import Invalid, NotFound
from kb.core.permissions import require
from kb.extensions import db
from kb.models import FEEDBACK_KINDS, Article, ArticleFeedback, ArticleVersion, User, utcnow

MAX_COMMENT = 1000
MAX_NOTE = 1000
PER_PAGE = 25
KIND_LABELS = {"answered": "Answered my question", "outdated": "Out of date or wrong"}
STATES = ("open", "resolved")


class FeedbackNotFound(NotFound):
    """No such article (or feedback row)."""


@dataclass
class Sent:
    """What became of a piece of feedback: stored, or an "answered" already on record."""

    feedback: ArticleFeedback
    created: bool

    @property
    def message(self) -> str:
        """The words the agent sees afterwards."""
        if self.feedback.kind == "answered":
            if not self.created:
                return ("You have already said this version answered your question. "
                        "Thank you: it is counted once.")
            return "Thank you: you said this answered your question."
        return ("Thank you: your report is with the managers, who will check this "
                "article.")


def _clean_text(text: str | None, field: str, limit: int, what: str) -> str:
    """Stripped text without NULs, or Invalid naming the field when it is too long."""
    text = (text or "").replace("\x00", "").strip()
    if len(text) > limit:
        raise Invalid(field, f"Your {what} is {len(text):,} characters long; the limit is "
                             f"{limit:,}. Nothing was sent: shorten it and send it again.")
    return text


def _article(slug: str) -> Article:
    """A published article by slug, or FeedbackNotFound."""
    article = db.session.scalar(
        db.select(Article).where(Article.slug == slug, Article.current_version_id.is_not(None))
    )
    if article is None:
        raise FeedbackNotFound(f"No article {slug!r}.")
    return article


def send_feedback(slug: str, kind: str | None, version: object, comment: str | None,
                  user: User | None) -> Sent:
    """Record an agent's feedback on the version of an article they read (caller commits).

    "answered" counts once per user and version (a repeat returns the first, unchanged);
    out-of-date reports may be sent any number of times.
    """
    require(user, "agent", "Sign in to send feedback.")
    if kind not in FEEDBACK_KINDS:
        raise Invalid("kind", "Choose “This answered my question” or “This is out of date "
                              "or wrong”.")
    article = _article(slug)
    number = _version_number(article, version)
    text = _clean_text(comment, "comment", MAX_COMMENT, "comment")
    if kind == "answered":
        existing = _answered(article.id, number, user.id)
        if existing is not None:
            return Sent(existing, created=False)
    row = ArticleFeedback(article_id=article.id, version_number=number, user_id=user.id,
                          kind=kind, comment=text)
    try:
        with db.session.begin_nested():  # the unique index catches a double click's twin
            db.session.add(row)
    except IntegrityError:
        existing = _answered(article.id, number, user.id)
        if existing is None:
            raise
        return Sent(existing, created=False)
    return Sent(row, created=True)


def _version_number(article: Article, version: object) -> int:
    """The version number the form says was shown, if the article has that version."""
    text = str(version or "").strip()
    if not text.isdigit() or len(text) > 9:
        raise Invalid("version", "The form did not say which version you read; reload the "
                                 "article and send it again.")
    exists = db.session.scalar(
        db.select(ArticleVersion.id).where(ArticleVersion.article_id == article.id,
                                           ArticleVersion.number == int(text))
    )
    if exists is None:
        raise Invalid("version", "That version of the article does not exist; reload the "
                                 "article and send it again.")
    return int(text)


def _answered(article_id: int, number: int, user_id: int) -> ArticleFeedback | None:
    """This user's "answered" for this article version, if they sent one."""
    return db.session.scalar(
        db.select(ArticleFeedback).where(
            ArticleFeedback.article_id == article_id,
            ArticleFeedback.version_number == number,
            ArticleFeedback.user_id == user_id,
            ArticleFeedback.kind == "answered",
        )
    )


def _is_open():
    """SQL: an out-of-date report nobody has resolved."""
    return (ArticleFeedback.kind == "outdated") & ArticleFeedback.resolved_at.is_(None)


def feedback_queue(user: User | None, *, article: str | None = None, kind: str | None = None,
                   state: str | None = None, page: int = 1):
    """One page of feedback for managers: open reports first, then newest first."""
    require(user, "manager", "Only managers see the feedback queue.")
    query = (
        db.select(ArticleFeedback)
        .join(Article, ArticleFeedback.article_id == Article.id)
        # One query for the page, not three more per row.
        .options(joinedload(ArticleFeedback.article), joinedload(ArticleFeedback.user),
                 joinedload(ArticleFeedback.resolved_by))
    )
    if article:
        query = query.where(Article.slug == article)
    if kind in FEEDBACK_KINDS:
        query = query.where(ArticleFeedback.kind == kind)
    if state == "open":
        query = query.where(_is_open())
    elif state == "resolved":
        query = query.where(ArticleFeedback.resolved_at.is_not(None))
    query = query.order_by(db.case((_is_open(), 0), else_=1),
                           ArticleFeedback.created_at.desc(), ArticleFeedback.id.desc())
    return db.paginate(query, page=page, per_page=PER_PAGE, error_out=False)


@dataclass
class ArticleCounts:
    slug: str
    title: str
    answered: int
    open_reports: int
    reports: int


def counts_by_article(user: User | None, limit: int = 50) -> list[ArticleCounts]:
    """Per article: "answered" marks, open and all out-of-date reports (one GROUP BY)."""
    require(user, "manager", "Only managers see feedback counts.")
    answered = db.func.sum(db.case((ArticleFeedback.kind == "answered", 1), else_=0))
    open_reports = db.func.sum(db.case((_is_open(), 1), else_=0))
    reports = db.func.sum(db.case((ArticleFeedback.kind == "outdated", 1), else_=0))
    rows = db.session.execute(
        db.select(Article.slug, Article.title, answered, open_reports, reports)
        .join(ArticleFeedback, ArticleFeedback.article_id == Article.id)
        .group_by(Article.id, Article.slug, Article.title)
        .order_by(open_reports.desc(), answered.desc(), Article.title)
        .limit(limit)
    )
    return [ArticleCounts(slug, title, int(a or 0), int(o or 0), int(r or 0))
            for slug, title, a, o, r in rows]


def open_count() -> int:
    """How many out-of-date reports wait for a manager (the Manage page's badge)."""
    return db.session.scalar(db.select(db.func.count(ArticleFeedback.id)).where(_is_open())) or 0


def resolve(feedback_id: int, note: str | None, user: User | None) -> ArticleFeedback:
    """Mark an out-of-date report resolved, with an optional note; audited (caller commits)."""
    require(user, "manager", "Only managers resolve feedback.")
    row = db.session.get(ArticleFeedback, feedback_id)
    if row is None:
        raise FeedbackNotFound(f"No feedback {feedback_id}.")
    text = _clean_text(note, "note", MAX_NOTE, "note")
    if row.kind != "outdated":
        raise Invalid("note", "Only out-of-date reports are resolved; “answered” marks are "
                              "counted, not resolved.")
    if row.resolved_at is not None:
        raise Invalid("note", "This report was already resolved; nothing changed.")
    row.resolved_at = utcnow()
    row.resolved_by_id = user.id
    row.resolution_note = text
    db.session.flush()
    audit.record(user, "feedback.resolved", row,
                 {"article": row.article.slug, "version": row.version_number, "note": text},
                 label=f"{row.article.slug} (feedback {row.id})")
    return row
