"""JSON endpoints; their shapes are the contracts in DESIGN.md."""

from __future__ import annotations

from flask import abort, current_app, jsonify, request
from flask_login import current_user

from kb.api import bp
from kb.api.shapes import article_json
from kb.articles.services import ArticleNotFound, get_article
from kb.search.providers import kinds
from kb.search.services import result_url, run_search

MAX_LIMIT = 50


@bp.route("/search")
def search():
    """Search results as JSON."""
    query = request.args.get("q", "")
    default = max(1, min(MAX_LIMIT, current_app.config["KB_SEARCH_LIMIT"]))
    limit = request.args.get("limit") or str(default)
    if not limit.isdigit() or len(limit) > 3 or not 1 <= int(limit) <= MAX_LIMIT:
        abort(400, description=f"limit must be a whole number from 1 to {MAX_LIMIT}.")
    kind = request.args.get("kind") or None
    if kind is not None and kind not in kinds():
        abort(400, description=f"kind must be one of: {', '.join(kinds())}.")
    source = "typeahead" if request.args.get("source") == "typeahead" else "api"
    results = run_search(
        query,
        category=request.args.get("category") or None,
        kind=kind,
        limit=int(limit),
        user=current_user,
        source=source,
    )
    return jsonify(
        query=query,
        total=results.total,
        took_ms=round(results.took_ms, 2),
        suggestion=results.suggestion,
        crisis=results.crisis,
        emergency=results.emergency,
        results=[
            {
                # A script's slug keeps its "script:" prefix: unique, and never mistaken
                # for an article's (the contract's key set stays exactly as documented).
                "slug": hit.slug,
                "title": hit.title,
                "url": result_url(hit),
                "summary": hit.summary,
                "snippet": hit.snippet,
                "category": hit.category,
                "score": round(hit.score, 4),
                "kind": hit.kind,
            }
            for hit in results.hits
        ],
    )


@bp.route("/articles/<slug>")
def article(slug: str):
    """One article's current version as JSON (archived ones: managers only)."""
    try:
        item = get_article(slug)
    except ArticleNotFound:
        abort(404)
    if item.archived_at is not None and not current_user.has_role("manager"):
        abort(404)
    return jsonify(article_json(item))

