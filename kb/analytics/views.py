"""The search analytics page (a period selector of plain links) and a CSV per report."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from kb.analytics import bp
from kb.analytics.export import to_csv
from kb.analytics.forms import ResolveGapForm
from kb.analytics.gaps import reported_gaps, resolve_gap
from kb.analytics.services import DEFAULT_PERIOD, PERIODS, REPORTS, SOURCES, window
from kb.core.errors import Invalid
from kb.core.permissions import role_required
from kb.extensions import db

# The search reports, and the gaps agents reported from the search page (open ones, of
# any age: the period does not apply to them).
ALL_REPORTS = {**REPORTS, "gaps": ("Gaps agents reported", reported_gaps)}


def _window():
    """The window asked for; an unknown period or source falls back to the default, and
    the page says so (returns the window and a notice, or None)."""
    raw_days, source = request.args.get("days", ""), request.args.get("source", "")
    notice = None
    days = int(raw_days) if raw_days.isdigit() and len(raw_days) < 4 else None
    if raw_days and days not in PERIODS:
        notice = (f"Showing the last {DEFAULT_PERIOD} days: the period can be 7, 30 or 90 "
                  "days.")
    if source not in SOURCES:
        notice, source = "Showing all searches: that kind of search is not known.", ""
    return window(days if days in PERIODS else DEFAULT_PERIOD, source), notice


@bp.route("/")
@role_required("manager")
def index():
    """Every report for the chosen period, as bar charts with their tables."""
    win, notice = _window()
    reports = {name: (title, fetch(current_user, win)) for name, (title, fetch)
               in ALL_REPORTS.items()}
    for row in reports["most-viewed"][1]:
        row.url = (url_for("articles.article", slug=row.extra["slug"])
                   if row.extra["kind"] == "Article"
                   else url_for("callscripts.start", slug=row.extra["slug"]))
    return render_template("analytics/index.html", win=win, reports=reports,
                           periods=PERIODS, sources=SOURCES, notice=notice)


@bp.route("/<report>.csv")
@role_required("manager")
def export(report: str):
    """One report as CSV (cells that look like formulas are neutralised)."""
    if report not in ALL_REPORTS:
        abort(404)
    win, _notice = _window()
    rows = ALL_REPORTS[report][1](current_user, win)
    name = f"search-{report}-{win.days}d{'-' + win.source if win.source else ''}.csv"
    return Response(to_csv(report, rows), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/gaps/resolve", methods=["POST"])
@role_required("manager")
def resolve():
    """Mark a reported gap resolved (every open report of its query), then back to the list."""
    form = ResolveGapForm()
    if not form.validate_on_submit():
        flash("The form had expired: press Mark resolved again.", "error")
        return redirect(url_for("analytics.index", _anchor="report-gaps"), 303)
    try:
        count = resolve_gap(current_user, form.query.data or "")
    except Invalid as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("analytics.index", _anchor="report-gaps"), 303)
    db.session.commit()
    query = " ".join((form.query.data or "").split())
    flash(f"Marked resolved: “{query}” ({count} report{'' if count == 1 else 's'})."
          if count else f"“{query}” had already been marked resolved.",
          "success" if count else "info")
    return redirect(url_for("analytics.index", _anchor="report-gaps"), 303)
