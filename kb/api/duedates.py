"""Response-time API: when is a reply due (every step of its chain), and which standards exist."""

from __future__ import annotations

from datetime import datetime

from flask import jsonify, request

from kb.api import bp
from kb.tools.duedates.arithmetic import KEY_MAX, DueDateError
from kb.tools.duedates.models import StandardSet
from kb.tools.duedates.services import (
    KEY_RE,
    ReadOut,
    UnknownStandard,
    chain_form,
    compute_chain,
    get_standard,
    list_sets,
    list_standards,
    read_chain_dates,
    read_out,
    read_reason,
    rules_of,
    set_region_name,
    today,
)


def _set(standard_set: StandardSet) -> dict:
    return {"key": standard_set.key, "label": standard_set.label,
            "bank_holidays": set_region_name(standard_set)}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


@bp.route("/standards")
def standards():
    """The standards the calculator offers (active, in sets in force), and those sets."""
    listed = list_standards()
    rules = {s.set_id: rules_of(s.standard_set) for s in listed}
    return jsonify(
        sets=[{**_set(s), "source": s.source, "source_url": s.source_url,
               "checked_on": s.checked_on.isoformat() if s.checked_on else None}
              for s in list_sets(in_force_only=True)],
        standards=[
            {"key": s.key, "label": s.label, "channel": s.channel, "rule": s.rule,
             "amount": s.amount, "description": rules[s.set_id][s.key].describe(rules[s.set_id]),
             "set": {"key": s.standard_set.key, "label": s.standard_set.label},
             "counts_from": s.counts_from, "event": s.event or None,
             "extension_days": s.extension_days, "promise": s.promise, "citation": s.citation}
            for s in listed
        ],
    )


def _step(item: ReadOut) -> dict:
    step, result = item.step, item.result
    data = {
        "standard": result.rule.key,
        "label": result.rule.label,
        "rule": item.rule_words,
        "counts_from": {"event": step.start_event, "date": result.received.isoformat(),
                        "recorded": step.recorded},
        "due": result.due.isoformat(),
        "sentence": item.sentence,
        "explanation": result.explanation,
    }
    if result.extended is not None:
        data["extended_due"] = result.extended.isoformat()
        data["extension_sentence"] = item.extension_sentence
    if step.done is not None:
        data["done"] = step.done.isoformat()
        data["on_time"] = not step.late
    return data


def _bad_request(message: str):
    return jsonify(error="bad_request", message=message), 400


@bp.route("/due-date")
def due_date():
    """When a reply under ``standard`` is due: ``from`` is the time of the chain's first
    event (default now); ``acknowledged=``, ``escalated=``... are recorded dates."""
    key = request.args.get("standard", "")
    try:
        if not KEY_RE.match(key):  # never send junk (a NUL, say) to the database
            raise UnknownStandard(key)
        standard = get_standard(key)
        form = chain_form(standard)
        reason = read_reason(request.args)
        chain = compute_chain(key, read_chain_dates(form, request.args))
    except UnknownStandard:
        valid = ", ".join(s.key for s in list_standards())
        return _bad_request(f"Unknown standard {key[:KEY_MAX]!r}. Valid standards: {valid}.")
    except DueDateError as error:
        return _bad_request(str(error))
    steps = read_out(chain, today(), reason)
    last, result = steps[-1], chain.result
    return jsonify(
        standard=result.rule.key,
        label=result.rule.label,
        channel=result.rule.channel,
        rule=last.rule_words,
        **{"from": chain.steps[0].result.received.isoformat()},
        clock_starts=result.clock_starts.isoformat(),
        due=result.due.isoformat(),
        explanation=result.explanation,
        set=_set(chain.standard_set),
        sentence=last.sentence,
        extended_due=_iso(result.extended),
        extension_sentence=last.extension_sentence,
        citation=result.rule.citation or None,
        steps=[_step(item) for item in steps],
    )
