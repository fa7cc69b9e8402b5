"""History rules: listing and opening versions, choosing a pair to compare, revert, and
the material changes agents see on "What's new"."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload

from kb.core import audit
from kb.core.errors import Invalid, NotFound
from kb.core.permissions import require
from kb.core.versioning import publish
from kb.extensions import db
from kb.models import Article, ArticleVersion, CallScript, CallScriptVersion, User, utcnow

log = logging.getLogger(__name__)

WHATS_NEW_DAYS = 30
MAX_REASON_CHARS = 400  # the change summary column holds 500; "Reverted to version N: " fits


class DocumentNotFound(NotFound):
    """No document of this kind has this slug (or it has no version yet)."""


class VersionNotFound(NotFound):
    """The document has no version with this number."""


@dataclass(frozen=True)
class Kind:
    """One kind of versioned document and where its tables and pages are."""

    name: str  # as in the URL: "articles", "scripts"
    label: str  # as people say it: "article", "call script"
    document: type
    version: type
    parent: str  # the version's column naming its document
    page: str  # the endpoint of the document's own page
    revertible: bool


KINDS = {
    "articles": Kind("articles", "article", Article, ArticleVersion, "article_id",
                     "articles.article", revertible=True),
    # Scripts are not reverted here: an old script can cite an article that has since
    # gone, and only the call-script import validates a script.
    "scripts": Kind("scripts", "call script", CallScript, CallScriptVersion, "script_id",
                    "callscripts.start", revertible=False),
}


@dataclass(frozen=True)
class VersionRow:
    """A version as the history page lists it."""

    version: object
    author: str
    approver: str
    current: bool


def kind_of(name: str) -> Kind:
    """The kind named in a URL; raises NotFound for any other name."""
    try:
        return KINDS[name]
    except KeyError:
        raise NotFound(name) from None


def get_document(kind: Kind, slug: str, reader=None):
    """The document of ``kind`` with this slug; raises DocumentNotFound. An archived
    document's history is for managers (who may restore it), as the document itself is."""
    document = db.session.scalar(db.select(kind.document).filter_by(slug=slug))
    if document is None or document.current_version_id is None:
        raise DocumentNotFound(slug)
    if document.archived_at is not None and not (reader and reader.has_role("manager")):
        raise DocumentNotFound(slug)
    return document


def versions_of(kind: Kind, document) -> list:
    """Every version of the document, newest first."""
    return db.session.scalars(
        db.select(kind.version)
        .where(getattr(kind.version, kind.parent) == document.id)
        .order_by(kind.version.number.desc())
    ).all()


def get_version(kind: Kind, document, number: int):
    """The document's version ``number``; raises VersionNotFound."""
    version = db.session.scalar(
        db.select(kind.version).where(
            getattr(kind.version, kind.parent) == document.id, kind.version.number == number
        )
    )
    if version is None:
        raise VersionNotFound(f"{document.slug} v{number}")
    return version


def history_rows(kind: Kind, document) -> list[VersionRow]:
    """The history page's table: each version with its author's and approver's names."""
    versions = versions_of(kind, document)
    # approved_by_id arrives with approval (another branch); until then no approver shows.
    approvers = {v.id: getattr(v, "approved_by_id", None) for v in versions}
    ids = {v.author_id for v in versions} | set(approvers.values())
    ids.discard(None)
    names = {}
    if ids:
        names = dict(db.session.execute(
            db.select(User.id, User.display_name).where(User.id.in_(ids))).all())
    return [
        VersionRow(
            version=version,
            author=names.get(version.author_id, ""),
            approver=names.get(approvers[version.id], ""),
            current=version.id == document.current_version_id,
        )
        for version in versions
    ]


def parse_number(raw: str | None) -> int | None:
    """A version number from the query string (None when absent); NotFound if it is not
    one."""
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or len(raw) > 9:
        raise VersionNotFound(raw)
    return int(raw)


def compare_pair(kind: Kind, document, from_raw: str | None, to_raw: str | None):
    """The two versions to compare: as asked, by default the previous against the current.

    Numbers belong to this document, so versions of another document cannot be named.
    """
    current = get_version(kind, document, document.current_version.number)
    to_number = parse_number(to_raw)
    newer = current if to_number is None else get_version(kind, document, to_number)
    from_number = parse_number(from_raw)
    if from_number is None:
        from_number = max(newer.number - 1, 1)
    older = get_version(kind, document, from_number)
    return older, newer


def revert(slug: str, number: int, user, *, reason: str = "", material: bool = True):
    """Publish a new version of the article equal to its version ``number`` (text, title,
    quick answer); returns it. History is never rewritten. The caller commits."""
    require(user, "manager", "Only a manager can restore an old version.")
    kind = KINDS["articles"]
    article = get_document(kind, slug, user)
    old = get_version(kind, article, number)
    current = article.current_version
    reason = " ".join((reason or "").split())
    if len(reason) > MAX_REASON_CHARS:
        raise Invalid("reason", f"Keep the reason under {MAX_REASON_CHARS} characters.")
    if (old.sha256, old.title, old.summary) == (current.sha256, current.title, current.summary):
        raise Invalid("number", f"Version {number} is the same as the current version, "
                                "so there is nothing to restore.")
    summary = f"Reverted to version {number}" + (f": {reason}" if reason else "")
    article.title = old.title
    article.summary = old.summary
    version, _created = publish(
        article, old.markdown, user, summary, material,
        version_class=ArticleVersion, action="article.version",
        fields={"title": old.title, "summary": old.summary, "material": material},
        compare=("title", "summary"), source=f"revert:{number}",
    )
    audit.record(user, "article.revert", article, {
        "reverted_to": number, "version": version.number, "reason": reason,
        "material": material,
    })
    return version


# ----- what's new ----------------------------------------------------------------------


def _changes(since: datetime):
    """Material changes after ``since`` to articles in use: first versions are content
    arriving, not a change agents must notice, so only versions after the first count."""
    return (
        ArticleVersion.material.is_(True),
        ArticleVersion.number > 1,
        ArticleVersion.created_at > since,
        # An archived article has left the knowledge base: its changes are not news.
        ArticleVersion.article.has(Article.archived_at.is_(None)),
    )


def window_start(now: datetime | None = None) -> datetime:
    """The oldest moment "What's new" reaches back to (30 days ago)."""
    return (now or utcnow()) - timedelta(days=WHATS_NEW_DAYS)


def whats_new(now: datetime | None = None) -> list[ArticleVersion]:
    """Material changes of the last 30 days, newest first, with their articles."""
    return db.session.scalars(
        db.select(ArticleVersion)
        .options(joinedload(ArticleVersion.article), joinedload(ArticleVersion.author))
        .where(*_changes(window_start(now)))
        .order_by(ArticleVersion.created_at.desc(), ArticleVersion.id.desc())
    ).all()


def unseen_since(user, now: datetime | None = None) -> datetime:
    """Where the user's unseen changes start: their last look, or the window's start."""
    start = window_start(now)
    seen = getattr(user, "whats_new_seen_at", None)
    return seen if seen is not None and seen > start else start


def unseen_count(user, now: datetime | None = None) -> int:
    """How many material changes the user has not seen yet (one indexed count)."""
    return db.session.scalar(
        db.select(func.count(ArticleVersion.id)).where(*_changes(unseen_since(user, now)))
    ) or 0


def record_look(user, now: datetime | None = None) -> bool:
    """Note that the user has looked at "What's new", committing at once; False (and
    nothing raised) when the database refuses, so the page never depends on it."""
    try:
        user.whats_new_seen_at = now or utcnow()
        db.session.commit()
        return True
    except SQLAlchemyError as error:
        db.session.rollback()
        log.warning("What's new: last look not saved: %s", type(error).__name__)
        return False
