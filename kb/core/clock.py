"""The contact centre's local time (the TIMEZONE setting), and converting stored UTC.

The working calendar of the due-date tool (bank holidays, working hours) is
``WorkingCalendar`` in ``kb.tools.duedates.arithmetic``; features that only need to know
whether a day is a working day (sign-off reminders) use ``is_working_day`` here, since
features do not import each other.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from flask import current_app

DEFAULT_TIMEZONE = "Europe/London"


def local_zone() -> ZoneInfo:
    """The contact centre's time zone (the TIMEZONE setting, Europe/London by default)."""
    return ZoneInfo(current_app.config.get("TIMEZONE") or DEFAULT_TIMEZONE)


def local_today() -> date:
    """Today's date in the contact centre's time zone."""
    return datetime.now(local_zone()).date()


def local_datetime() -> datetime:
    """Now in the contact centre's time zone (aware, to the microsecond)."""
    return datetime.now(local_zone())


def local_now() -> datetime:
    """Now as local wall-clock time (naive, to the minute), the form's default."""
    return datetime.now(local_zone()).replace(tzinfo=None, second=0, microsecond=0)


def to_utc(value: datetime) -> datetime:
    """Local wall-clock time (naive or aware) as the naive UTC the database stores."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=local_zone())
    return value.astimezone(UTC).replace(tzinfo=None)


def wall_clock_kind(value: datetime) -> str:
    """Whether a naive local time happened once ("ok"), never ("gap": the clocks went
    forward past it) or twice ("ambiguous": the clocks went back over it)."""
    zone = local_zone()
    first, second = value.replace(tzinfo=zone, fold=0), value.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return "ok"
    back = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None, fold=0)
    return "gap" if back != value.replace(fold=0) else "ambiguous"


def to_local(value: datetime) -> datetime:
    """A stored naive UTC time as an aware local time."""
    return value.replace(tzinfo=UTC).astimezone(local_zone())


def format_local(value: datetime | None) -> str:
    """A stored UTC time as people read it here: Monday 23 November 2026, 16:05."""
    if value is None:
        return ""
    local = to_local(value)
    return f"{local:%A} {local.day} {local:%B %Y, %H:%M}"


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clamped to the month's last day (31 Jan + 1 = 28 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def local_date(value: datetime) -> date:
    """The centre-local calendar date of a stored UTC time."""
    return to_local(value).date()


@lru_cache(maxsize=64)
def _bank_holidays(region: str, year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("GB", subdiv=region, years=year)


def is_working_day(day: date, region: str = "ENG") -> bool:
    """Monday to Friday and not a UK bank holiday in ``region`` (ENG, WLS, SCT, NIR)."""
    return day.weekday() < 5 and day not in _bank_holidays(region, day.year)
