"""When weekly summaries are due and for which week: tables in UTC and across DST changes, and
the APScheduler trigger agreeing with the pure schedule."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.summaries import (
    Schedule,
    due_summaries,
    next_moment,
    period_for,
    retry_at,
    scheduled_at,
    skipped_summaries,
)
from bot.scheduling import summary_trigger

MONDAY_9 = Schedule("UTC", week_start=0, summary_day=0, summary_time=time(9, 0))
BERLIN = Schedule("Europe/Berlin", week_start=0, summary_day=0, summary_time=time(9, 0))
NEW_YORK_SUNDAY = Schedule("America/New_York", week_start=6, summary_day=6, summary_time=time(18))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("schedule", "now", "moment", "week"),
    [
        # Monday 2026-03-09 09:00 UTC reports Monday 2..Sunday 8 March.
        (MONDAY_9, utc(2026, 3, 9, 9, 0), utc(2026, 3, 9, 9), ("2026-03-02", "2026-03-09")),
        (MONDAY_9, utc(2026, 3, 9, 8, 59), utc(2026, 3, 2, 9), ("2026-02-23", "2026-03-02")),
        # Berlin changes to summer time on Sunday 29 March: that week has 167 hours, and the
        # Monday 09:00 after it is 07:00 UTC (it was 08:00 UTC the week before).
        (BERLIN, utc(2026, 3, 30, 7, 0), utc(2026, 3, 30, 7), ("2026-03-23", "2026-03-30")),
        (BERLIN, utc(2026, 3, 30, 6, 59), utc(2026, 3, 23, 8), ("2026-03-16", "2026-03-23")),
        # New York's weeks start on Sunday; the summary is Sunday 18:00 local (EST is UTC-5
        # until 8 March, EDT UTC-4 after).
        (NEW_YORK_SUNDAY, utc(2026, 3, 8, 22), utc(2026, 3, 8, 22), ("2026-03-01", "2026-03-08")),
        (NEW_YORK_SUNDAY, utc(2026, 3, 1, 23), utc(2026, 3, 1, 23), ("2026-02-22", "2026-03-01")),
    ],
)
def test_the_latest_summary_and_its_week(
    schedule: Schedule, now: datetime, moment: datetime, week: tuple[str, str]
) -> None:
    due = due_summaries(schedule, now, grace=timedelta(days=7))
    assert due[-1].scheduled_at == moment
    period = due[-1].period
    assert (period.first_day.isoformat(), period.end_day.isoformat()) == week
    assert period.timezone == schedule.timezone


def test_the_spring_forward_week_is_167_hours_and_autumn_169() -> None:
    spring = period_for(BERLIN, utc(2026, 3, 30, 7))
    autumn = period_for(BERLIN, utc(2026, 10, 26, 8))
    assert spring.duration == timedelta(hours=167)
    assert autumn.duration == timedelta(hours=169)


def test_after_downtime_only_moments_within_the_grace_window_are_due() -> None:
    # Down from Sunday 1 March to Thursday 12 March 10:00: Monday 2 (10 days ago) is too late
    # with a 3-day grace window; Monday 9 (3 days 1 hour ago) too; a 4-day window keeps it.
    now = utc(2026, 3, 12, 10)
    assert due_summaries(MONDAY_9, now, grace=timedelta(days=3)) == []
    due = due_summaries(MONDAY_9, now, grace=timedelta(days=4))
    assert [d.scheduled_at for d in due] == [utc(2026, 3, 9, 9)]
    skipped = skipped_summaries(MONDAY_9, now, timedelta(days=3), lookback=timedelta(days=14))
    assert [d.scheduled_at for d in skipped] == [utc(2026, 3, 2, 9), utc(2026, 3, 9, 9)]


@pytest.mark.parametrize(
    ("schedule", "now", "expected"),
    [
        (MONDAY_9, utc(2026, 3, 9, 9, 0), utc(2026, 3, 16, 9)),
        (MONDAY_9, utc(2026, 3, 9, 8, 0), utc(2026, 3, 9, 9)),
        (BERLIN, utc(2026, 3, 24, 0, 0), utc(2026, 3, 30, 7)),
        (BERLIN, utc(2026, 10, 20, 0, 0), utc(2026, 10, 26, 8)),
        (NEW_YORK_SUNDAY, utc(2026, 3, 2, 0, 0), utc(2026, 3, 8, 22)),
    ],
)
def test_next_moment_agrees_with_the_scheduler_trigger(
    schedule: Schedule, now: datetime, expected: datetime
) -> None:
    assert next_moment(schedule, now) == expected
    trigger = summary_trigger(schedule)
    fired = trigger.get_next_fire_time(None, now + timedelta(microseconds=1))
    assert fired is not None and fired.astimezone(UTC) == expected


def test_a_wall_time_skipped_by_dst_happens_after_the_gap() -> None:
    night = Schedule("Europe/Berlin", 0, summary_day=6, summary_time=time(2, 30))
    moment = scheduled_at(night, date(2026, 3, 29))
    assert moment == utc(2026, 3, 29, 1, 30)
    assert moment.astimezone(ZoneInfo("Europe/Berlin")).hour == 3


@pytest.mark.parametrize(
    ("attempts", "delay"),
    [(1, timedelta(minutes=1)), (2, timedelta(minutes=5)), (3, timedelta(minutes=30)), (4, None)],
)
def test_retries_back_off_then_stop(attempts: int, delay: timedelta | None) -> None:
    failed = utc(2026, 3, 9, 9)
    expected = failed + delay if delay is not None else None
    assert retry_at(attempts, failed) == expected
