"""The search page (works without JavaScript) and the OpenSearch description."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import current_app, render_template, request, url_for
from flask_login import current_user

from kb.search import bp, providers
from kb.search.query import MAX_QUERY_CHARS
from kb.search.services import categories, public_slug, result_url, run_search


@bp.app_template_global("result_url")
def _result_url(hit) -> str:
    return result_url(hit)


@bp.app_template_global("result_href")
def _result_href(hit, results, rank: int) -> str:
    """A result's link, carrying the search it came from and its place in the list, so
    opening it is logged as a click-through (the page stays the same page)."""
    url = result_url(hit)
    if getattr(results, "log_id", None) is None:
        return url
    return f"{url}{'&' if '?' in url else '?'}{urlencode({'from': results.log_id, 'rank': rank})}"


@bp.app_template_global("max_query_chars")
def _max_query_chars() -> int:
    """How much of a query search reads (the page shows the same part)."""
    return MAX_QUERY_CHARS


@bp.app_template_global("result_slug")
def _result_slug(hit) -> str:
    return public_slug(hit)


def _search_args() -> tuple[str, str, str]:
    """The query, category and kind asked for; an unknown kind is ignored (the API says
    400, the page and the typeahead shrug it off)."""
    kind = request.args.get("kind", "")
    kind = kind if kind in providers.kinds() else ""
    return request.args.get("q", ""), request.args.get("category", ""), kind


@bp.route("/search")
def search():
    """Search results for ``q``, optionally within one category or one kind."""
    query, category, kind = _search_args()
    results = run_search(query, category=category, kind=kind or None, limit=20, user=current_user)
    return render_template(
        "search/results.html",
        query=query,
        category=category,
        kind=kind,
        kinds={kind: p.label for kind, p in providers.registered().items()},
        results=results,
        categories=categories(),
    )


@bp.route("/search/suggest")
def suggest():
    """The typeahead's answer: the same results fragment the search page renders."""
    # One renderer: kb.js swaps this fragment's banner, status and list into the page.
    query, category, kind = _search_args()
    results = run_search(query, category=category, kind=kind or None,
                         limit=current_app.config["KB_SEARCH_LIMIT"], user=current_user,
                         source="typeahead")
    return render_template("search/_results.html", query=query, category=category, kind=kind,
                           kinds=None, results=results)


@bp.route("/opensearch.xml")
def opensearch():
    """Lets a browser search the knowledge base from its address bar."""
    # From configuration, never the Host header: a forged header must not put another
    # site's address into what the browser saves.
    base = current_app.config["KB_BASE_URL"].rstrip("/")
    xml = render_template("search/opensearch.xml", search_url=base + url_for("search.search"))
    return xml, 200, {"Content-Type": "application/opensearchdescription+xml"}
