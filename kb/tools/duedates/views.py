"""The response-time calculator and, for managers, the standards behind it."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from kb.core.clock import local_datetime
from kb.core.permissions import role_required
from kb.extensions import db
from kb.tools import bp
from kb.tools.duedates.arithmetic import DueDateError, format_due, parse_moment
from kb.tools.duedates.forms import StandardForm
from kb.tools.duedates.models import ResponseStandard
from kb.tools.duedates.services import (
    UnknownStandard,
    compute,
    list_standards,
    missing_amount,
    save_standard,
)


@bp.route("/due-date")
def due_date():
    """Pick a standard and when the request arrived; see when the reply is due."""
    standards = list_standards()
    key = request.args.get("standard", "")
    received_text = request.args.get("from", "")
    result = error = None
    if key:
        try:
            received = parse_moment(received_text) if received_text else None
            result = compute(key, received)
        except UnknownStandard:
            error = "Choose one of the standards in the list."
        except DueDateError as exc:
            error = str(exc)
    return render_template(
        "tools/due_date.html",
        standards=standards,
        selected=key,
        received_text=received_text or local_datetime().strftime("%Y-%m-%dT%H:%M"),
        result=result,
        due_text=format_due(result) if result else None,
        error=error,
    ), 400 if error else 200


@bp.route("/due-date/standards")
@role_required("manager")
def standards():
    """Every standard, for managers to check and change."""
    return render_template("tools/standards.html", standards=list_standards(True))


@bp.route("/due-date/standards/new", methods=["GET", "POST"])
@bp.route("/due-date/standards/<int:standard_id>", methods=["GET", "POST"])
@role_required("manager")
def edit_standard(standard_id: int | None = None):
    """Add a standard or change one; every change goes in the audit log."""
    standard = None
    if standard_id is not None:
        standard = db.session.get(ResponseStandard, standard_id) or abort(404)
    form = StandardForm(obj=standard)
    if form.validate_on_submit():
        amount = form.amount.data or 0
        missing = missing_amount(form.rule.data, amount)
        if missing:
            form.amount.errors.append(missing)
        else:
            try:
                saved = save_standard(
                    standard, key=form.key.data, label=form.label.data,
                    channel=form.channel.data, rule=form.rule.data, amount=amount,
                    active=form.active.data, user=current_user,
                )
            except DueDateError as exc:
                db.session.rollback()
                form.key.errors.append(str(exc))
            else:
                db.session.commit()
                flash(f"Saved “{saved.label}”.", "success")
                return redirect(url_for("tools.standards"))
    return render_template("tools/standard_form.html", form=form, standard=standard)
