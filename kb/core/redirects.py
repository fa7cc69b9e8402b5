"""Old slugs of renamed documents (articles, call scripts): where their pages went."""

from __future__ import annotations

from kb.extensions import db
from kb.models import SlugRedirect


def current_slug(kind: str, model: type, old_slug: str) -> str | None:
    """The slug now used by the document once called ``old_slug``, or None.

    A redirect names the document itself, so any number of renames is one lookup.
    """
    row = db.session.scalar(db.select(SlugRedirect).filter_by(kind=kind, old_slug=old_slug))
    if row is None:
        return None
    document = db.session.get(model, row.document_id)
    if document is None or document.slug == old_slug:
        return None
    return document.slug
