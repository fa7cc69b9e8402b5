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


@dataclass(frozen=True)
class Rule:
    key: str
    label: str
    channel: str
    rule: str
    amount: int = 0

    def describe(self) -> str:
        """The rule in words, e.g. 'within 3 working days'."""
        if self.rule == WORKING_DAYS:
            return f"within {self.amount} working day{'s' if self.amount != 1 else ''}"
        if self.rule == CALENDAR_HOURS:
            return f"within {self.amount} hour{'s' if self.amount != 1 else ''} (calendar time)"
        if self.rule == SAME_WORKING_DAY:
            return "the same working day"
        return "by the end of the following working day"


@dataclass(frozen=True)
class DueDate:
    rule: Rule
    received: datetime  # when the request arrived, in local time
    clock_starts: datetime  # when counting began (after hours or a holiday moves it on)
    due: datetime  # local time
    explanation: list[str]

    @property
    def date_only(self) -> bool:
        """True when the deadline is a day's end rather than an exact time."""
        return self.rule.rule != CALENDAR_HOURS


def validate_rule(rule: str, amount: int) -> None:
    """Raise DueDateError unless ``rule`` and ``amount`` make a usable standard."""
    if rule not in RULE_KINDS:
        raise DueDateError(f"Rule must be one of: {', '.join(RULE_KINDS)}.")
    if rule in RULES_WITH_AMOUNT and not 1 <= amount <= MAX_AMOUNT[rule]:
        raise DueDateError(f"This rule needs an amount from 1 to {MAX_AMOUNT[rule]}.")


class WorkingCalendar:
    """Monday to Friday within working hours, less the region's bank holidays."""

    def __init__(
        self,
        region: str = "ENG",
        timezone: str = "Europe/London",
        hours: str = "08:00-18:00",
    ) -> None:
        self.region = region
        self.tz = ZoneInfo(timezone)
        self.day_start, self.day_end = parse_hours(hours)

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
        """The ``count``-th working day after ``day``."""
        for _ in range(count):
            day = self.next_working_day(day)
        return day

    def localise(self, moment: datetime) -> datetime:
        """``moment`` in local time; a naive time is taken to be local already."""
        if moment.tzinfo is None:
            return moment.replace(tzinfo=self.tz)
        return moment.astimezone(self.tz)

    def end_of(self, day: date) -> datetime:
        return datetime.combine(day, self.day_end, tzinfo=self.tz)

    def clock_start(self, received: datetime) -> tuple[datetime, str | None]:
        """When counting starts for a request received at ``received``, and why if moved."""
        day = received.date()
        if not self.is_working_day(day):
            reason = self.holiday(day) or received.strftime("%A")
            start = self.next_working_day(day)
            why = f"received on {_why_closed(reason)}, so the clock starts on {_day(start)}"
        elif received.time() >= self.day_end:
            start = self.next_working_day(day)
            why = (f"received after {self.day_end:%H:%M}, when the working day has ended, so "
                   f"the clock starts on {_day(start)}")
        else:
            return received, None
        return datetime.combine(start, self.day_start, tzinfo=self.tz), why


def due_date(rule: Rule, received: datetime, calendar: WorkingCalendar) -> DueDate:
    """When a reply or repair under ``rule`` is due for a request received at ``received``."""
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

    start, why = calendar.clock_start(received)
    if why:
        notes.append(why)
    day = start.date()
    if rule.rule == SAME_WORKING_DAY:
        due_day = day
    elif rule.rule == END_OF_NEXT_WORKING_DAY:
        due_day = calendar.next_working_day(day)
    else:
        due_day = calendar.add_working_days(day, rule.amount)
    skipped = [
        f"{calendar.holiday(d)}, {_day(d)}"
        for d in _days_between(day, due_day)
        if d.weekday() < 5 and calendar.holiday(d)
    ]
    if skipped:
        notes.append("bank holidays not counted: " + "; ".join(skipped))
    notes.append(f"working days are Monday to Friday, {calendar.day_start:%H:%M}–"
                 f"{calendar.day_end:%H:%M}, not counting bank holidays")
    return DueDate(rule, received, start, calendar.end_of(due_day), notes)


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
    text = _day(result.due.date(), year=True)
    if result.date_only:
        return f"{text}, end of the working day ({result.due:%H:%M})"
    return f"{text} at {result.due:%H:%M}"


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
