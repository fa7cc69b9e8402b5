"""Sign-off status API: where every person stands on every standard (managers, admins).

A GET: the session cookie or a bearer token signs the caller in (the request loader), so
no CSRF token is involved.
"""

from __future__ import annotations

from flask import abort, jsonify, request
from flask_login import current_user

from kb.api import bp
from kb.core.permissions import require
from kb.signoffs import dashboard as board


@bp.route("/signoffs/status")
def signoff_status():
    """GET /api/signoffs/status[?team=<id>&role=<role>]: documents and each person's states
    (agents 403; a bad filter 400 naming it)."""
    require(current_user, "manager", "Only managers can read sign-off statuses.")
    known = board.teams()
    filters, problems = board.parse_filters(current_user, request.args, known,
                                            default_own_team=False)
    if problems:
        abort(400, description=" ".join(problems))
    return jsonify(board.status_json(board.grid(current_user, filters)))
