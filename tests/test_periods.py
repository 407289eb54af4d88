"""Periods: whole local days, weeks on the guild's week start, DST-safe (tables worked by hand).

DST dates used below: Europe/Berlin moves to summer time on 2026-03-29 (01:00 UTC) and back on
2026-10-25 (01:00 UTC); America/New_York on 2026-03-08 and 2026-11-01 (both at 02:00 local).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.domain.periods import (
    Period,
    PeriodError,
    between,
    last_days,
    last_full_weeks,
    last_week,
    local_days,
    local_midnight,
    parse_period,
    previous,
    started_days,
    this_week,
    trailing_days,
    week_start_of,
)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[arg-type, misc]


@pytest.mark.parametrize(
    ("now", "tz", "week_start", "start", "end", "hours"),
    [
        # Berlin, the week of the March change: Monday 03-23 00:00 CET (+1) = 03-22 23:00 UTC,
        # next Monday 03-30 00:00 CEST (+2) = 03-29 22:00 UTC; 7 x 24 - 1 = 167 hours.
        (utc(2026, 3, 25, 12), "Europe/Berlin", 0, utc(2026, 3, 22, 23), utc(2026, 3, 29, 22), 167),
        # Berlin, the October change: Monday 10-19 00:00 CEST = 10-18 22:00 UTC, Monday 10-26
        # 00:00 CET = 10-25 23:00 UTC; 7 x 24 + 1 = 169 hours.
        (
            utc(2026, 10, 25, 0),
            "Europe/Berlin",
            0,
            utc(2026, 10, 18, 22),
            utc(2026, 10, 25, 23),
            169,
        ),
        # New York, March: Monday 03-02 00:00 EST (-5) = 05:00 UTC, Monday 03-09 00:00 EDT (-4)
        # = 04:00 UTC: 167 hours.
        (utc(2026, 3, 8, 12), "America/New_York", 0, utc(2026, 3, 2, 5), utc(2026, 3, 9, 4), 167),
        # New York, weeks starting on Sunday, November: Sunday 11-01 00:00 EDT = 04:00 UTC (the
        # change is at 02:00 that day), Sunday 11-08 00:00 EST = 05:00 UTC: 169 hours.
        (
            utc(2026, 11, 3, 12),
            "America/New_York",
            6,
            utc(2026, 11, 1, 4),
            utc(2026, 11, 8, 5),
            169,
        ),
        # The same instant is Monday 00:30 in Berlin but still Sunday 18:30 in New York.
        (
            utc(2026, 3, 1, 23, 30),
            "Europe/Berlin",
            0,
            utc(2026, 3, 1, 23),
            utc(2026, 3, 8, 23),
            168,
        ),
        (
            utc(2026, 3, 1, 23, 30),
            "America/New_York",
            0,
            utc(2026, 2, 23, 5),
            utc(2026, 3, 2, 5),
            168,
        ),
        # UTC, weeks starting on Saturday (5): Wednesday 2026-05-06 is in the week from 05-02.
        (utc(2026, 5, 6, 9), "UTC", 5, utc(2026, 5, 2), utc(2026, 5, 9), 168),
    ],
)
def test_this_week_is_a_calendar_week_in_local_time(
    now: datetime, tz: str, week_start: int, start: datetime, end: datetime, hours: int
) -> None:
    week = this_week(now, tz, week_start)
    assert (week.start, week.end, week.label) == (start, end, "this week")
    assert week.duration == timedelta(hours=hours)
    assert week.day_count == 7
    assert week.contains(now)
    assert week.first_day.weekday() == week_start


@pytest.mark.parametrize(
    ("now", "tz", "start", "end"),
    [
        # Monday 2026-03-30 in Berlin: last week is the 167-hour week of the change.
        (utc(2026, 3, 30, 8), "Europe/Berlin", utc(2026, 3, 22, 23), utc(2026, 3, 29, 22)),
        # Tuesday 2026-10-27: last week held the October change (169 hours).
        (utc(2026, 10, 27, 8), "Europe/Berlin", utc(2026, 10, 18, 22), utc(2026, 10, 25, 23)),
        # Monday 2026-03-09 09:00 in New York (13:00 UTC): last week ended at the EDT midnight.
        (utc(2026, 3, 9, 13), "America/New_York", utc(2026, 3, 2, 5), utc(2026, 3, 9, 4)),
    ],
)
def test_last_week_is_the_full_week_before(
    now: datetime, tz: str, start: datetime, end: datetime
) -> None:
    week = last_week(now, tz, 0)
    assert (week.start, week.end, week.label) == (start, end, "last week")


@pytest.mark.parametrize(
    ("start", "end", "tz", "previous_start", "previous_end"),
    [
        # The week after Berlin's March change (168 h) -> the change's own week (167 h).
        (
            date(2026, 3, 30),
            date(2026, 4, 5),
            "Europe/Berlin",
            utc(2026, 3, 22, 23),
            utc(2026, 3, 29, 22),
        ),
        # The week after October's change -> the 169-hour week: still Monday to Monday.
        (
            date(2026, 10, 26),
            date(2026, 11, 1),
            "Europe/Berlin",
            utc(2026, 10, 18, 22),
            utc(2026, 10, 25, 23),
        ),
        # New York, the week after 2026-03-08 -> 03-02..03-08 (167 h).
        (
            date(2026, 3, 9),
            date(2026, 3, 15),
            "America/New_York",
            utc(2026, 3, 2, 5),
            utc(2026, 3, 9, 4),
        ),
        # 28 days 2026-03-01..03-28 in UTC -> the 28 days before: 02-01..02-28.
        (date(2026, 3, 1), date(2026, 3, 28), "UTC", utc(2026, 2, 1), utc(2026, 3, 1)),
        # One day -> the day before.
        (
            date(2026, 3, 29),
            date(2026, 3, 29),
            "Europe/Berlin",
            utc(2026, 3, 27, 23),
            utc(2026, 3, 28, 23),
        ),
    ],
)
def test_previous_has_as_many_local_days_just_before(
    start: date, end: date, tz: str, previous_start: datetime, previous_end: datetime
) -> None:
    period = between(start, end, tz)
    before = previous(period)
    assert (before.start, before.end) == (previous_start, previous_end)
    assert before.day_count == period.day_count
    assert before.end == period.start
    assert before.timezone == tz


@pytest.mark.parametrize(
    ("now", "tz", "n", "first", "last"),
    [
        # Tuesday 2026-03-31 in Berlin: the 7 days ending today are 03-25..03-31.
        (utc(2026, 3, 31, 10), "Europe/Berlin", 7, date(2026, 3, 25), date(2026, 3, 31)),
        # 22:30 UTC on 03-31 is already 04-01 in Berlin (CEST, +2).
        (utc(2026, 3, 31, 22, 30), "Europe/Berlin", 7, date(2026, 3, 26), date(2026, 4, 1)),
        # 28 days ending 2026-03-28: 28 - 1 = 27 days back is 03-01.
        (utc(2026, 3, 28, 12), "UTC", 28, date(2026, 3, 1), date(2026, 3, 28)),
        # 90 days ending 2026-03-31: 89 days back is 2026-01-01 (31 + 28 + 30 = 89).
        (utc(2026, 3, 31, 12), "UTC", 90, date(2026, 1, 1), date(2026, 3, 31)),
    ],
)
def test_last_days_end_with_today(now: datetime, tz: str, n: int, first: date, last: date) -> None:
    period = last_days(now, tz, n)
    assert (period.first_day, period.last_day, period.day_count) == (first, last, n)
    assert period.label == f"last {n} days"
    assert period.contains(now)


@pytest.mark.parametrize(
    ("text", "first", "last", "label"),
    [
        # now is Wednesday 2026-03-25 12:00 UTC, 13:00 in Berlin; weeks start on Monday.
        ("this week", date(2026, 3, 23), date(2026, 3, 29), "this week"),
        ("  This-Week ", date(2026, 3, 23), date(2026, 3, 29), "this week"),
        ("last week", date(2026, 3, 16), date(2026, 3, 22), "last week"),
        ("last-week", date(2026, 3, 16), date(2026, 3, 22), "last week"),
        ("last 7 days", date(2026, 3, 19), date(2026, 3, 25), "last 7 days"),
        ("7d", date(2026, 3, 19), date(2026, 3, 25), "last 7 days"),
        ("Last 28 Days", date(2026, 2, 26), date(2026, 3, 25), "last 28 days"),
        ("28d", date(2026, 2, 26), date(2026, 3, 25), "last 28 days"),
        # 89 days before 03-25: 24 in March, 28 in February, 31 in January -> 6 more in Dec.
        ("90d", date(2025, 12, 26), date(2026, 3, 25), "last 90 days"),
        ("2026-03-01..2026-03-07", date(2026, 3, 1), date(2026, 3, 7), "2026-03-01..2026-03-07"),
        ("2026-03-01 .. 2026-03-01", date(2026, 3, 1), date(2026, 3, 1), "2026-03-01..2026-03-01"),
        # A leap year holds 366 days: 2024-01-01..2024-12-31 is the longest accepted.
        ("2024-01-01..2024-12-31", date(2024, 1, 1), date(2024, 12, 31), "2024-01-01..2024-12-31"),
    ],
)
def test_parse_period(text: str, first: date, last: date, label: str) -> None:
    period = parse_period(text, utc(2026, 3, 25, 12), "Europe/Berlin", 0)
    assert (period.first_day, period.last_day, period.label) == (first, last, label)
    assert period.timezone == "Europe/Berlin"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no period given"),
        ("yesterday", '"yesterday" is not a period'),
        ("last 5 days", "5 days is not a reporting period"),
        ("14d", "14 days is not a reporting period"),
        ("2026-02-30..2026-03-01", "not a real date"),
        ("2026-3-1..2026-3-7", "write it as YYYY-MM-DD"),
        ("2026-03-07..2026-03-01", "ends (2026-03-01) before it starts (2026-03-07)"),
        # 2025-01-01..2026-01-01 is 365 + 1 = 366 days (accepted); one more is too long.
        ("2025-01-01..2026-01-02", "at most 366 days long; this one is 367 days"),
    ],
)
def test_bad_periods_say_what_to_type(text: str, message: str) -> None:
    with pytest.raises(PeriodError) as caught:
        parse_period(text, utc(2026, 3, 25, 12), "UTC", 0)
    assert message in str(caught.value)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("day", "week_start", "expected"),
    [
        (date(2026, 3, 25), 0, date(2026, 3, 23)),  # Wednesday -> Monday
        (date(2026, 3, 23), 0, date(2026, 3, 23)),  # a Monday is its own week start
        (date(2026, 3, 22), 0, date(2026, 3, 16)),  # Sunday belongs to the week before
        (date(2026, 3, 22), 6, date(2026, 3, 22)),  # ... unless weeks start on Sunday
        (date(2026, 3, 21), 6, date(2026, 3, 15)),  # Saturday, Sunday weeks
        (date(2026, 1, 1), 5, date(2025, 12, 27)),  # Thursday, Saturday weeks: across the year
    ],
)
def test_week_start_of(day: date, week_start: int, expected: date) -> None:
    assert week_start_of(day, week_start) == expected


def test_local_days_of_a_dst_week_are_seven_dates() -> None:
    week = this_week(utc(2026, 10, 25, 12), "Europe/Berlin", 0)
    assert local_days(week) == [date(2026, 10, 19) + timedelta(days=i) for i in range(7)]
    # Seen from UTC the same span starts on the Sunday evening before.
    assert local_days(week, "UTC")[0] == date(2026, 10, 18)


def test_a_midnight_that_does_not_exist_starts_the_day_at_the_change() -> None:
    # Sao Paulo skipped 2018-11-04 00:00 (-03) straight to 01:00 (-02): the day began at
    # 03:00 UTC and was 23 hours long.
    assert local_midnight(date(2018, 11, 4), "America/Sao_Paulo") == utc(2018, 11, 4, 3)
    day = between(date(2018, 11, 4), date(2018, 11, 4), "America/Sao_Paulo")
    assert day.duration == timedelta(hours=23)
    assert local_days(day) == [date(2018, 11, 4)]


def test_windows_and_started_days() -> None:
    week = this_week(utc(2026, 3, 25, 12), "UTC", 0)  # 03-23..03-29, running
    mau = trailing_days(week, 28)
    assert (mau.first_day, mau.last_day) == (date(2026, 3, 2), date(2026, 3, 29))
    # Monday to Wednesday have begun.
    assert started_days(week, utc(2026, 3, 25, 12)) == [date(2026, 3, 23 + i) for i in range(3)]
    four = last_full_weeks(utc(2026, 3, 25, 12), "UTC", 0, 4)
    assert (four.first_day, four.last_day) == (date(2026, 2, 23), date(2026, 3, 22))


def test_a_period_needs_aware_and_ordered_bounds() -> None:
    with pytest.raises(ValueError, match="aware"):
        Period(datetime(2026, 3, 1), utc(2026, 3, 2), "x")  # noqa: DTZ001
    with pytest.raises(ValueError, match="end after"):
        Period(utc(2026, 3, 2), utc(2026, 3, 2), "x")
