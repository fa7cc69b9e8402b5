"""Due-date arithmetic with known answers (no app needed)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kb.tools.duedates.arithmetic import (
    CALENDAR_HOURS,
    END_OF_NEXT_WORKING_DAY,
    SAME_WORKING_DAY,
    WORKING_DAYS,
    DueDateError,
    Rule,
    WorkingCalendar,
    due_date,
    format_due,
    parse_moment,
)

LONDON = ZoneInfo("Europe/London")
ENGLAND = WorkingCalendar("ENG", "Europe/London", "08:00-18:00")

EMAIL = Rule("email", "Email", "Email", WORKING_DAYS, 3)
NEXT_DAY = Rule("voicemail", "Voicemail", "Phone", END_OF_NEXT_WORKING_DAY)
SOCIAL = Rule("social-media", "Social media", "Social media", SAME_WORKING_DAY)
URGENT = Rule("repair-urgent", "Urgent repair", "Repairs", WORKING_DAYS, 5)
ROUTINE = Rule("repair-routine", "Routine repair", "Repairs", WORKING_DAYS, 15)
STAGE_1 = Rule("complaint-stage-1", "Stage 1", "Complaints", WORKING_DAYS, 5)
STAGE_2 = Rule("complaint-stage-2", "Stage 2", "Complaints", WORKING_DAYS, 20)
EMERGENCY = Rule("repair-emergency", "Emergency repair", "Repairs", CALENDAR_HOURS, 2)
IMMEDIATE = Rule("repair-immediate", "Immediate repair", "Repairs", CALENDAR_HOURS, 24)


def due(rule: Rule, received: str, calendar: WorkingCalendar = ENGLAND) -> datetime:
    return due_date(rule, datetime.fromisoformat(received), calendar).due


@pytest.mark.parametrize(
    "rule, received, expected",
    [
        # Within the week, and across a weekend.
        (EMAIL, "2026-11-23T10:00", "2026-11-26T18:00"),
        (EMAIL, "2026-11-26T10:00", "2026-12-01T18:00"),
        (ROUTINE, "2026-11-23T09:00", "2026-12-14T18:00"),
        # Christmas 2026: Christmas Day Friday, Boxing Day Saturday, substitute Monday 28th.
        (EMAIL, "2026-12-24T10:00", "2026-12-31T18:00"),
        (STAGE_2, "2026-12-14T10:00", "2027-01-14T18:00"),
        # Christmas 2027 falls at a weekend: substitutes on Monday 27th and Tuesday 28th,
        # then New Year's Day 2028 is a Saturday with its substitute on Monday 3 January.
        (STAGE_1, "2027-12-24T09:00", "2028-01-05T18:00"),
        # Christmas 2020: Boxing Day on a Saturday, substitute Monday 28th.
        (EMAIL, "2020-12-24T10:00", "2020-12-31T18:00"),
        # Easter 2026: Good Friday 3 April, Easter Monday 6 April.
        (URGENT, "2026-04-02T12:00", "2026-04-13T18:00"),
        # A request made on a bank holiday starts the next working day.
        (NEXT_DAY, "2026-08-31T11:00", "2026-09-02T18:00"),
        # End of the following working day, asked at 17:59 on a Friday and just after close.
        (NEXT_DAY, "2026-11-27T17:59", "2026-11-30T18:00"),
        (NEXT_DAY, "2026-11-27T18:00", "2026-12-01T18:00"),
        (NEXT_DAY, "2026-11-28T10:00", "2026-12-01T18:00"),
        # Social media: the same working day; at a weekend, the next one.
        (SOCIAL, "2026-11-23T09:30", "2026-11-23T18:00"),
        (SOCIAL, "2026-11-28T10:00", "2026-11-30T18:00"),
        # Calendar hours ignore weekends and holidays.
        (EMERGENCY, "2026-12-25T13:15", "2026-12-25T15:15"),
        (IMMEDIATE, "2026-11-27T20:00", "2026-11-28T20:00"),
    ],
)
def test_known_answers(rule, received, expected):
    assert due(rule, received) == datetime.fromisoformat(expected).replace(tzinfo=LONDON)


def test_clock_change_forward_counts_elapsed_time():
    # Clocks go forward at 01:00 GMT on 29 March 2026: 00:30 + 2 hours is 03:30 BST.
    result = due_date(EMERGENCY, datetime(2026, 3, 29, 0, 30), ENGLAND)
    assert result.due.strftime("%H:%M %Z") == "03:30 BST"
    utc = ZoneInfo("UTC")
    # (Subtracting two times in one zone compares wall clocks, so compare in UTC.)
    assert result.due.astimezone(utc) - result.received.astimezone(utc) == timedelta(hours=2)
    assert any("clocks change" in note for note in result.explanation)


def test_clock_change_back_counts_elapsed_time():
    # Clocks go back at 02:00 BST on 25 October 2026: noon Saturday + 24 hours is 11:00 GMT.
    result = due_date(IMMEDIATE, datetime(2026, 10, 24, 12, 0), ENGLAND)
    assert result.due.strftime("%Y-%m-%d %H:%M %Z") == "2026-10-25 11:00 GMT"


def test_working_days_across_clock_change_end_at_local_close():
    assert due(EMAIL, "2026-10-23T10:00") == datetime(2026, 10, 28, 18, 0, tzinfo=LONDON)


def test_region_is_a_setting():
    scotland = WorkingCalendar("SCT", "Europe/London", "08:00-18:00")
    # 2 January is a Scottish bank holiday (in 2027 its substitute is Monday 4 January).
    assert due(EMAIL, "2026-12-31T10:00") == datetime(2027, 1, 6, 18, 0, tzinfo=LONDON)
    assert due(EMAIL, "2026-12-31T10:00", scotland) == datetime(2027, 1, 7, 18, 0,
                                                                 tzinfo=LONDON)


def test_explanation_names_skipped_bank_holidays():
    result = due_date(EMAIL, datetime(2026, 12, 24, 10), ENGLAND)
    text = " ".join(result.explanation)
    assert "Christmas Day" in text and "Boxing Day (observed)" in text
    assert format_due(result).startswith("Thursday 31 December 2026")


def test_moved_start_is_explained():
    result = due_date(NEXT_DAY, datetime(2026, 8, 31, 11), ENGLAND)
    assert "bank holiday" in result.explanation[0]
    assert result.clock_starts == datetime(2026, 9, 1, 8, 0, tzinfo=LONDON)


def test_timezone_aware_input_is_converted():
    utc = datetime(2026, 7, 1, 16, 30, tzinfo=ZoneInfo("UTC"))  # 17:30 BST, still open
    assert due_date(NEXT_DAY, utc, ENGLAND).due == datetime(2026, 7, 2, 18, tzinfo=LONDON)


@pytest.mark.parametrize("text", ["", "tomorrow", "2026-13-01", "23/11/2026", "2026-11-23T25:00"])
def test_bad_times_say_the_format(text):
    with pytest.raises(DueDateError, match="YYYY-MM-DD"):
        parse_moment(text)


@pytest.mark.parametrize("text", ["9999-12-31T23:00", "0001-01-01", "1066-10-14T09:00"])
def test_out_of_range_years_are_refused(text):
    with pytest.raises(DueDateError, match="between"):
        parse_moment(text)


def test_bad_rules_are_refused():
    with pytest.raises(DueDateError):
        due_date(Rule("x", "x", "x", "fortnightly"), datetime(2026, 1, 5), ENGLAND)
    with pytest.raises(DueDateError):
        due_date(Rule("x", "x", "x", WORKING_DAYS, 0), datetime(2026, 1, 5), ENGLAND)


@settings(max_examples=200, deadline=None)
@given(
    received=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31)),
    days=st.integers(min_value=1, max_value=30),
)
def test_working_day_properties(received, days):
    rule = Rule("r", "r", "r", WORKING_DAYS, days)
    result = due_date(rule, received, ENGLAND)
    # Always a working day, at close, after the request, and exactly `days` working days
    # after the day the clock started.
    assert ENGLAND.is_working_day(result.due.date())
    assert result.due.hour == 18 and result.due > result.received
    start = result.clock_starts.date()
    counted = sum(
        ENGLAND.is_working_day(start + timedelta(days=i))
        for i in range(1, (result.due.date() - start).days + 1)
    )
    assert counted == days
