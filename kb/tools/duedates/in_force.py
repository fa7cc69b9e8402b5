"""The standards in force and their due dates for "now", for other features' pages.

A call script step (``Due:``) or an article (front matter ``standards:``) shows what the
sets in force promise without importing this tool: ``helpers`` is registered as a context
processor, so templates get two lazy callables, ``response_dates(names)`` and
``standards_in_force()``, and render them with ``tools/_due_dates.html``. Nothing here
touches the database until a template calls one of them, and nothing raises into the
page: a standard that cannot be worked out is left out and logged.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.exc import SQLAlchemyError

from kb.extensions import db
from kb.tools.duedates import services
from kb.tools.duedates.arithmetic import DueDate, sentence, spoken_day
from kb.tools.duedates.models import ResponseStandard, StandardSet

log = logging.getLogger(__name__)
# What "now" stands for when a chain starts from something other than the request.
NOW_MEANS = {
    "acknowledged": "if the acknowledgement goes out now",
    "escalated": "if the resident asks to escalate now",
    "investigated": "if the investigation finishes now",
}


@dataclass(frozen=True)
class SetInForce:
    """A set of standards in force, as pages name it."""

    key: str
    label: str
    region: str  # its bank holidays in words: "England and Wales"


@dataclass(frozen=True)
class DueNow:
    """One standard's deadline for a request arriving now, ready to show and read out."""

    key: str
    label: str
    channel: str
    rule: str  # in words: "within 10 working days of the acknowledgement"
    due: datetime
    due_text: str  # "Thursday 3 September 2026", or "15:15 on Friday 25 December 2026"
    sentence: str  # "We will reply to your complaint by Thursday 3 September."
    extended: datetime | None = None
    extended_text: str = ""
    extension_note: str = ""
    # The earlier steps of its chain, each assumed to take its full time: (label, due).
    before: tuple[tuple[str, str], ...] = ()
    starts: str = ""  # for a chain not started by the request: "if ... now"


@dataclass(frozen=True)
class SetDates:
    standard_set: SetInForce
    dates: list[DueNow]


@dataclass
class DueBox:
    """What ``tools/_due_dates.html`` shows: the matching standards, set by set."""

    names: list[str]  # what the page asked for (empty: every standard in force)
    sets: list[SetDates] = field(default_factory=list)  # only sets with a match
    in_force: list[SetInForce] = field(default_factory=list)
    failed: bool = False  # the standards could not be read at all

    @property
    def one_region(self) -> str:
        """The bank holidays every set in force follows, or "" when they differ."""
        regions = {s.region for s in self.in_force}
        return regions.pop() if len(regions) == 1 else ""

    @property
    def other_sets(self) -> list[SetInForce]:
        """Sets in force with nothing matching here (named so no one assumes they're off)."""
        shown = {s.standard_set.key for s in self.sets}
        return [s for s in self.in_force if s.key not in shown]


def helpers() -> dict:
    """The context processor: lazy callables only, so a page that does not call them
    costs nothing."""
    return {"response_dates": response_dates, "standards_in_force": standards_in_force}


def standards_in_force() -> list[SetInForce]:
    """The sets in force with their names and bank holidays ([] if they cannot be read)."""
    try:
        return [_set(s) for s in services.in_force_summary()]
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("Could not read the standard sets in force")
        return []


def response_dates(
    names: Iterable[str] | str | None = None,
    *,
    channels: Iterable[str] | None = None,
    keys: Iterable[str] | None = None,
    now: datetime | None = None,
) -> DueBox:
    """The due dates for a request arriving ``now`` (default: now) under each active
    standard of the sets in force that ``names`` picks: a name matches a standard's
    channel or its key, ignoring case ("Complaints", "repair-emergency"); ``channels``
    and ``keys`` match only that. Nothing given: every standard in force. A chained
    standard counts on from the steps before it, each taking its full time."""
    if isinstance(names, str):
        names = [names]
    wanted = [n.strip() for n in (*(names or ()), *(channels or ()), *(keys or ())) if n.strip()]
    box = DueBox(names=wanted)
    any_name = {n.lower() for n in names or ()}
    by_channel = any_name | {c.strip().lower() for c in channels or ()}
    by_key = any_name | {k.strip().lower() for k in keys or ()}
    try:
        sets = services.in_force_summary()
        box.in_force = [_set(s) for s in sets]
        standards = services.list_standards()
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("Could not read the response standards in force")
        box.failed = True
        return box
    today = services.today()
    found: dict[int, list[DueNow]] = {}
    for standard in standards:
        if wanted and not (standard.channel.strip().lower() in by_channel
                           or standard.key.lower() in by_key):
            continue
        due = _due_now(standard, now, today)
        if due is not None:
            found.setdefault(standard.set_id, []).append(due)
    box.sets = [SetDates(_set(s), found[s.id]) for s in sets if s.id in found]
    return box


def _due_now(standard: ResponseStandard, now: datetime | None, today: date) -> DueNow | None:
    """One standard's dates, or None (logged) when it cannot be worked out: a broken
    standard must not take the call script or article down with it."""
    try:
        chain = services.compute_chain(standard.key, now=now)
        result = chain.result
        return DueNow(
            key=standard.key,
            label=standard.label,
            channel=standard.channel,
            rule=result.rule.describe(),
            due=result.due,
            due_text=due_words(result),
            sentence=sentence(result, today),
            extended=result.extended,
            extended_text=(spoken_day(result.extended.date(), date.min)
                           if result.extended else ""),
            extension_note=result.rule.extension_note.strip().rstrip("."),
            before=tuple((step.rule.label, due_words(step.result))
                         for step in chain.steps[:-1]),
            starts=NOW_MEANS.get(chain.steps[0].start_event, ""),
        )
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("Could not read response standard %r", standard.key)
    except Exception:  # a standard whose data no longer makes sense (edited by hand)
        log.exception("Could not work out the due date for response standard %r",
                      standard.key)
    return None


def due_words(result: DueDate) -> str:
    """The deadline as a date with its year, and the time for hour rules."""
    day = spoken_day(result.due.date(), date.min)  # date.min: always name the year
    return day if result.date_only else f"{result.due:%H:%M} on {day}"


def _set(standard_set: StandardSet) -> SetInForce:
    return SetInForce(standard_set.key, standard_set.label,
                      services.set_region_name(standard_set))
