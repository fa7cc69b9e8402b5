"""The due date calculator and, for managers, the standards behind it."""

from __future__ import annotations

from dataclasses import dataclass, replace

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from kb.core.clock import local_datetime
from kb.core.permissions import role_required
from kb.extensions import db
from kb.tools import bp
from kb.tools.duedates.arithmetic import (
    EVENTS,
    KEY_MAX,
    DueDateError,
    format_due,
    format_moment,
)
from kb.tools.duedates.forms import EVENT_CHOICES, START_WORDS, StandardForm, StandardSetForm
from kb.tools.duedates.models import POLICY_SET, ResponseStandard, StandardSet
from kb.tools.duedates.packs import PackError, available_packs, find_pack, read_pack
from kb.tools.duedates.services import (
    DATE_TEXT_MAX,
    REASON_MAX,
    ChainForm,
    UnknownStandard,
    as_rule,
    chain_form,
    compute_chain,
    list_sets,
    list_standards,
    missing_amount,
    read_chain_dates,
    read_out,
    read_reason,
    rules_of,
    save_set,
    save_standard,
    set_region_name,
    today,
)


@bp.route("/due-date")
def due_date():
    """Pick a standard and the dates its chain needs; see every step and when it is due."""
    standards = list_standards()
    sets = _standard_sets(standards)
    forms = {k: form for group in sets for k, form in group.forms.items()}
    key = request.args.get("standard", "")[:KEY_MAX + 1]
    form = forms.get(key)
    chain = steps = None
    error = None
    reason = ""
    if key:
        try:
            if form is None:
                raise UnknownStandard(key)
            reason = read_reason(request.args)
            chain = compute_chain(key, read_chain_dates(form, request.args))
            steps = read_out(chain, today(), reason)
        except UnknownStandard:
            error = "Choose one of the standards in the list."
        except DueDateError as exc:
            error = str(exc)
    first = form.first if form else "received"
    error_field = _error_field(error, form) if error and form else None
    return render_template(
        "tools/due_date.html",
        sets=sets,
        form=form,
        selected=key if form else "",
        first_label=_event_label(first),
        event_labels={name: _event_label(name) for name in EVENTS},
        values=_form_values(form, first),
        reason=reason or " ".join(request.args.get("reason", "")[:REASON_MAX].split()),
        reason_max=REASON_MAX,
        chain=chain,
        steps=steps,
        due_text=format_due(chain.result) if chain else None,
        format_due=format_due,
        format_moment=format_moment,
        error=error,
        error_field=error_field,
    ), 400 if error else 200


@dataclass(frozen=True)
class _SetGroup:
    """A set in force as the calculator lists it."""

    standard_set: StandardSet
    bank_holidays: str
    channels: list[tuple[str, list[ResponseStandard]]]
    forms: dict[str, ChainForm]  # by key: the standards the calculator can work out
    rule_words: dict[str, str]


def _standard_sets(standards: list[ResponseStandard]) -> list[_SetGroup]:
    """The standards grouped by set, then by channel, in the managers' order."""
    by_set: dict[int, list[ResponseStandard]] = {}
    for standard in standards:
        by_set.setdefault(standard.set_id, []).append(standard)
    groups = []
    for members in by_set.values():
        chosen = members[0].standard_set
        rules = rules_of(chosen)
        channels: dict[str, list[ResponseStandard]] = {}
        forms = {}
        for standard in members:
            channels.setdefault(standard.channel, []).append(standard)
            try:
                forms[standard.key] = chain_form(standard, rules)
            except DueDateError:
                continue  # a broken chain is the managers' page's to show; not offered here
        groups.append(_SetGroup(chosen, set_region_name(chosen), list(channels.items()),
                                forms, {k: rule.describe(rules) for k, rule in rules.items()}))
    return groups


def _event_label(name: str) -> str:
    return "Request received" if name == "received" else EVENTS[name]


def _error_field(error: str, form: ChainForm) -> str | None:
    """The field an error is about (its message starts with the field's name), if any."""
    if error.startswith("Reason for extension:"):
        return "reason"
    for name in form.fields:
        if error.startswith(f"{EVENTS[name]}:"):
            return "from" if name == form.first else name
    return None


def _form_values(form: ChainForm | None, first: str) -> dict[str, str]:
    """What the date fields show: what was sent (cut short), and now for the first."""
    values = {name: request.args.get(name, "")[:DATE_TEXT_MAX] for name in EVENTS}
    values["from"] = (request.args.get("from") or values.get(first) or "")[:DATE_TEXT_MAX]
    if not values["from"]:
        values["from"] = local_datetime().strftime("%Y-%m-%dT%H:%M")
    return values


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
