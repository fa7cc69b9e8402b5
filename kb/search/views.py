"""The search page (works without JavaScript) and the OpenSearch description."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import current_app, redirect, render_template, request, url_for
from flask_login import current_user

from kb.bounds import MAX_ID
from kb.core.clock import format_local
from kb.core.errors import Invalid
from kb.extensions import db
from kb.search import bp, gaps, nearby, providers
from kb.search.forms import GapForm
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
    searched = bool(query.strip())
    return render_template(
        "search/results.html",
        query=query,
        category=category,
        kind=kind,
        kinds={kind: p.label for kind, p in providers.registered().items()},
        results=results,
        categories=categories(),
        # Only on this page (the typeahead's fragment stays small): when nothing matched,
        # the nearest categories and scripts; and, matched or not, the way to say so.
        empty_help=nearby.empty_help(query) if searched and not results.hits else None,
        gap_form=GapForm(q=query, log=results.log_id or "") if searched else None,
        reported=gaps.reported_today(current_user, query) if searched else None,
        gap_note_limit=gaps.MAX_NOTE_CHARS,
    )


def _log_id(raw: str) -> int | None:
    """A search log id from the form (None when missing or not a plausible id)."""
    if not raw.isdigit() or len(raw) > len(str(MAX_ID)):
        return None
    return int(raw) if 0 < int(raw) <= MAX_ID else None


@bp.route("/search/gaps", methods=["POST"])
def report_gap():
    """Record "Tell the knowledge team" for a search, then show the confirmation."""
    form = GapForm()
    if not form.validate_on_submit():  # only the CSRF token is validated here
        return render_template("search/gap.html", form=form, gap=None, error_field="csrf",
                               error="The form had expired. Search again and press the "
                                     "button once more.",
                               gap_note_limit=gaps.MAX_NOTE_CHARS), 400
    try:
        gap, created = gaps.report_gap(current_user, form.q.data or "", form.note.data or "",
                                       _log_id(form.log.data or ""))
    except Invalid as error:
        db.session.rollback()
        if error.field == "note":
            form.note.errors = [error.message]
        return render_template("search/gap.html", form=form, gap=None, error=error.message,
                               error_field=error.field,
                               gap_note_limit=gaps.MAX_NOTE_CHARS), 400
    db.session.commit()
    return redirect(url_for("search.gap", gap_id=gap.id, again=None if created else 1), 303)


@bp.route("/search/gaps/<int:gap_id>")
def gap(gap_id: int):
    """The confirmation of one of the user's reports (nobody else's)."""
    found = gaps.own_gap(current_user, gap_id)
    return render_template("search/gap.html", gap=found, form=None, error=None,
                           sent=format_local(found.created_at),
                           again=request.args.get("again") == "1")


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
