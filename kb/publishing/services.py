"""Publishing rules: drafts, validation, publish, approval, conflicts, slug renames.

Services flush; the view, API or CLI commits and then calls ``sync_index()``. Field
checks live in ``kb.publishing.validation``; archive, restore and category settings in
``kb.publishing.archive``.
"""

from __future__ import annotations

from kb.articles.services import save_version
from kb.callscripts.services import save_script_version
from kb.content.loader import ParsedArticle
from kb.core import audit
from kb.core.errors import Invalid, NotAllowed, NotFound, Stale
from kb.core.permissions import require
from kb.extensions import db
from kb.models import (
    Article,
    CategorySetting,
    Draft,
    SlugRedirect,
    Team,
    User,
    utcnow,
)
from kb.publishing.validation import (
    check_script,
    clean_slug,
    model_for,
    script_category,
)


class StaleVersion(Stale):
    """The change was based on version ``base`` but ``current`` has been published since."""

    def __init__(self, document, base: int, current: int):
        super().__init__(f"based on version {base}, but version {current} is current")
        self.document = document
        self.base = base
        self.current = current


# ----- finding -------------------------------------------------------------------------


def get_document(kind: str, slug: str):
    """The article or call script with this slug, archived ones included; raises NotFound."""
    document = db.session.scalar(db.select(model_for(kind)).filter_by(slug=slug))
    if document is None or document.current_version is None:
        raise NotFound(slug)
    return document


def current_number(document) -> int:
    """The document's current version number (0 for a document not yet published)."""
    if document is None or document.current_version is None:
        return 0
    return document.current_version.number


def draft_for(kind: str, document) -> Draft | None:
    """The open draft of a document, if there is one."""
    if document is None:
        return None
    return db.session.scalar(db.select(Draft).filter_by(kind=kind, document_id=document.id))


def get_draft(draft_id: int) -> Draft:
    """A draft by id; raises NotFound."""
    draft = db.session.get(Draft, draft_id)
    if draft is None:
        raise NotFound(str(draft_id))
    return draft


def document_of(draft: Draft):
    """The document a draft changes, or None for a draft of a new document."""
    if draft.document_id is None:
        return None
    return db.session.get(model_for(draft.kind), draft.document_id)


def article_choices() -> list[tuple[str, str]]:
    """(slug, title) of every article that is not archived, for the editor's link picker."""
    rows = db.session.execute(
        db.select(Article.slug, Article.title)
        .where(Article.archived_at.is_(None), Article.current_version_id.is_not(None))
        .order_by(Article.title)
    )
    return [(slug, title) for slug, title in rows]


# ----- drafts --------------------------------------------------------------------------


def save_draft(user: User, kind: str, document, fields: dict, markdown: str,
               base_version: int, *, draft: Draft | None = None) -> Draft:
    """Keep the manager's unfinished change (one open draft per document); returns it.

    ``draft`` is the draft of a new document being saved again (it has no document yet).
    """
    require(user, "manager", "Only managers can save drafts.")
    if document is not None or draft is None or draft.kind != kind:
        draft = draft_for(kind, document)
    if draft is None:
        draft = Draft(kind=kind, document_id=document.id if document else None,
                      author_id=user.id, created_at=utcnow())
        db.session.add(draft)
    if draft.state == "pending":
        raise NotAllowed("This change is waiting for approval; it cannot be edited until "
                         "it is approved or sent back.")
    draft.fields = dict(fields)
    draft.markdown = markdown
    draft.base_version = base_version
    draft.author_id = user.id
    draft.state = "draft"
    draft.updated_at = utcnow()
    db.session.flush()
    audit.record(user, "draft.saved", draft, {"kind": kind, "base_version": base_version},
                 label=fields.get("slug") or f"draft:{draft.id}")
    return draft


def discard_draft(user: User, draft: Draft) -> None:
    """Throw a draft away (audited "draft discarded")."""
    require(user, "manager", "Only managers can discard drafts.")
    audit.record(user, "draft.discarded", draft,
                 {"kind": draft.kind, "base_version": draft.base_version,
                  "state": draft.state},
                 label=(draft.fields or {}).get("slug") or f"draft:{draft.id}")
    db.session.delete(draft)
    db.session.flush()


def open_drafts() -> list[Draft]:
    """Every open draft, newest first."""
    return db.session.scalars(db.select(Draft).order_by(Draft.updated_at.desc())).all()


def pending_drafts() -> list[Draft]:
    """Changes waiting for a second manager's approval, oldest first."""
    return db.session.scalars(
        db.select(Draft).filter_by(state="pending").order_by(Draft.submitted_at, Draft.id)
    ).all()


# ----- approval rule -------------------------------------------------------------------


def category_requires_approval(category: str) -> bool:
    """True when managers set the category to need approval."""
    return bool(db.session.scalar(
        db.select(CategorySetting.requires_approval).filter_by(category=category)))


def approval_required(kind: str, document, fields: dict, markdown: str = "") -> bool:
    """Whether publishing this change needs a second manager: the document's flag (before
    or after the change) or its category's setting."""
    if document is not None and document.requires_approval:
        return True
    if fields.get("requires_approval"):
        return True
    category = fields.get("category") if kind == "article" else script_category(markdown)
    if document is not None and category_requires_approval(document.category):
        return True
    return bool(category) and category_requires_approval(category)


# ----- publishing ----------------------------------------------------------------------


def check_base(document, base_version: int) -> None:
    """Raise StaleVersion when a version newer than ``base_version`` has been published."""
    current = current_number(document)
    if base_version != current:
        raise StaleVersion(document, base_version, current)


def _rename(kind: str, document, new_slug: str) -> None:
    """Give a document a new slug, keeping every old one redirecting to it."""
    old = document.slug
    # A slug coming back into use no longer redirects anywhere.
    db.session.execute(db.delete(SlugRedirect).filter_by(kind=kind, old_slug=new_slug))
    if old != new_slug:
        exists = db.session.scalar(db.select(SlugRedirect).filter_by(kind=kind, old_slug=old))
        if exists is None:
            db.session.add(SlugRedirect(kind=kind, old_slug=old, document_id=document.id))
        else:
            exists.document_id = document.id
        document.slug = new_slug


def publish_change(user: User, kind: str, document, fields: dict, markdown: str,
                   base_version: int, change_summary: str, material: bool, *,
                   approver: User | None = None, author: User | None = None,
                   draft: Draft | None = None):
    """Publish a change as the document's next version; returns (document, version).

    Raises StaleVersion when the change was based on an older version (nothing is
    written), NotAllowed when it needs approval and has none, Invalid for bad fields.
    ``draft`` is the draft of a new document being published (removed with it).
    """
    require(user, "manager", "Only managers can publish.")
    if approver is None and approval_required(kind, document, fields, markdown):
        raise NotAllowed("This document needs a second manager's approval: submit it "
                         "for approval instead.")
    check_base(document, base_version)
    author = author or user
    slug = fields["slug"]
    if document is not None and slug != document.slug:
        _rename(kind, document, clean_slug(kind, slug, document))
    elif document is None:
        db.session.execute(db.delete(SlugRedirect).filter_by(kind=kind, old_slug=slug))
    if kind == "article":
        parsed = ParsedArticle(
            slug=slug, title=fields["title"], category=fields["category"],
            summary=fields["summary"], body=markdown, path="", tags=list(fields["tags"]),
            owner=fields["owner"], review_cycle_months=fields["review_cycle_months"],
            requires_signoff=fields["requires_signoff"],
        )
        is_new = document is None
        document, _created = save_version(document, parsed, author=author,
                                          change_summary=change_summary, material=material)
        _apply_signoff_settings(user, document, fields, audited=not is_new)
    else:
        parsed = check_script(markdown, slug)
        parsed.change_summary = change_summary
        document, _created = save_script_version(document, parsed, author=author,
                                                 material=material)
    document.requires_approval = bool(fields.get("requires_approval"))
    version = document.current_version
    if approver is not None and _created:
        version.approved_by_id = approver.id
    draft = draft if draft is not None and draft.document_id is None else draft_for(
        kind, document)
    # The editor opens the document's one draft, so publishing is publishing it; a change
    # waiting for approval stays queued (it is now stale) unless this is its approval.
    if draft is not None and (draft.state != "pending" or approver is not None):
        db.session.delete(draft)
    db.session.flush()
    return document, version


SIGNOFF_SETTINGS = ("signoff_role", "signoff_team_id", "signoff_window_days",
                    "signoff_questions")


def _apply_signoff_settings(user: User, article: Article, fields: dict, *,
                            audited: bool) -> None:
    """Set who signs, the days and the questions (they live on the document, not in its
    versions); a change is audited as "article.metadata", with or without a new version."""
    # Older drafts and API calls may lack a setting: then it stays as it is. A team or
    # questions given as None/[] mean "every team" and "no questions".
    for name in ("signoff_role", "signoff_window_days"):
        if fields.get(name) is not None:
            setattr(article, name, fields[name])
    if "signoff_team_id" in fields:
        article.signoff_team_id = fields["signoff_team_id"]
    if "signoff_questions" in fields:
        article.signoff_questions = fields["signoff_questions"] or None
    changes = audit.changed_fields(article, SIGNOFF_SETTINGS)
    if audited and changes["after"] | changes["before"]:
        article.updated_at = utcnow()
        audit.record(user, "article.metadata", article, changes)


def team_choices() -> list[tuple[str, str]]:
    """("", "Every team") then (id, name) of each team, for the editor's team choice."""
    teams = db.session.execute(db.select(Team.id, Team.name).order_by(Team.name))
    return [("", "Every team")] + [(str(i), name) for i, name in teams]


def submit_for_approval(user: User, kind: str, document, fields: dict, markdown: str,
                        base_version: int, change_summary: str, material: bool, *,
                        draft: Draft | None = None) -> Draft:
    """Put a change in the approval queue (its draft, state "pending"); audited."""
    check_base(document, base_version)
    if kind == "script":
        check_script(markdown, fields["slug"])
    draft = save_draft(user, kind, document, fields, markdown, base_version, draft=draft)
    draft.state = "pending"
    draft.change_summary = change_summary
    draft.material = material
    draft.comment = ""
    draft.submitted_at = utcnow()
    audit.record(user, "draft.submitted", draft,
                 {"kind": kind, "base_version": base_version, "summary": change_summary},
                 label=fields.get("slug") or f"draft:{draft.id}")
    return draft


def _check_reviewer(user: User, draft: Draft) -> None:
    """Only a manager who is not the author may decide on a pending change."""
    require(user, "manager", "Only managers can approve changes.")
    if draft.state != "pending":
        raise Invalid("draft", "This change is not waiting for approval.")
    if draft.author_id == user.id:
        raise NotAllowed("You wrote this change, so another manager must approve it.")


def approve(user: User, draft: Draft):
    """A second manager approves a pending change: it is published with them recorded as
    approver. Raises StaleVersion if the document moved on; returns (document, version)."""
    _check_reviewer(user, draft)
    document = document_of(draft)
    fields = dict(draft.fields)
    kind, slug = draft.kind, fields.get("slug", "")
    if document is None:
        fields["slug"] = clean_slug(kind, slug)  # taken since it was submitted?
    detail = {"kind": kind, "base_version": draft.base_version,
              "author": draft.author.username}
    document, version = publish_change(
        user, kind, document, fields, draft.markdown, draft.base_version,
        draft.change_summary, draft.material, approver=user, author=draft.author,
        draft=draft,
    )
    audit.record(user, "draft.approved", document, {**detail, "version": version.number})
    return document, version


def send_back(user: User, draft: Draft, comment: str) -> Draft:
    """A second manager returns a pending change to its author with a comment; audited."""
    _check_reviewer(user, draft)
    comment = (comment or "").strip()
    if not comment:
        raise Invalid("comment", "Say what needs changing, so the author knows what to do.")
    if len(comment) > 4000:
        raise Invalid("comment", "Keep the comment under 4,000 characters.")
    draft.state = "returned"
    draft.comment = comment
    draft.reviewer_id = user.id
    audit.record(user, "draft.rejected", draft, {"kind": draft.kind, "comment": comment},
                 label=(draft.fields or {}).get("slug") or f"draft:{draft.id}")
    db.session.flush()
    return draft


def rebase(user: User, kind: str, document, fields: dict, markdown: str) -> Draft:
    """After a conflict: keep the manager's text as a draft on top of the current version."""
    return save_draft(user, kind, document, fields, markdown, current_number(document))
