"""What the publishing pages share: where a document is read, and the after-commit index
update with its message."""

from __future__ import annotations

from flask import flash, url_for

from kb.search.services import IndexUnavailable, sync_index


def document_url(kind: str, slug: str) -> str:
    """The page people read the document on."""
    if kind == "article":
        return url_for("articles.article", slug=slug)
    return url_for("callscripts.start", slug=slug)


def flash_synced(message: str) -> None:
    """After a commit that changed searchable content: update the index, flash the result."""
    try:
        sync_index()
    except IndexUnavailable:
        flash(f"{message} Search could not be updated just now; it will catch up "
              "automatically (at the latest when the site next starts).", "info")
    else:
        flash(message, "success")
