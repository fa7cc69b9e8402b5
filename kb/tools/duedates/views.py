"""The response-time calculator and, for managers, the standards behind it."""

from __future__ import annotations

from dataclasses import replace

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from kb.core.clock import local_datetime
from kb.core.permissions import role_required
from kb.extensions import db
from kb.tools import bp
from kb.tools.duedates.arithmetic import DueDateError, format_due, parse_moment
from kb.tools.duedates.forms import EVENT_CHOICES, START_WORDS, StandardForm, StandardSetForm
from kb.tools.duedates.models import POLICY_SET, ResponseStandard, StandardSet
from kb.tools.duedates.packs import PackError, available_packs, find_pack, read_pack
from kb.tools.duedates.services import (
    UnknownStandard,
    as_rule,
    compute,
    list_sets,
    list_standards,
    missing_amount,
    save_set,
    save_standard,
    set_region_name,
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
    """Every set of standards, in force or not, for managers to check and change."""
    sets = list_sets()
    # The time allowed on its own: the table says what each counts from beside it.
    allowed = {s.id: replace(as_rule(s), counts_from="received").describe()
               for standard_set in sets for s in standard_set.standards}
    return render_template("tools/standards.html", sets=sets, packs=shipped_packs(sets),
                           allowed=allowed, region_name=set_region_name,
                           start_words=START_WORDS, event_words=EVENT_CHOICES)


def shipped_packs(sets: list[StandardSet]) -> list[dict]:
    """Each pack shipped with the product: its name, and the set it made if loaded."""
    by_key = {s.key: s for s in sets}
    try:
        names = available_packs()
    except FileNotFoundError:  # an installation without the packs folder
        names = []
    packs = []
    for name in names:
        try:
            key, problem = read_pack(find_pack(name))["key"], None
        except PackError as error:
            key, problem = None, str(error)
        packs.append({"name": name, "set": by_key.get(key), "problem": problem})
    return packs


@bp.route("/due-date/standards/new", methods=["GET", "POST"])
@bp.route("/due-date/standards/<int:standard_id>", methods=["GET", "POST"])
@role_required("manager")
def edit_standard(standard_id: int | None = None):
    """Add a standard or change one; every change goes in the audit log."""
    standard = None
    if standard_id is not None:
        standard = db.session.get(ResponseStandard, standard_id) or abort(404)
    sets = list_sets()
    if standard is None:  # new standards go into the set asked for, or our policy
        asked = request.args.get("set", type=int)
        home = next((s for s in sets if s.id == asked), None) or next(
            (s for s in sets if s.key == POLICY_SET), sets[0])
        form = StandardForm(set_id=home.id)
    else:
        form = StandardForm(obj=standard)
    form.offer(sets, list_standards(include_inactive=True), editing=standard)
    if form.validate_on_submit():
        amount = form.amount.data or 0
        missing = missing_amount(form.rule.data, amount)
        if missing:
            form.amount.errors.append(missing)
        else:
            try:
                saved = save_standard(
                    standard, user=current_user,
                    standard_set=db.session.get(StandardSet, form.set_id.data),
                    active=form.active.data, key=form.key.data, label=form.label.data,
                    channel=form.channel.data, rule=form.rule.data, amount=amount,
                    counts_from=form.counts_from.data, event=form.event.data,
                    extension_days=form.extension_days.data or 0,
                    extension_note=form.extension_note.data or "",
                    promise=form.promise.data or "", citation=form.citation.data or "",
                )
            except DueDateError as exc:
                db.session.rollback()
                form.attach(str(exc))
            else:
                db.session.commit()
                flash(f"Saved “{saved.label}” in “{saved.standard_set.label}”.", "success")
                return redirect(url_for("tools.standards", _anchor=f"set-{saved.set_id}"))
    return render_template("tools/standard_form.html", form=form, standard=standard)


@bp.route("/due-date/sets/<int:set_id>", methods=["GET", "POST"])
@role_required("manager")
def edit_set(set_id: int):
    """Rename a set, choose its bank holidays, or put it in or out of force (audited)."""
    standard_set = db.session.get(StandardSet, set_id) or abort(404)
    form = StandardSetForm(data={"label": standard_set.label,
                                 "region": standard_set.region or "",
                                 "in_force": standard_set.in_force})
    form.offer(current_app.config["KB_HOLIDAY_REGION"], standard_set.region)
    if form.validate_on_submit():
        try:
            save_set(standard_set, user=current_user, label=form.label.data,
                     region=form.region.data or None, in_force=form.in_force.data)
        except DueDateError as exc:
            db.session.rollback()
            form.attach(str(exc))
        else:
            db.session.commit()
            state = "in force" if standard_set.in_force else "not in force"
            flash(f"Saved “{standard_set.label}”: {state}, with the bank holidays of "
                  f"{set_region_name(standard_set)}.", "success")
            return redirect(url_for("tools.standards", _anchor=f"set-{standard_set.id}"))
    return render_template("tools/standard_set_form.html", form=form,
                           standard_set=standard_set)
