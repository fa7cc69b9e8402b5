"""The managers' sign-off pages: the dashboard, a person's history, the register CSV."""

from __future__ import annotations

from flask import Response, abort, render_template, request, stream_with_context, url_for
from flask_login import current_user
from markupsafe import Markup, escape

from kb.core.clock import local_today
from kb.core.errors import NotAllowed, NotFound
from kb.core.permissions import role_required
from kb.signoffs import bp
from kb.signoffs import dashboard as board

SAFE_LABELS = {state: str(escape(label)) for state, label in board.LABELS.items()}


@bp.route("/signoffs/dashboard")
@role_required("manager")
def dashboard():
    """People against sign-off documents, filtered by team and role (a bad filter value is
    left out and explained, 400)."""
    known = board.teams()
    filters, problems = board.parse_filters(current_user, request.args, known)
    grid = board.grid(current_user, filters)
    # One URL built per page, not one per row: url_for is slow at 500 rows.
    person_url = url_for("signoffs.person", user_id=0).removesuffix("0")
    return render_template(
        "signoffs/dashboard.html", grid=grid, teams=known, problems=problems,
        roles=board.ROLES, states=board.STATES, labels=board.LABELS,
        meanings=board.MEANINGS, person_url=person_url, all_teams=board.ALL_TEAMS,
        may_view=lambda person: board.may_view_person(current_user, person),
        row_cells=_row_cells,
    ), (400 if problems else 200)


def _row_cells(person: board.Person, columns: list) -> Markup:
    """One grid row's cells as HTML, each state in words (its symbol comes from the CSS).
    Cells are not links: the person's name at the start of the row is, so a keyboard user
    tabs once per person, not 30 times. Built here rather than in Jinja: at 500 × 30 the
    template's per-cell work took most of the page's time."""
    parts = []
    for doc in columns:
        cell = person.cells.get(doc.id)
        if cell is None:
            parts.append('<td class="st--na">n/a</td>')
        else:
            parts.append(f'<td class="st st--{cell.state}"><span>{SAFE_LABELS[cell.state]}'
                         "</span></td>")
    return Markup("".join(parts))


@bp.route("/signoffs/people/<int:user_id>")
@role_required("agent")
def person(user_id: int):
    """One person's sign-off history (managers: their team; admins: anyone; oneself)."""
    try:
        history = board.history(current_user, user_id)
    except NotFound:
        abort(404)
    except NotAllowed:
        abort(403)
    return render_template("signoffs/person.html", history=history, labels=board.LABELS)


@bp.route("/signoffs/register.csv")
@role_required("manager")
def register_csv():
    """Every signature as CSV, in chain order (streamed; formulas neutralised)."""
    lines = board.register_csv(current_user)
    name = f"signoff-register-{local_today().isoformat()}.csv"
    return Response(stream_with_context(lines), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
