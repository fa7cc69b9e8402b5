"""Response standards as data: sets, seeding, listing, editing (audited), and due dates."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import yaml
from flask import current_app

from kb.core import audit
from kb.core.clock import local_datetime
from kb.core.errors import NotFound
from kb.core.permissions import require
from kb.extensions import db
from kb.models import User, utcnow
from kb.tools.duedates.arithmetic import (
    EVENT_WORDS,
    EVENTS,
    KEY_MAX,
    REGION_CODES,
    RULES_WITH_AMOUNT,
    DueDate,
    DueDateError,
    Rule,
    Step,
    WorkingCalendar,
    chain_inputs,
    chain_of,
    due_chain,
    extension_sentence,
    parse_moment,
    region_name,
    sentence,
    validate_chain,
    validate_rule,
)
from kb.tools.duedates.models import POLICY_SET, ResponseStandard, StandardSet

SEED_FILE = Path(__file__).resolve().parents[2] / "data" / "response_standards.yml"
KEY_RE = re.compile(rf"^[a-z0-9][a-z0-9-]{{0,{KEY_MAX - 1}}}$")
# The columns a standard's data (seed file, pack, form) may set, besides its set.
STANDARD_FIELDS = ("key", "label", "channel", "rule", "amount", "counts_from", "event",
                   "extension_days", "extension_note", "promise", "citation")


class UnknownStandard(NotFound):
    """No active standard in a set in force has this key."""


@dataclass(frozen=True)
class Chain:
    """The due dates for one standard, with every step it counts from."""

    standard_set: StandardSet
    calendar: WorkingCalendar
    steps: list[Step]
    inputs: list[str]  # the EVENTS names this chain takes recorded dates for

    @property
    def result(self) -> DueDate:
        return self.steps[-1].result


def calendar(region: str | None = None) -> WorkingCalendar:
    """The working calendar: ``region``'s bank holidays (default: the KB_HOLIDAY_REGION
    setting) within the centre's time zone and working hours."""
    config = current_app.config
    return WorkingCalendar(
        region or config["KB_HOLIDAY_REGION"], config["TIMEZONE"], config["KB_WORKING_HOURS"]
    )


def set_calendar(standard_set: StandardSet) -> WorkingCalendar:
    return calendar(standard_set.region)


def policy_set() -> StandardSet:
    """The set of our own policy (made by the migration; made again if someone removed it)."""
    found = db.session.scalar(db.select(StandardSet).filter_by(key=POLICY_SET))
    if found is None:
        found = StandardSet(key=POLICY_SET, label="Our policy", in_force=True, position=0,
                            source="Customer contact management policy")
        db.session.add(found)
        db.session.flush()
    return found


def seed_standards() -> int:
    """Load the shipped standards into an empty table; returns how many were added."""
    if db.session.scalar(db.select(db.func.count(ResponseStandard.id))):
        return 0
    rows = yaml.safe_load(SEED_FILE.read_text(encoding="utf-8"))
    home = policy_set()
    for position, row in enumerate(rows):
        db.session.add(ResponseStandard(standard_set=home, position=position,
                                        **standard_values(row)))
    db.session.flush()
    audit.record(None, "standard.seed", ("response_standard", ""),
                 {"count": len(rows), "keys": [row["key"] for row in rows]},
                 label="response standards")
    return len(rows)  # the caller commits


def standard_values(row: dict) -> dict:
    """A standard's columns from a row of the seed file or a pack, with defaults."""
    values = {field: row.get(field) for field in STANDARD_FIELDS}
    values["amount"] = int(values["amount"] or 0)
    values["extension_days"] = int(values["extension_days"] or 0)
    values["counts_from"] = values["counts_from"] or "received"
    for field in ("event", "extension_note", "promise", "citation"):
        values[field] = str(values[field] or "").strip()
    return values


def list_sets(in_force_only: bool = False) -> list[StandardSet]:
    query = db.select(StandardSet).order_by(StandardSet.position, StandardSet.id)
    if in_force_only:
        query = query.filter_by(in_force=True)
    return db.session.scalars(query).all()


def list_standards(include_inactive: bool = False) -> list[ResponseStandard]:
    """Standards in display order: set by set. Without ``include_inactive``, only the
    active standards of the sets in force (what the calculator offers)."""
    query = (db.select(ResponseStandard).join(ResponseStandard.standard_set)
             .order_by(StandardSet.position, StandardSet.id, ResponseStandard.position,
                       ResponseStandard.id))
    if not include_inactive:
        query = query.where(ResponseStandard.active.is_(True), StandardSet.in_force.is_(True))
    return db.session.scalars(query).all()


def as_rule(standard: ResponseStandard) -> Rule:
    return Rule(after=_after_words(standard), **_rule_fields(standard))


def _after_words(standard: ResponseStandard) -> str:
    """The step a chained standard counts from, in words: the event it records ("the
    acknowledgement"), or the end of its deadline."""
    if standard.counts_from in EVENTS or standard.standard_set is None:
        return ""
    before = next((s for s in standard.standard_set.standards
                   if s.key == standard.counts_from), None)
    if before is None:
        return ""
    if before.event:
        return EVENT_WORDS[before.event]
    return f"the deadline to {before.promise}" if before.promise else (
        f"the deadline for “{before.label}”")


def _rule_fields(standard: ResponseStandard) -> dict:
    return dict(key=standard.key, label=standard.label, channel=standard.channel,
                rule=standard.rule, amount=standard.amount,
                counts_from=standard.counts_from or "received", event=standard.event or "",
                extension_days=standard.extension_days or 0,
                extension_note=standard.extension_note or "", promise=standard.promise or "",
                citation=standard.citation or "")


def rules_of(standard_set: StandardSet) -> dict[str, Rule]:
    """Every standard of a set as Rules by key (inactive ones too: a chain may pass
    through a step the calculator does not offer on its own)."""
    return {s.key: as_rule(s) for s in standard_set.standards}


def get_standard(key: str) -> ResponseStandard:
    """The active standard with this key in a set in force; raises UnknownStandard."""
    standard = db.session.scalar(
        db.select(ResponseStandard).join(ResponseStandard.standard_set)
        .where(ResponseStandard.key == key, ResponseStandard.active.is_(True),
               StandardSet.in_force.is_(True)))
    if standard is None:
        raise UnknownStandard(key)
    return standard


def get_rule(key: str) -> Rule:
    return as_rule(get_standard(key))


def compute(key: str, received: datetime | None = None) -> DueDate:
    """The due date for standard ``key`` counting from ``received`` (or now), with the
    steps before it assumed to take their full time."""
    return compute_chain(key, now=received).result


def compute_chain(key: str, events: dict[str, datetime] | None = None,
                  now: datetime | None = None) -> Chain:
    """Every step up to standard ``key``: recorded dates in ``events`` (by EVENTS name)
    are used where given, and each other step counts from the last day of the one
    before; the first event, when not recorded, happened at ``now`` (default: now)."""
    standard = get_standard(key)
    standard_set = standard.standard_set
    rules = rules_of(standard_set)
    unknown = set(events or {}) - set(EVENTS)
    if unknown:
        raise DueDateError(f"Unknown event {sorted(unknown)[0]!r}; events are: "
                           f"{', '.join(EVENTS)}.")
    work = set_calendar(standard_set)
    steps = due_chain(rules, key, events or {}, work, now or local_datetime())
    return Chain(standard_set, work, steps, chain_inputs(rules, key))


def missing_amount(rule: str, amount: int) -> str | None:
    """Why a rule counted in days or hours cannot have this amount, or None if it can."""
    if rule in RULES_WITH_AMOUNT and amount < 1:
        return "This rule needs a number of days or hours."
    return None


def save_standard(
    standard: ResponseStandard | None,
    *,
    user: User,
    standard_set: StandardSet | None = None,
    active: bool = True,
    **fields,
) -> ResponseStandard:
    """Create or change a standard, recording before and after in the audit log (managers
    only; raises NotAllowed). ``fields`` are STANDARD_FIELDS; the standard stays in its
    set unless ``standard_set`` moves it (new standards go into our policy by default).
    Raises DueDateError for a standard that cannot be used. The caller commits."""
    require(user, "manager", "Only managers can change the response standards.")
    values = standard_values({**(({f: getattr(standard, f) for f in STANDARD_FIELDS})
                                  if standard else {}), **fields})
    key = values["key"] or ""
    validate_rule(values["rule"], values["amount"])
    if not KEY_RE.match(key):
        raise DueDateError("Key must be lower-case letters, digits and hyphens.")
    clash = db.session.scalar(db.select(ResponseStandard).filter_by(key=key))
    if clash is not None and clash is not standard:
        raise DueDateError(f"Another standard already uses the key {key!r}.")
    target = standard_set or (standard.standard_set if standard else policy_set())
    before = snapshot(standard) if standard else None
    if values["rule"] not in RULES_WITH_AMOUNT:
        values["amount"] = 0
    rules = {k: r for k, r in rules_of(target).items()
             if standard is None or k != standard.key}
    rules[key] = Rule(**{f: values[f] for f in ("key", "label", "channel", "rule", "amount",
                                                 "counts_from", "event", "extension_days",
                                                 "extension_note", "promise")})
    validate_chain(rules)
    if standard is not None and target is not standard.standard_set:
        # The set it leaves must still make sense without it.
        after = [s for s in standard.standard_set.standards
                 if s is not standard and s.counts_from == standard.key]
        if after:
            raise DueDateError(
                f"“{after[0].label}” counts from the end of this standard in "
                f"“{standard.standard_set.label}”, so it cannot move to another set; change "
                "that standard first.")
    if standard is None:
        position = db.session.scalar(db.select(db.func.max(ResponseStandard.position)))
        standard = ResponseStandard(position=(position or 0) + 1)
        db.session.add(standard)
    for field, value in values.items():
        setattr(standard, field, value.strip() if isinstance(value, str) else value)
    standard.standard_set, standard.active, standard.updated_at = target, active, utcnow()
    db.session.flush()
    audit.record(user, "standard.create" if before is None else "standard.update", standard,
                 {"before": before, "after": snapshot(standard)})
    return standard


def save_set(standard_set: StandardSet, *, user: User, label: str, region: str | None,
             in_force: bool) -> StandardSet:
    """Rename a set, choose its bank holidays, or put it in or out of force (managers
    only; audited). At least one set stays in force. The caller commits."""
    require(user, "manager", "Only managers can change the response standards.")
    label = label.strip()
    if not label or len(label) > 120:
        raise DueDateError("Give the set a name of up to 120 characters.")
    if region and region not in REGION_CODES:
        raise DueDateError("Choose England and Wales, Scotland or Northern Ireland.")
    same = db.session.scalar(db.select(StandardSet).where(
        db.func.lower(StandardSet.label) == label.lower(), StandardSet.id != standard_set.id))
    if same is not None:
        raise DueDateError(f"Another set is already called “{label}”: give each a "
                           "different name, so agents can tell them apart.")
    if not in_force and standard_set.in_force and not any(
            s.in_force for s in list_sets() if s.id != standard_set.id):
        raise DueDateError("At least one set of standards must stay in force; put another "
                           "in force first.")
    before = set_snapshot(standard_set)
    standard_set.label, standard_set.region = label, region or None
    standard_set.in_force, standard_set.updated_at = in_force, utcnow()
    db.session.flush()
    after = set_snapshot(standard_set)
    if after != before:
        audit.record(user, "standard_set.update", ("standard_set", standard_set.key),
                     {"before": before, "after": after}, label=standard_set.label)
    return standard_set


def set_region_name(standard_set: StandardSet) -> str:
    """The set's bank holidays in words (the installation's when the set has none)."""
    return region_name(standard_set.region or current_app.config["KB_HOLIDAY_REGION"])


def in_force_summary() -> list[StandardSet]:
    """The sets in force, for pages that say which standards apply."""
    return list_sets(in_force_only=True)


def snapshot(standard: ResponseStandard) -> dict:
    data = {k: getattr(standard, k) for k in (*STANDARD_FIELDS, "active")}
    data["set"] = standard.standard_set.key if standard.standard_set else None
    return data


def set_snapshot(standard_set: StandardSet) -> dict:
    return {"label": standard_set.label, "region": standard_set.region,
            "in_force": standard_set.in_force}


def parse_event_dates(values) -> dict[str, datetime]:
    """The recorded dates among ``values`` (a mapping of EVENTS names to text, such as
    request.args); empty ones are left out. Raises DueDateError naming the wrong one."""
    events = {}
    for name, label in EVENTS.items():
        text = (values.get(name) or "").strip()
        if text:
            try:
                events[name] = parse_moment(text)
            except DueDateError as error:
                raise DueDateError(f"{label}: {error}") from None
    return events


def today() -> date:
    return local_datetime().date()


# --- The calculator's questions and answers (shared by the page and the API) ---------------

DATE_TEXT_MAX = 64  # longer than any time we accept, short enough to refuse junk quickly
REASON_MAX = 300


@dataclass(frozen=True)
class ChainForm:
    """What the calculator asks for a standard: the chain's first event (the ``from``
    field), then each event recorded along the way, its own last step's included."""

    fields: list[str]  # EVENTS names; fields[0] is the first event
    extension: bool  # some step of the chain allows an extension

    @property
    def first(self) -> str:
        return self.fields[0]


def chain_form(standard: ResponseStandard, rules: dict[str, Rule] | None = None) -> ChainForm:
    """The dates the calculator asks for ``standard`` (``rules``: its set's, if known)."""
    chain = chain_of(rules or rules_of(standard.standard_set), standard.key)
    return ChainForm([chain[0].counts_from] + [rule.event for rule in chain if rule.event],
                     any(rule.extension_days for rule in chain))


def read_chain_dates(form: ChainForm, values) -> dict[str, datetime]:
    """The recorded dates the calculator was given (``values``: request.args): ``from``
    is the chain's first event (also accepted by its name); only the chain's own events
    are read. Raises DueDateError naming the event whose date cannot be used."""
    texts = {name: (values.get(name) or "") for name in form.fields}
    texts[form.first] = values.get("from") or texts[form.first]
    for name, text in texts.items():
        if len(text) > DATE_TEXT_MAX:
            raise DueDateError(f"{EVENTS[name]}: that is too long to be a date; give it "
                               "as YYYY-MM-DDTHH:MM, e.g. 2026-11-23T14:30.")
    return parse_event_dates(texts)


def read_reason(values) -> str:
    """The reason given for an extension, on one line; raises DueDateError when too long."""
    reason = " ".join((values.get("reason") or "").split())
    if len(reason) > REASON_MAX:
        raise DueDateError(f"Reason for extension: keep it to {REASON_MAX} characters.")
    return reason


@dataclass(frozen=True)
class ReadOut:
    """One step of a chain as the calculator shows it."""

    step: Step
    rule_words: str  # 'within 10 working days of the acknowledgement'
    counts_from: str  # 'the acknowledgement, as recorded', 'the last day allowed for ...'
    sentence: str  # to read to the caller
    extension_sentence: str | None  # when an extension is allowed

    @property
    def result(self) -> DueDate:
        return self.step.result


def read_out(chain: Chain, today: date, reason: str = "") -> list[ReadOut]:
    """Every step of ``chain`` with its rule, start and sentences in words."""
    rules = rules_of(chain.standard_set)
    steps = []
    for index, step in enumerate(chain.steps):
        words = EVENT_WORDS[step.start_event]
        if step.recorded:
            start = f"{words}, as {'given' if index == 0 else 'recorded'}"
        elif index == 0:
            start = f"{words}, taken as now"
        else:
            start = f"the last day allowed for {words}, as no date is recorded"
        steps.append(ReadOut(step, step.rule.describe(rules), start,
                             sentence(step.result, today),
                             extension_sentence(step.result, today, reason)))
    return steps
