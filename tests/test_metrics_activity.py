"""Activity and engagement figures on communities small enough to count on paper."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.domain.metrics_activity import (
    ChannelDayRow,
    Engagement,
    GuildDayRow,
    HourRow,
    HourSlot,
    MemberActivity,
    MemberDayRow,
    Ranked,
    daily_messages,
    engagement,
    member_activity,
    peak_hours,
    top_channels,
    top_members,
)
from bot.domain.periods import between, last_full_weeks

WEEK = between(date(2026, 3, 23), date(2026, 3, 29), "UTC")  # Monday to Sunday


def d(day: int, month: int = 3) -> date:
    return date(2026, month, day)


@pytest.mark.parametrize(
    ("rows", "expected", "rates"),
    [
        # Two days in the week, one outside it (ignored):
        # messages 10 + 5 = 15, top-level 6 + 4 = 10, replies 4 + 1 = 5, threads 1 + 0 = 1,
        # forwards 2 + 1 = 3, reactions 5 + 0 = 5.
        # conversation 5 / 10 = 0.5; applause 5 / 15 = 1/3; amplification (1 + 3) / 10 = 0.4.
        (
            [
                GuildDayRow(d(23), 10, 6, 4, 1, 2, 5),
                GuildDayRow(d(29), 5, 4, 1, 0, 1, 0),
                GuildDayRow(d(30), 99, 99, 99, 99, 99, 99),
            ],
            Engagement(15, 10, 5, 1, 3, 5),
            (0.5, 1 / 3, 0.4),
        ),
        # Only replies (a thread's messages): no top-level message to divide by -> no rate.
        # applause 2 / 3.
        ([GuildDayRow(d(24), 3, 0, 3, 0, 0, 2)], Engagement(3, 0, 3, 0, 0, 2), (None, 2 / 3, None)),
        # A silent week: nothing, and no rates rather than zeros.
        ([], Engagement(0, 0, 0, 0, 0, 0), (None, None, None)),
    ],
)
def test_engagement_rates(
    rows: list[GuildDayRow], expected: Engagement, rates: tuple[float | None, ...]
) -> None:
    figures = engagement(rows, WEEK)
    assert figures == expected
    assert (
        figures.conversation_rate,
        figures.applause_rate,
        figures.amplification_rate,
    ) == pytest.approx(rates)


# A week (03-23..03-29) and its 28-day MAU window (03-02..03-29):
#   user 1: Mon 2 messages, Tue 1 -> 3 in the week: a communicator
#   user 2: Mon 1
#   user 3: Wed 5 -> a communicator
#   user 4: 03-10 only (in the MAU window, not the week)
#   user 5: 03-01 only (before the MAU window: not counted anywhere)
#   user 6: Sunday 03-22 (the day before the week: MAU, but not WAU)
# DAU Mon..Sun = 2, 1, 1, 0, 0, 0, 0 -> mean 4 / 7; active 3; communicators 2; WAU 3;
# MAU {1, 2, 3, 4, 6} = 5; stickiness (4 / 7) / 5 = 4 / 35.
# Counting only the days begun by Wednesday: mean 4 / 3, stickiness (4 / 3) / 5 = 4 / 15.
ACTIVITY = [
    MemberDayRow(d(23), 1, 2),
    MemberDayRow(d(24), 1, 1),
    MemberDayRow(d(23), 2, 1),
    MemberDayRow(d(25), 3, 5),
    MemberDayRow(d(10), 4, 7),
    MemberDayRow(d(1), 5, 1),
    MemberDayRow(d(22), 6, 2),
]


@pytest.mark.parametrize(
    ("days", "expected", "dau", "stickiness"),
    [
        (None, MemberActivity((2, 1, 1, 0, 0, 0, 0), 3, 2, 3, 5), 4 / 7, 4 / 35),
        ([d(23), d(24), d(25)], MemberActivity((2, 1, 1), 3, 2, 3, 5), 4 / 3, 4 / 15),
    ],
)
def test_member_activity(
    days: list[date] | None, expected: MemberActivity, dau: float, stickiness: float
) -> None:
    figures = member_activity(ACTIVITY, WEEK, days)
    assert figures == expected
    assert figures.dau == pytest.approx(dau)
    assert figures.stickiness == pytest.approx(stickiness)


def test_no_activity_gives_no_stickiness() -> None:
    figures = member_activity([], WEEK)
    assert (figures.dau, figures.stickiness, figures.mau) == (0, None, 0)


def test_wau_is_the_last_seven_days_of_a_longer_period() -> None:
    # 28 days 03-02..03-29: WAU is 03-23..03-29 = {1, 2, 3}; user 6 (03-22) is one day early.
    # Active in the period: 1, 2, 3, 4, 6 -> 5; MAU the same window -> 5.
    period = between(date(2026, 3, 2), date(2026, 3, 29), "UTC")
    figures = member_activity(ACTIVITY, period)
    assert (figures.active_members, figures.wau, figures.mau) == (5, 3, 5)


def test_top_channels_and_members() -> None:
    # Channel 10: 4 + 3 = 7; channel 11: 7 (a tie: the smaller id first); channel 12: 1;
    # channel 13 posted only outside the week.
    channel_rows = [
        ChannelDayRow(d(23), 11, 7),
        ChannelDayRow(d(23), 10, 4),
        ChannelDayRow(d(28), 10, 3),
        ChannelDayRow(d(29), 12, 1),
        ChannelDayRow(d(30), 13, 50),
    ]
    assert top_channels(channel_rows, WEEK, 2) == (Ranked(10, 7), Ranked(11, 7))
    assert top_channels(channel_rows, WEEK) == (Ranked(10, 7), Ranked(11, 7), Ranked(12, 1))
    # Members in the week: 3 -> 5, 1 -> 2 + 1 = 3, 2 -> 1.
    assert top_members(ACTIVITY, WEEK, 2) == (Ranked(3, 5), Ranked(1, 3))
    # Per day: Mon 4 + 7 = 11, Sat 3, Sun 1.
    assert daily_messages(channel_rows[:4], WEEK) == (11, 0, 0, 0, 0, 3, 1)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[arg-type, misc]


@pytest.mark.parametrize(
    ("rows", "cells", "busiest"),
    [
        # Berlin, the four full weeks before Wednesday 2026-04-01: 03-02..03-29, that is
        # [03-01 23:00 UTC, 03-29 22:00 UTC) because summer time starts on 03-29.
        #   03-02 08:00 UTC = Monday 09:00 CET            5
        #   03-09 08:00 UTC = Monday 09:00 CET            3   -> Monday 09:00 holds 8
        #   03-28 08:00 UTC = Saturday 09:00 CET          4
        #   03-29 08:00 UTC = Sunday 10:00 CEST           6   (after the change: +2)
        #   03-01 23:00 UTC = Monday 03-02 00:00 CET      1   (the first hour of the period)
        #   03-01 22:00 UTC = Sunday 23:00, before the period: ignored
        #   03-29 22:00 UTC = Monday 03-30 00:00, after it: ignored
        (
            [
                HourRow(utc(2026, 3, 2, 8), 5),
                HourRow(utc(2026, 3, 9, 8), 3),
                HourRow(utc(2026, 3, 28, 8), 4),
                HourRow(utc(2026, 3, 29, 8), 6),
                HourRow(utc(2026, 3, 1, 23), 1),
                HourRow(utc(2026, 3, 1, 22), 100),
                HourRow(utc(2026, 3, 29, 22), 100),
            ],
            {(0, 9): 8, (6, 10): 6, (5, 9): 4, (0, 0): 1},
            (HourSlot(0, 9, 8), HourSlot(6, 10, 6), HourSlot(5, 9, 4)),
        ),
        # Ties go to the earlier slot in the week; empty slots are never "busiest".
        #   03-04 10:00 UTC = Wednesday 11:00 CET 2; 03-03 10:00 UTC = Tuesday 11:00 CET 2.
        (
            [HourRow(utc(2026, 3, 4, 10), 2), HourRow(utc(2026, 3, 3, 10), 2)],
            {(2, 11): 2, (1, 11): 2},
            (HourSlot(1, 11, 2), HourSlot(2, 11, 2)),
        ),
    ],
)
def test_peak_hours_in_local_time(
    rows: list[HourRow], cells: dict[tuple[int, int], int], busiest: tuple[HourSlot, ...]
) -> None:
    period = last_full_weeks(utc(2026, 4, 1, 12), "Europe/Berlin", 0, 4)
    figures = peak_hours(rows, period)
    found = {
        (weekday, hour): n
        for weekday, row in enumerate(figures.grid)
        for hour, n in enumerate(row)
        if n
    }
    assert found == cells
    assert figures.busiest == busiest
    assert figures.to_dict()["busiest_hours"][0]["messages"] == busiest[0].messages  # type: ignore[index]
