"""Publishing rules: drafts, validation, publish, approval, conflicts, slug renames.

Services flush; the view, API or CLI commits and then calls ``sync_index()``. Archive,
restore and category settings live in ``kb.publishing.archive``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kb.articles.services import save_version
from kb.callscripts.format import RESERVED_SLUGS, ScriptInvalid, parse_script_text
from kb.callscripts.services import article_versions, save_script_version
from kb.content.loader import (
    MAX_CHARS,
    ContentError,
    ParsedArticle,
    parse_tags,
    slug_message,
    split_front_matter,
)
from kb.core import audit
from kb.core.errors import Invalid, NotAllowed, NotFound, Stale
from kb.core.permissions import require
from kb.extensions import db
from kb.models import (
    Article,
    CallScript,
    CategorySetting,
    Draft,
    SlugRedirect,
    User,
    utcnow,
)

MODELS: dict[str, type] = {"article": Article, "script": CallScript}
NOUNS = {"article": "article", "script": "call script"}
# /articles/<slug> and /scripts/<slug>/ share their folders with these pages.
RESERVED = {"article": set(), "script": set(RESERVED_SLUGS)}
MAX_MARKDOWN = 500_000
ARTICLE_FIELDS = ("title", "slug", "category", "tags", "summary", "owner",
                  "review_cycle_months", "requires_signoff", "requires_approval")


class StaleVersion(Stale):
    """The change was based on version ``base`` but ``current`` has been published since."""

    def __init__(self, document, base: int, current: int):
        super().__init__(f"based on version {base}, but version {current} is current")
        self.document = document
        self.base = base
        self.current = current


@dataclass(frozen=True)
class Problem:
    """One problem in a call script's source: the line and step it belongs to."""

    message: str
    line: int | None = None
    step: str | None = None


class ScriptProblems(Invalid):
    """A call script that fails the import checks; ``problems`` lists each one."""

    def __init__(self, problems: list[Problem]):
        count = len(problems)
        super().__init__("markdown", f"The call script has {count} problem"
                         f"{'s' if count != 1 else ''}; each is listed beside its step.")
        self.problems = problems


# ----- finding -------------------------------------------------------------------------


def model_for(kind: str) -> type:
    """The model of a document kind ("article" or "script"); NotFound for any other."""
    if kind not in MODELS:
        raise NotFound(kind)
    return MODELS[kind]


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


# ----- validation ----------------------------------------------------------------------


def clean_slug(kind: str, slug: str, document=None) -> str:
    """A valid, unused slug for a document of ``kind``; raises Invalid("slug", ...)."""
    slug = (slug or "").strip()
    if not slug:
        raise Invalid("slug", "Enter a slug: lower-case letters, digits and hyphens.")
    if len(slug) > MAX_CHARS["slug"]:
        raise Invalid("slug", f"The slug is {len(slug)} characters; the most is "
                      f"{MAX_CHARS['slug']}.")
    if slug_message(slug):
        raise Invalid("slug", "The slug may use only lower-case letters, digits and hyphens, "
                      "and must start and end with a letter or digit (e.g. lost-keys).")
    if slug in RESERVED[kind]:
        raise Invalid("slug", f"“{slug}” is reserved for a page of the site; choose another.")
    other = db.session.scalar(db.select(model_for(kind)).filter_by(slug=slug))
    if other is not None and (document is None or other.id != document.id):
        raise Invalid("slug", f"Another {NOUNS[kind]} already uses the slug “{slug}”.")
    return slug


def _text(data: Mapping, key: str, label: str, *, required: bool = False) -> str:
    """A one-line text field, spaces tidied, checked against its column size."""
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise Invalid(key, f"{label} must be text.")
    text = " ".join((value or "").split())
    if required and not text:
        raise Invalid(key, f"Enter the {label.lower()}.")
    limit = MAX_CHARS.get(key, 2000)
    if len(text) > limit:
        raise Invalid(key, f"{label} is {len(text)} characters; the most is {limit}.")
    return text


def _flag(data: Mapping, key: str) -> bool:
    """A yes/no field: a JSON boolean or a checkbox's presence."""
    value = data.get(key, False)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"y", "yes", "on", "true", "1"}:
        return True
    if value is None or (isinstance(value, str) and value.strip().lower() in
                         {"", "n", "no", "off", "false", "0"}):
        return False
    raise Invalid(key, f"{key} must be true or false.")


def clean_markdown(value: object, *, field: str = "markdown") -> str:
    """Body text with Windows line ends removed; raises Invalid when empty or huge."""
    if not isinstance(value, str):
        raise Invalid(field, "The text must be a string of Markdown.")
    text = value.replace("\r\n", "\n").replace("\x00", "").strip()
    if not text:
        raise Invalid(field, "The text is empty: write the article's body.")
    if len(text) > MAX_MARKDOWN:
        raise Invalid(field, f"The text is {len(text):,} characters; the most is "
                      f"{MAX_MARKDOWN:,}.")
    return text + "\n"


def clean_article_fields(data: Mapping, document=None) -> dict:
    """The article front matter in ``data`` checked and tidied; raises Invalid(field, msg)."""
    tags = data.get("tags") or []
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.split(",")]
    tags = parse_tags(tags)
    if tags is None or any(len(t) > 60 for t in tags) or len(tags) > 30:
        raise Invalid("tags", "Tags must be a list of words (at most 30, each up to 60 "
                      "characters), e.g. repairs, leak.")
    cycle = data.get("review_cycle_months", 12)
    if isinstance(cycle, str) and cycle.strip().isdigit():
        cycle = int(cycle.strip())
    if isinstance(cycle, bool) or not isinstance(cycle, int) or not 1 <= cycle <= 60:
        raise Invalid("review_cycle_months", "The review cycle must be a whole number of "
                      "months from 1 to 60.")
    summary = data.get("summary") or ""
    if not isinstance(summary, str):
        raise Invalid("summary", "The quick answer must be text.")
    if len(summary) > 2000:
        raise Invalid("summary", "The quick answer is too long; keep it under 2,000 "
                      "characters.")
    return {
        "title": _text(data, "title", "Title", required=True),
        "slug": clean_slug("article", data.get("slug") or "", document),
        "category": _text(data, "category", "Category") or "General",
        "tags": tags,
        "summary": " ".join(summary.split()),
        "owner": _text(data, "owner", "Owner"),
        "review_cycle_months": cycle,
        "requires_signoff": _flag(data, "requires_signoff"),
        "requires_approval": _flag(data, "requires_approval"),
    }


def clean_change(change_summary: object, material: object) -> tuple[str, bool]:
    """The required change summary and the material flag; raises Invalid."""
    if change_summary is not None and not isinstance(change_summary, str):
        raise Invalid("change_summary", "The change summary must be text.")
    summary = " ".join((change_summary or "").split())
    if not summary:
        raise Invalid("change_summary", "Say in a few words what changed and why (the "
                      "change summary agents see).")
    if len(summary) > MAX_CHARS["change_summary"]:
        raise Invalid("change_summary", f"The change summary is {len(summary)} characters; "
                      f"the most is {MAX_CHARS['change_summary']}.")
    return summary, _flag({"material": material}, "material")


def check_script(source: str, slug: str):
    """Parse call script source exactly as the import does; raises ScriptProblems."""
    try:
        return parse_script_text(source, f"{slug}.md", slug=slug,
                                 known_articles=set(article_versions()))
    except ScriptInvalid as invalid:
        errors = invalid.errors
    except ContentError as error:  # front matter broken before steps could be read
        errors = [error]
    raise ScriptProblems([Problem(e.message, e.line, getattr(e, "step", None))
                          for e in errors])


def script_category(source: str) -> str:
    """The category named in a script's front matter (for the approval rule)."""
    try:
        meta, _body, _line = split_front_matter("editor", source)
    except ContentError:
        return ""
    return str(meta.get("category") or "Call scripts")


def preview_body(kind: str, text: str) -> str:
    """The Markdown the preview renders: a script's source without its front matter."""
    if kind != "script":
        return text
    try:
        return split_front_matter("editor", text.replace("\r\n", "\n"))[1]
    except ContentError:
        return text


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
        document, _created = save_version(document, parsed, author=author,
                                          change_summary=change_summary, material=material)
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
