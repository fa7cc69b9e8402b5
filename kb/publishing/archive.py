"""Archive (unpublish) and restore, and the per-category approval settings."""

from __future__ import annotations

from kb.core import audit
from kb.core.errors import Invalid
from kb.core.permissions import require
from kb.core.signals import document_archived
from kb.extensions import db
from kb.models import Article, CallScript, CategorySetting, User, utcnow
from kb.search.vocabularies import recognise

MAX_CATEGORY = 80


def archive(user: User, document) -> None:
    """Take a document out of search and navigation; its versions (and sign-offs) stay."""
    require(user, "manager", "Only managers can archive.")
    if document.archived_at is not None:
        raise Invalid("archive", "This is already archived.")
    if isinstance(document, Article) and document.slug in pinned_articles():
        raise Invalid("archive", "This article is shown first whenever a search sounds like "
                      "a crisis or an emergency, so it cannot be archived. Edit it instead.")
    document.archived_at = utcnow()
    document.archived_by_id = user.id
    # updated_at moves so the search index's watermark sees the change at once.
    document.updated_at = document.archived_at
    audit.record(user, "document.archived", document,
                 {"version": document.current_version.number if document.current_version
                  else None})
    db.session.flush()
    document_archived.send(document, user=user)


def pinned_articles() -> set[str]:
    """The articles search puts first for a caller at risk or a hazard (never archived)."""
    intent = recognise("")  # no match, but it names the articles the vocabularies pin
    return {intent.crisis_article, intent.emergency_article}


def restore(user: User, document) -> None:
    """Bring an archived document back into search and navigation."""
    require(user, "manager", "Only managers can restore.")
    if document.archived_at is None:
        raise Invalid("restore", "This is not archived.")
    document.archived_at = None
    document.archived_by_id = None
    document.updated_at = utcnow()
    audit.record(user, "document.restored", document, {})
    db.session.flush()


def archived_documents() -> list[tuple[str, object]]:
    """("article" | "script", document) for everything archived, most recent first."""
    found: list[tuple[str, object]] = []
    for kind, model in (("article", Article), ("script", CallScript)):
        found += [(kind, doc) for doc in db.session.scalars(
            db.select(model).where(model.archived_at.is_not(None)))]
    return sorted(found, key=lambda item: item[1].archived_at, reverse=True)


def category_names() -> list[str]:
    """Every category an article or call script uses, or a setting names, A to Z."""
    names = set(db.session.scalars(db.select(Article.category).distinct()))
    names |= set(db.session.scalars(db.select(CallScript.category).distinct()))
    names |= set(db.session.scalars(db.select(CategorySetting.category)))
    return sorted(n for n in names if n)


def approval_settings() -> dict[str, bool]:
    """category -> whether its changes need approval (False when never set)."""
    rows = db.session.execute(
        db.select(CategorySetting.category, CategorySetting.requires_approval))
    settings = dict.fromkeys(category_names(), False)
    settings.update({name: required for name, required in rows})
    return settings


def set_category_approval(user: User, category: str, required: bool) -> bool:
    """Turn approval on or off for a category; returns whether anything changed."""
    require(user, "manager", "Only managers can change publishing settings.")
    category = " ".join((category or "").split())
    if not category or len(category) > MAX_CATEGORY:
        raise Invalid("category", "Choose a category from the list.")
    if category not in category_names():
        raise Invalid("category", f"There is no category called “{category}”.")
    row = db.session.scalar(db.select(CategorySetting).filter_by(category=category))
    if row is None:
        if not required:
            return False
        row = CategorySetting(category=category, requires_approval=False)
        db.session.add(row)
    if row.requires_approval == required:
        return False
    row.requires_approval = required
    row.updated_by_id = user.id
    row.updated_at = utcnow()
    db.session.flush()
    audit.record(user, "category.approval_changed", ("category", category),
                 {"requires_approval": required}, label=category)
    return True
