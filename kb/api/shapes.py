"""JSON shapes shared by the API modules (the contracts in DESIGN.md)."""

from __future__ import annotations

from kb.articles.services import render_version


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
        "updated_at": item.updated_at.isoformat() + "Z",
        "requires_signoff": item.requires_signoff,
    }
