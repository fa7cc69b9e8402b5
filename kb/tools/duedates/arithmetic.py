"""Response-time arithmetic: working days, UK bank holidays, calendar hours. No Flask here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

KEY_MAX = 60  # a standard's key: the column's length, checked by form and service alike

# How a standard counts time.
END_OF_NEXT_WORKING_DAY = "end_of_next_working_day"
WORKING_DAYS = "working_days"
SAME_WORKING_DAY = "same_working_day"
CALENDAR_HOURS = "calendar_hours"
RULE_KINDS = {
    END_OF_NEXT_WORKING_DAY: "By the end of the following working day",
    WORKING_DAYS: "Within N working days",
    SAME_WORKING_DAY: "The same working day",
    CALENDAR_HOURS: "Within N hours (calendar time)",
}
RULES_WITH_AMOUNT = {WORKING_DAYS, CALENDAR_HOURS}
MAX_AMOUNT = {WORKING_DAYS: 260, CALENDAR_HOURS: 24 * 60}
# Bank holiday tables and date arithmetic need a sensible range (and 9999-12-31 + 1 day
# would overflow).
MIN_YEAR, MAX_YEAR = 1950, 2200


class DueDateError(ValueError):
    """A standard or a time that cannot be used; the message says what would work."""


# The events a standard can count from. "received" starts every chain; the others are
# recorded when a step is done (a standard's ``event``) or happen outside any standard
# (a resident asks to escalate). The names are the API's query parameters.
EVENTS = {
    "received": "Received",
    "acknowledged": "Acknowledged",
    "escalated": "Escalation requested",
    "investigated": "Investigation finished",
}
# Bank holiday calendars a standard set can follow (the ``holidays`` package's subdivisions
# of GB). England and Wales share their bank holidays; WLS is accepted for old settings.
REGIONS = {
    "ENG": "England and Wales",
    "SCT": "Scotland",
    "NIR": "Northern Ireland",
}
REGION_CODES = (*REGIONS, "WLS")
DEFAULT_PROMISE = "respond"


def region_name(code: str) -> str:
    return REGIONS.get(code, "Wales" if code == "WLS" else code)


@dataclass(frozen=True)
class Rule:
    key: str
    label: str
    channel: str
    rule: str
    amount: int = 0
    counts_from: str = "received"  # an EVENTS name, or another standard's key
    event: str = ""  # the EVENTS name recorded when this step is done, if any
    extension_days: int = 0  # working days a recorded extension may add
    extension_note: str = ""  # when an extension is allowed
    promise: str = ""  # what we will do, read to the caller: "reply to your complaint"
    citation: str = ""  # where the figure comes from
    # For a standard counting from another: that step in words ("the acknowledgement").
    after: str = ""

    def describe(self, rules: dict[str, Rule] | None = None) -> str:
        """The rule in words, e.g. 'within 3 working days'; with the set's ``rules``, a
        step counting from another names that one's event ('of the acknowledgement')."""
        if self.rule == WORKING_DAYS:
            text = f"within {self.amount} working day{'s' if self.amount != 1 else ''}"
        elif self.rule == CALENDAR_HOURS:
            text = f"within {self.amount} hour{'s' if self.amount != 1 else ''} (calendar time)"
        elif self.rule == SAME_WORKING_DAY:
            text = "the same working day"
        else:
            text = "by the end of the following working day"
        return text if self.counts_from == "received" else f"{text} of {self.start_words(rules)}"

    def start_words(self, rules: dict[str, Rule] | None = None) -> str:
        """What the count starts from, in words: 'receipt', 'the acknowledgement'."""
        if self.counts_from in EVENTS:
            return EVENT_WORDS[self.counts_from]
        if self.after:
            return self.after
        before = (rules or {}).get(self.counts_from)
        if before is not None and before.event:
            return EVENT_WORDS[before.event]
        return f"the deadline for {self.counts_from}"


EVENT_WORDS = {
    "received": "receipt",
    "acknowledged": "the acknowledgement",
    "escalated": "the request to escalate",
    "investigated": "the end of the investigation",
}


@dataclass(frozen=True)
class DueDate:
    rule: Rule
    received: datetime  # when the count starts from (the request, or the step before)
    clock_starts: datetime  # day rules: the start of day 1; hour rules: ``received``
    due: datetime  # local time
    explanation: list[str]
    extended: datetime | None = None  # the latest date an allowed extension reaches

    @property
    def date_only(self) -> bool:
        """True when the deadline is a day's end rather than an exact time."""
        return self.rule.rule != CALENDAR_HOURS


@dataclass(frozen=True)
class Step:
    """One standard in a chain: what it counted from, and whether that was recorded."""

    result: DueDate
    start_event: str  # the EVENTS name the count started from
    recorded: bool  # the start was a recorded date (False: the step before's last day)
    done: datetime | None = None  # when this step was recorded as done, if given

    @property
    def rule(self) -> Rule:
        return self.result.rule

    @property
    def late(self) -> bool:
        return self.done is not None and self.done > self.result.due


def validate_rule(rule: str, amount: int) -> None:
    """Raise DueDateError unless ``rule`` and ``amount`` make a usable standard."""
    if rule not in RULE_KINDS:
        raise DueDateError(f"Rule must be one of: {', '.join(RULE_KINDS)}.")
    if rule in RULES_WITH_AMOUNT and not 1 <= amount <= MAX_AMOUNT[rule]:
        raise DueDateError(f"This rule needs an amount from 1 to {MAX_AMOUNT[rule]}.")


def validate_chain(rules: dict[str, Rule]) -> None:
    """Raise DueDateError unless every standard in a set counts from an event or from
    another standard of the set, with no loops and no event recorded twice in a chain."""
    for rule in rules.values():
        if rule.event and rule.event not in EVENTS or rule.event == "received":
            raise DueDateError(f"{rule.key}: the event recorded when it is done must be one "
                               f"of: {', '.join(e for e in EVENTS if e != 'received')}.")
        if rule.counts_from not in EVENTS and rule.counts_from not in rules:
            raise DueDateError(f"{rule.key}: it counts from {rule.counts_from!r}, which is "
                               "neither an event nor a standard in the same set.")
        if rule.extension_days and rule.rule == CALENDAR_HOURS:
            raise DueDateError(f"{rule.key}: extensions are in working days, so a rule "
                               "counted in calendar hours cannot have one.")
        if not 0 <= rule.extension_days <= MAX_AMOUNT[WORKING_DAYS]:
            raise DueDateError(f"{rule.key}: an extension is from 0 to "
                               f"{MAX_AMOUNT[WORKING_DAYS]} working days.")
        chain_of(rules, rule.key)


def chain_of(rules: dict[str, Rule], key: str) -> list[Rule]:
    """The standards from the one that counts from an event down to ``key``, in order."""
    chain = [rules[key]]
    while chain[0].counts_from not in EVENTS:
        before = rules.get(chain[0].counts_from)
        if before is None:
            raise DueDateError(f"{chain[0].key} counts from {chain[0].counts_from!r}, "
                               "which is not a standard in the same set.")
        if before in chain:
            raise DueDateError(f"{key}: the standards count from each other in a loop.")
        chain.insert(0, before)
    events = [chain[0].counts_from] + [rule.event for rule in chain if rule.event]
    if len(events) != len(set(events)):
        raise DueDateError(f"{key}: an event is recorded twice in its chain.")
    return chain


def chain_inputs(rules: dict[str, Rule], key: str) -> list[str]:
    """The EVENTS names the chain ending at ``key`` can take a recorded date for, in
    order: the event it starts from, then each earlier step's event."""
    chain = chain_of(rules, key)
    return [chain[0].counts_from] + [rule.event for rule in chain[:-1] if rule.event]


class WorkingCalendar:
    """Monday to Friday within working hours, less the region's bank holidays."""

    def __init__(
        self,
        region: str = "ENG",
        timezone: str = "Europe/London",
        hours: str = "08:00-18:00",
    ) -> None:
        if region not in REGION_CODES:
            raise DueDateError(f"Bank holidays must be one of: {', '.join(REGION_CODES)}.")
        self.region = region
        self.tz = ZoneInfo(timezone)
        self.day_start, self.day_end = parse_hours(hours)

    @property
    def region_name(self) -> str:
        return region_name(self.region)

    def holiday(self, day: date) -> str | None:
        """The bank holiday's name on ``day``, or None."""
        return _holidays(self.region, day.year).get(day)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and self.holiday(day) is None

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def add_working_days(self, day: date, count: int) -> date:
        """The ``count``-th working day after ``day`` (day 1 is the next working day)."""
        for _ in range(count):
            day = self.next_working_day(day)
        return day

    def localise(self, moment: datetime) -> datetime:
        """``moment`` in local time; a naive time is taken to be local already."""
        if moment.tzinfo is None:
            return moment.replace(tzinfo=self.tz)
        return moment.astimezone(self.tz)

    def start_of(self, day: date) -> datetime:
        return datetime.combine(day, self.day_start, tzinfo=self.tz)

    def end_of(self, day: date) -> datetime:
        return datetime.combine(day, self.day_end, tzinfo=self.tz)

    def closed_because(self, day: date) -> str:
        """Why ``day`` is not a working day: 'a Saturday', 'a bank holiday (Easter Monday)'."""
        return _why_closed(self.holiday(day) or f"{day:%A}")


def due_date(rule: Rule, received: datetime, calendar: WorkingCalendar) -> DueDate:
    """When a reply or repair under ``rule`` is due, counting from ``received``.

    The counting rule: day 1 of "N working days" is the first working day after the day
    of receipt, whatever the hour (so a request on a non-working day has the first
    working day after it as day 1); "the end of the following working day" is the end of
    day 1. Working hours matter only for "the same working day". Hours are calendar time.
    """
    validate_rule(rule.rule, rule.amount)
    received = calendar.localise(received)
    notes: list[str] = []
    if rule.rule == CALENDAR_HOURS:
        # Calendar time is elapsed time: do the sum in UTC so a clock change neither adds
        # nor removes an hour, then show it on the local clock.
        utc = received.astimezone(ZoneInfo("UTC")) + timedelta(hours=rule.amount)
        due = utc.astimezone(calendar.tz)
        notes.append(f"{rule.amount} hours of calendar time, counted round the clock, "
                     "including nights, weekends and bank holidays")
        if due.utcoffset() != received.utcoffset():
            notes.append("the clocks change in this period; the time shown is on the "
                         "clock as it will be then")
        return DueDate(rule, received, received, due, notes)

    day = received.date()
    if rule.rule == SAME_WORKING_DAY:
        if calendar.is_working_day(day) and received.time() < calendar.day_end:
            due_day = day
        else:
            due_day = calendar.next_working_day(day)
            if calendar.is_working_day(day):
                notes.append(f"received after {calendar.day_end:%H:%M}, when the working "
                             f"day has ended, so it is answered on {_day(due_day)}")
            else:
                notes.append(f"received on {calendar.closed_because(day)}, so it is "
                             f"answered on the next working day, {_day(due_day)}")
        first = due_day
    else:
        count = 1 if rule.rule == END_OF_NEXT_WORKING_DAY else rule.amount
        first = calendar.next_working_day(day)
        due_day = calendar.add_working_days(day, count)
        opening = f"day 1 is {_day(first)}, the first working day after {_day(day)}"
        if not calendar.is_working_day(day):
            opening += f" (received on {calendar.closed_because(day)})"
        elif received.time() >= calendar.day_end:
            opening += (f"; arriving after {calendar.day_end:%H:%M} does not move it, since "
                        "the count starts the day after receipt anyway")
        notes.append(opening)
        if count > 1:
            notes.append(f"day {count} is {_day(due_day)}")
    skipped = [
        f"{calendar.holiday(d)}, {_day(d)}"
        for d in _days_between(day, due_day)
        if d.weekday() < 5 and calendar.holiday(d)
    ]
    if skipped:
        notes.append("bank holidays not counted: " + "; ".join(skipped))
    notes.append(f"working days are Monday to Friday, not counting bank holidays in "
                 f"{calendar.region_name}")
    extended = None
    if rule.extension_days:
        extended = calendar.end_of(calendar.add_working_days(due_day, rule.extension_days))
    return DueDate(rule, received, calendar.start_of(first), calendar.end_of(due_day), notes,
                   extended)


def due_chain(
    rules: dict[str, Rule],
    key: str,
    events: dict[str, datetime],
    calendar: WorkingCalendar,
    now: datetime,
) -> list[Step]:
    """Every step from the chain's first event to standard ``key``.

    A step counts from its event's recorded date in ``events`` when one is given, and
    otherwise from the last day allowed for the step before it (or ``now`` for the
    event the chain starts from).
    """
    chain = chain_of(rules, key)
    first_event = chain[0].counts_from
    start = events.get(first_event) or now
    recorded = first_event in events
    steps = []
    start_event = first_event
    for rule in chain:
        result = due_date(rule, start, calendar)
        done = events.get(rule.event) if rule.event else None
        steps.append(Step(result, start_event, recorded,
                          calendar.localise(done) if done else None))
        if rule.event:
            start_event = rule.event
            recorded = done is not None
            start = done if done is not None else result.due
    return steps


def sentence(result: DueDate, today: date) -> str:
    """What to read to the caller: 'We will reply to your complaint by Thursday 3 September.'"""
    return f"We will {result.rule.promise or DEFAULT_PROMISE} by {spoken_due(result, today)}."


def extension_sentence(result: DueDate, today: date, reason: str = "") -> str | None:
    """What to tell the resident when an allowed extension is used, or None."""
    if result.extended is None:
        return None
    why = f" because {reason.strip().rstrip('.')}" if reason.strip() else ""
    return (f"We need more time to {result.rule.promise or DEFAULT_PROMISE}{why}. We will "
            f"do so by {spoken_day(result.extended.date(), today)}.")


def spoken_due(result: DueDate, today: date) -> str:
    """'Thursday 3 September' (with the year when it is not this year), and the time for
    hour rules: '15:15 on Friday 25 December'."""
    day = spoken_day(result.due.date(), today)
    return day if result.date_only else f"{result.due:%H:%M} on {day}"


def spoken_day(day: date, today: date) -> str:
    return _day(day, year=day.year != today.year)


def parse_moment(text: str) -> datetime:
    """Parse '2026-11-23T14:30' (or with seconds or a UTC offset) or '2026-11-23'."""
    text = (text or "").strip()
    try:
        if len(text) == 10:
            moment = datetime.combine(date.fromisoformat(text), time(0, 0))
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise DueDateError(
            "Give the time the request arrived as YYYY-MM-DDTHH:MM in UK time, "
            "e.g. 2026-11-23T14:30 (or just a date, 2026-11-23)."
        ) from None
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise DueDateError(f"Give a date between {MIN_YEAR} and {MAX_YEAR}.")
    return moment


def parse_hours(text: str) -> tuple[time, time]:
    """Parse working hours written 'HH:MM-HH:MM'."""
    try:
        start, end = (time.fromisoformat(part.strip()) for part in text.split("-"))
    except ValueError:
        raise DueDateError("Working hours must look like 08:00-18:00.") from None
    if start >= end:
        raise DueDateError("Working hours must start before they end.")
    return start, end


def format_due(result: DueDate) -> str:
    """'Thursday 26 November 2026' for day rules, with the time for hour rules."""
    return format_moment(result.due, result.date_only)


def format_moment(moment: datetime, date_only: bool) -> str:
    text = _day(moment.date(), year=True)
    if date_only:
        return f"{text}, end of the working day ({moment:%H:%M})"
    return f"{text} at {moment:%H:%M}"


@lru_cache(maxsize=64)
def _holidays(region: str, year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("GB", subdiv=region, years=year)


def _days_between(first: date, last: date):
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _day(day: date, year: bool = False) -> str:
    return f"{day:%A} {day.day} {day:%B}" + (f" {day.year}" if year else "")


def _why_closed(reason: str) -> str:
    return f"a {reason}" if reason in {"Saturday", "Sunday"} else f"a bank holiday ({reason})"
