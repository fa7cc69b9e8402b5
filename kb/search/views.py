"""The search page (works without JavaScript) and the OpenSearch description."""

from __future__ import annotations

from flask import render_template, request, url_for
from flask_login import current_user

from kb.articles.services import categories
from kb.search import bp
from kb.search.services import run_search


@bp.route("/search")
def search():
    """Search results for ``q``, optionally within one category."""
    query = request.args.get("q", "")
    category = request.args.get("category", "")
    results = run_search(query, category=category, limit=20, user=current_user)
    return render_template(
        "search/results.html",
        query=query,
        category=category,
        results=results,
        categories=categories(),
    )


@bp.route("/opensearch.xml")
def opensearch():
    """Lets a browser search the knowledge base from its address bar."""
    xml = render_template(
        "search/opensearch.xml", search_url=url_for("search.search", _external=True)
    )
    return xml, 200, {"Content-Type": "application/opensearchdescription+xml"}
