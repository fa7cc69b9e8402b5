"""Response-time API: when is a reply due, and which standards exist."""

from __future__ import annotations

from flask import jsonify, request

from kb.api import bp
from kb.tools.duedates.arithmetic import DueDateError, parse_moment
from kb.tools.duedates.services import UnknownStandard, as_rule, compute, list_standards


@bp.route("/standards")
def standards():
    """The active response standards."""
    return jsonify(standards=[
        {"key": s.key, "label": s.label, "channel": s.channel, "rule": s.rule,
         "amount": s.amount, "description": as_rule(s).describe()}
        for s in list_standards()
    ])


@bp.route("/due-date")
def due_date():
    """When a reply under ``standard`` is due for a request received at ``from``."""
    key = request.args.get("standard", "")
    received_text = request.args.get("from", "")
    try:
        received = parse_moment(received_text) if received_text else None
        result = compute(key, received)
    except UnknownStandard:
        valid = ", ".join(s.key for s in list_standards())
        return jsonify(error="bad_request",
                       message=f"Unknown standard {key[:60]!r}. Valid standards: {valid}."), 400
    except DueDateError as error:
        return jsonify(error="bad_request", message=str(error)), 400
    return jsonify(
        standard=result.rule.key,
        label=result.rule.label,
        channel=result.rule.channel,
        rule=result.rule.describe(),
        **{"from": result.received.isoformat()},
        clock_starts=result.clock_starts.isoformat(),
        due=result.due.isoformat(),
        explanation=result.explanation,
    )

