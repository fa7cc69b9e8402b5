"""Due-date arithmetic with known answers (no app needed)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
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
    sentence,
)

LONDON = ZoneInfo("Europe/London")
ENGLAND = WorkingCalendar("ENG", "Europe/London", "08:00-18:00")

EMAIL = Rule("email", "Email", "Email", WORKING_DAYS, 3, promise="reply to your email")
ACK = Rule("complaint-acknowledge", "Acknowledge", "Complaints", WORKING_DAYS, 3,
           promise="acknowledge your complaint")
NEXT_DAY = Rule("voicemail", "Voicemail", "Phone", END_OF_NEXT_WORKING_DAY,
                promise="reply to your message")
SOCIAL = Rule("social-media", "Social media", "Social media", SAME_WORKING_DAY)
URGENT = Rule("repair-urgent", "Urgent repair", "Repairs", WORKING_DAYS, 5)
ROUTINE = Rule("repair-routine", "Routine repair", "Repairs", WORKING_DAYS, 15)
STAGE_1 = Rule("complaint-stage-1", "Stage 1", "Complaints", WORKING_DAYS, 5)
STAGE_2 = Rule("complaint-stage-2", "Stage 2", "Complaints", WORKING_DAYS, 20)
EMERGENCY = Rule("repair-emergency", "Emergency repair", "Repairs", CALENDAR_HOURS, 2,
                 promise="attend your emergency repair")
IMMEDIATE = Rule("repair-immediate", "Immediate repair", "Repairs", CALENDAR_HOURS, 24)


def due(rule: Rule, received: str, calendar: WorkingCalendar = ENGLAND) -> datetime:
    return due_date(rule, datetime.fromisoformat(received), calendar).due


# The counting rule: day 1 of "N working days" is the first working day after the day of
# receipt, whatever the hour; "the end of the following working day" is the end of day 1.
@pytest.mark.parametrize(
    "rule, received, expected",
    [
        # Within the week, and across a weekend.
        (EMAIL, "2026-11-23T10:00", "2026-11-26T18:00"),
        (EMAIL, "2026-11-26T10:00", "2026-12-01T18:00"),
        (ROUTINE, "2026-11-23T09:00", "2026-12-14T18:00"),
        # The issue's Saturday: 29 August 2026, with Monday 31 August a bank holiday; the
        # working days after it are Tuesday 1, Wednesday 2 and Thursday 3 September.
        (ACK, "2026-08-29T10:00", "2026-09-03T18:00"),
        # A weekend or evening arrival does not add a day: Friday 19:00 and Sunday count
        # from Monday as day 1, like any Friday.
        (EMAIL, "2026-11-27T19:00", "2026-12-02T18:00"),
        (EMAIL, "2026-11-29T11:00", "2026-12-02T18:00"),
        (EMAIL, "2026-11-27T09:00", "2026-12-02T18:00"),
        # Christmas 2026: Christmas Day Friday, Boxing Day Saturday, substitute Monday 28th.
        (EMAIL, "2026-12-24T10:00", "2026-12-31T18:00"),
        (STAGE_2, "2026-12-14T10:00", "2027-01-14T18:00"),
        # Christmas 2027 falls at a weekend: substitutes on Monday 27th and Tuesday 28th,
        # then New Year's Day 2028 is a Saturday with its substitute on Monday 3 January.
        (STAGE_1, "2027-12-24T09:00", "2028-01-05T18:00"),
        (NEXT_DAY, "2027-12-24T17:00", "2027-12-29T18:00"),
        # Christmas 2022: Christmas Day a Sunday, its substitute Tuesday 27th.
        (NEXT_DAY, "2022-12-23T12:00", "2022-12-28T18:00"),
        # Christmas 2020: Boxing Day on a Saturday, substitute Monday 28th.
        (EMAIL, "2020-12-24T10:00", "2020-12-31T18:00"),
        # New Year 2026: Thursday 1 January.
        (EMAIL, "2025-12-31T10:00", "2026-01-06T18:00"),
        # Easter 2026: Good Friday 3 April, Easter Monday 6 April.
        (URGENT, "2026-04-02T12:00", "2026-04-13T18:00"),
        # Easter 2027: Good Friday 26 March, Easter Monday 29 March; asked on Good Friday.
        (EMAIL, "2027-03-25T10:00", "2027-04-01T18:00"),
        (NEXT_DAY, "2027-03-26T10:00", "2027-03-30T18:00"),
        # One-off bank holidays: the coronation on Monday 8 May 2023.
        (EMAIL, "2023-05-05T10:00", "2023-05-11T18:00"),
        # A request made on a bank holiday: the next working day is day 1.
        (NEXT_DAY, "2026-08-31T11:00", "2026-09-01T18:00"),
        # The issue's voicemail at 18:00 on a Friday: the following working day is Monday.
        (NEXT_DAY, "2026-11-27T17:59", "2026-11-30T18:00"),
        (NEXT_DAY, "2026-11-27T18:00", "2026-11-30T18:00"),
        (NEXT_DAY, "2026-11-28T10:00", "2026-11-30T18:00"),
        # Social media: the same working day; after hours or at a weekend, the next one.
        (SOCIAL, "2026-11-23T09:30", "2026-11-23T18:00"),
        (SOCIAL, "2026-11-23T07:30", "2026-11-23T18:00"),
        (SOCIAL, "2026-11-23T18:30", "2026-11-24T18:00"),
        (SOCIAL, "2026-11-28T10:00", "2026-11-30T18:00"),
        (SOCIAL, "2026-12-25T10:00", "2026-12-29T18:00"),
        # Calendar hours ignore weekends and holidays.
        (EMERGENCY, "2026-12-25T13:15", "2026-12-25T15:15"),
        (IMMEDIATE, "2026-11-27T20:00", "2026-11-28T20:00"),
    ],
)
def test_known_answers(rule, received, expected):
    assert due(rule, received) == datetime.fromisoformat(expected).replace(tzinfo=LONDON)


SCOTLAND = WorkingCalendar("SCT", "Europe/London", "08:00-18:00")
NORTHERN_IRELAND = WorkingCalendar("NIR", "Europe/London", "08:00-18:00")
WALES = WorkingCalendar("WLS", "Europe/London", "08:00-18:00")


@pytest.mark.parametrize(
    "rule, received, england, scotland, northern_ireland",
    [
        # 2 January is a Scottish bank holiday (Friday in 2026; in 2027 it is a Saturday,
        # with its substitute on Monday 4 January).
        (EMAIL, "2025-12-31T10:00", "2026-01-06", "2026-01-07", "2026-01-06"),
        (EMAIL, "2026-12-31T10:00", "2027-01-06", "2027-01-07", "2027-01-06"),
        # St Patrick's Day, Tuesday 17 March 2026: Northern Ireland only.
        (EMAIL, "2026-03-16T10:00", "2026-03-19", "2026-03-19", "2026-03-20"),
        # Easter Monday is not a bank holiday in Scotland.
        (URGENT, "2026-04-02T12:00", "2026-04-13", "2026-04-10", "2026-04-13"),
        # Battle of the Boyne: Sunday 12 July 2026, substitute Monday 13th, in Northern
        # Ireland; Monday 12 July 2027 itself.
        (EMAIL, "2026-07-10T10:00", "2026-07-15", "2026-07-15", "2026-07-16"),
        (EMAIL, "2027-07-09T10:00", "2027-07-14", "2027-07-14", "2027-07-15"),
        # Scotland's summer holiday is the first Monday of August (3 August 2026), and it
        # has no late summer holiday (31 August).
        (EMAIL, "2026-07-31T10:00", "2026-08-05", "2026-08-06", "2026-08-05"),
        (EMAIL, "2026-08-28T10:00", "2026-09-03", "2026-09-02", "2026-09-03"),
        # St Andrew's Day, Monday 30 November 2026: Scotland only.
        (EMAIL, "2026-11-27T10:00", "2026-12-02", "2026-12-03", "2026-12-02"),
    ],
)
def test_each_nation_counts_its_own_bank_holidays(rule, received, england, scotland,
                                                  northern_ireland):
    for calendar, expected in ((ENGLAND, england), (SCOTLAND, scotland),
                               (NORTHERN_IRELAND, northern_ireland), (WALES, england)):
        assert due(rule, received, calendar).date().isoformat() == expected, calendar.region


def test_the_issue_examples_read_out():
    saturday = due_date(ACK, datetime(2026, 8, 29, 10, 0), ENGLAND)
    assert sentence(saturday, date(2026, 8, 29)) == (
        "We will acknowledge your complaint by Thursday 3 September.")
    friday = due_date(NEXT_DAY, datetime(2026, 11, 27, 18, 0), ENGLAND)
    assert sentence(friday, date(2026, 11, 27)) == (
        "We will reply to your message by Monday 30 November.")


def test_sentences_name_the_year_only_when_it_is_not_this_year_and_the_time_for_hours():
    new_year = due_date(EMAIL, datetime(2026, 12, 31, 10), ENGLAND)
    assert sentence(new_year, date(2026, 12, 31)) == (
        "We will reply to your email by Wednesday 6 January 2027.")
    emergency = due_date(EMERGENCY, datetime(2026, 12, 25, 13, 15), ENGLAND)
    assert sentence(emergency, date(2026, 12, 25)) == (
        "We will attend your emergency repair by 15:15 on Friday 25 December.")
    plain = due_date(Rule("x", "X", "X", WORKING_DAYS, 1), datetime(2026, 11, 23, 9), ENGLAND)
    assert sentence(plain, date(2026, 11, 23)) == "We will respond by Tuesday 24 November."


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


def test_working_days_across_clock_changes_end_at_local_close():
    # Clocks go back on Sunday 25 October 2026 and forward on Sunday 29 March 2026: a
    # working-day deadline is the close of business on the clock of that day.
    autumn = due(EMAIL, "2026-10-23T10:00")
    assert autumn == datetime(2026, 10, 28, 18, 0, tzinfo=LONDON)
    assert autumn.strftime("%Z") == "GMT"
    spring = due(EMAIL, "2026-03-28T10:00")  # a Saturday, before the clocks go forward
    assert spring == datetime(2026, 4, 1, 18, 0, tzinfo=LONDON)
    assert spring.strftime("%Z") == "BST"


def test_explanation_names_skipped_bank_holidays():
    result = due_date(EMAIL, datetime(2026, 12, 24, 10), ENGLAND)
    text = " ".join(result.explanation)
    assert "Christmas Day" in text and "Boxing Day (observed)" in text
    assert format_due(result).startswith("Thursday 31 December 2026")


def test_explanation_says_where_day_one_falls():
    saturday = due_date(ACK, datetime(2026, 8, 29, 10), ENGLAND)
    assert saturday.explanation[0].startswith("day 1 is Tuesday 1 September")
    assert "Saturday" in saturday.explanation[0]
    assert "Late Summer Bank Holiday" in " ".join(saturday.explanation)
    evening = due_date(NEXT_DAY, datetime(2026, 11, 27, 18, 30), ENGLAND)
    assert "does not move it" in evening.explanation[0]
    assert evening.clock_starts == datetime(2026, 11, 30, 8, 0, tzinfo=LONDON)


@pytest.mark.parametrize(
    "rule, utc, expected",
    [
        # 16:30 UTC is 17:30 BST, still open; 17:30 UTC is 18:30 BST, after close.
        (SOCIAL, "2026-07-01T16:30+00:00", "2026-07-01"),
        (SOCIAL, "2026-07-01T17:30+00:00", "2026-07-02"),
        # 23:30 UTC on Friday 28 August is 00:30 on Saturday in London: a Saturday request.
        (NEXT_DAY, "2026-08-28T23:30+00:00", "2026-09-01"),
        (ACK, "2026-08-28T23:30+00:00", "2026-09-03"),
        # In winter UTC is London time.
        (NEXT_DAY, "2026-11-27T23:30+00:00", "2026-11-30"),
    ],
)
def test_times_with_an_offset_count_on_the_london_calendar(rule, utc, expected):
    assert due_date(rule, datetime.fromisoformat(utc), ENGLAND).due.date().isoformat() == expected


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


def _working_days_after(calendar: WorkingCalendar, first: date, last: date) -> int:
    """Working days in (first, last], counted with the holidays package directly."""
    bank = holidays.country_holidays("GB", subdiv=calendar.region,
                                     years=range(first.year, last.year + 1))
    return sum(
        (day := first + timedelta(days=i)).weekday() < 5 and day not in bank
        for i in range(1, (last - first).days + 1)
    )


@settings(max_examples=300, deadline=None)
@given(
    received=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31)),
    days=st.integers(min_value=1, max_value=30),
    calendar=st.sampled_from([ENGLAND, SCOTLAND, NORTHERN_IRELAND]),
)
def test_working_day_properties(received, days, calendar):
    rule = Rule("r", "r", "r", WORKING_DAYS, days)
    result = due_date(rule, received, calendar)
    # Always a working day, at close, after the request, and exactly `days` working days
    # after the day of receipt, whatever the hour or the day it arrived.
    assert calendar.is_working_day(result.due.date())
    assert result.due.hour == 18 and result.due > result.received
    assert _working_days_after(calendar, received.date(), result.due.date()) == days
    next_day = due_date(Rule("n", "n", "n", END_OF_NEXT_WORKING_DAY), received, calendar)
    assert _working_days_after(calendar, received.date(), next_day.due.date()) == 1


@settings(max_examples=200, deadline=None)
@given(
    first=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31)),
    gap=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20)),
    rule=st.sampled_from([EMAIL, NEXT_DAY, SOCIAL, ROUTINE, EMERGENCY]),
)
def test_a_later_request_is_never_due_earlier(first, gap, rule):
    assert due_date(rule, first, ENGLAND).due <= due_date(rule, first + gap, ENGLAND).due
