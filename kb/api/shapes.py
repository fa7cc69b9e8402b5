"""JSON shapes shared by the API modules (the contracts in DESIGN.md)."""

from __future__ import annotations

from kb.articles.services import content_date, render_version


def article_json(item) -> dict:
    """The contract's article shape (GET /api/articles/<slug>, and the publishing API)."""
    version = item.current_version
    return {
        "slug": item.slug,
        "title": item.title,
        "version": version.number,
        "sha256": version.sha256,
        "markdown": version.markdown,
        "html": render_version(version).html,
        "summary": item.summary,
        "category": item.category,
        "tags": list(item.tags),
        # When the record last changed (an import, a new version, its details edited), UTC.
        "updated_at": item.updated_at.isoformat() + "Z",
        # When the content last changed, as the page shows it: the 'updated:' date of the
        # current version's file, else the local day that version was published.
        "content_date": content_date(version).isoformat(),
        "requires_signoff": item.requires_signoff,
    }
