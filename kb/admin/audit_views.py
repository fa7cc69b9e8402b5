"""The audit log pages (managers): read, filter, page, export. No route changes a row."""

from __future__ import annotations

from flask import Response, abort, render_template, request, stream_with_context
from flask_login import current_user

from kb.admin import bp
from kb.admin.audit import (
    NOBODY,
    AuditPageNotFound,
    audit_page,
    export_csv,
    filter_choices,
    parse_filters,
    time_text,
)
from kb.bounds import page_arg
from kb.core.clock import local_today
from kb.core.permissions import role_required


@bp.route("/audit")
@role_required("manager")
def audit_log():
    """Audit rows newest first; a bad filter value is ignored and explained (400)."""
    filters, problems = parse_filters(request.args)
    page = page_arg()
    try:
        pagination = audit_page(current_user, filters, page)
    except AuditPageNotFound:
        abort(404)
    return render_template(
        "admin/audit.html", pagination=pagination, filters=filters, problems=problems,
        choices=filter_choices(), args=filters.as_args(), nobody=NOBODY, time_text=time_text,
    ), (400 if problems else 200)


@bp.route("/audit.csv")
@role_required("manager")
def audit_csv():
    """The filtered rows as CSV (streamed, header row first, formulas neutralised)."""
    filters, problems = parse_filters(request.args)
    if problems:
        # Exporting something other than what was asked for would mislead: refuse instead.
        return Response("Nothing was exported. " + " ".join(problems) + "\n", status=400,
                        mimetype="text/plain")
    name = f"audit-log-{local_today().isoformat()}.csv"
    return Response(
        stream_with_context(export_csv(current_user, filters)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
