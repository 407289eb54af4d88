"""Growth, activation, cohorts and at-risk members on communities counted on paper."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.domain.metrics_activity import MemberDayRow
from bot.domain.metrics_members import (
    Activation,
    Joiner,
    MemberEventRow,
    MemberSpan,
    QuietMember,
    ReturnCandidate,
    Returner,
    activation,
    came_back,
    cohort_table,
    growth,
    member_count_at,
    recent_activity,
    return_candidates,
    went_quiet,
)
from bot.domain.periods import between

WEEK = between(date(2026, 3, 2), date(2026, 3, 8), "UTC")


def at(day: int, hour: int = 12, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def d(day: int, month: int = 3) -> date:
    return date(2026, month, day)


# u1 joined 03-01 10:00 and stayed; u2 joined 03-01 10:00, left 03-05 12:00; u3 joined 03-06;
# u4 is a bot; u5's join time is unknown; u6 came and went on 03-03 (06:00 to 12:00).
SPANS = [
    MemberSpan(1, at(1, 10), None),
    MemberSpan(2, at(1, 10), at(5)),
    MemberSpan(3, at(6), None),
    MemberSpan(4, at(1, 10), None, is_bot=True),
    MemberSpan(5, None, None),
    MemberSpan(6, at(3, 6), at(3, 12)),
]


@pytest.mark.parametrize(
    ("moment", "count"),
    [
        (at(1, 10), 0),  # joined exactly then: not yet a member "before" the moment
        (at(1, 11), 2),  # u1, u2
        (at(3, 8), 3),  # u1, u2, u6
        (at(4, 0), 2),  # u6 has left
        (at(5, 12), 2),  # u2 leaves at this very moment: a member until then, so counted
        (at(5, 13), 1),  # u1 only
        (at(7, 0), 2),  # u1, u3
    ],
)
def test_member_count_at(moment: datetime, count: int) -> None:
    # A member counts at a moment if they joined before it and had not left before it.
    assert member_count_at(SPANS, moment) == count


def test_growth_and_churn() -> None:
    # In the week: joins u10 (03-02), u11 (03-03) = 2; leaves u11 (03-04), u12 (03-05) = 2
    # (u12's ban is the same removal, not counted again); u13 joins next week.
    # Net growth 0; churn = leaves / members at start = 2 / 100.
    events = [
        MemberEventRow(10, "join", at(2)),
        MemberEventRow(11, "join", at(3)),
        MemberEventRow(11, "leave", at(4)),
        MemberEventRow(12, "leave", at(5)),
        MemberEventRow(12, "ban", at(5)),
        MemberEventRow(13, "join", at(9)),
    ]
    figures = growth(events, WEEK, 100, 100)
    assert (figures.joins, figures.leaves, figures.net_growth) == (2, 2, 0)
    assert figures.churn_rate == 0.02
    assert growth([], WEEK, 0, 0).churn_rate is None


def test_activation_and_fast_churn() -> None:
    # Seen on 03-12 12:00. Joiners of the week:
    #   j1 03-02 10:00, no message                   -> counted, not activated
    #   j2 03-03, 1 message                          -> activated
    #   j3 03-04, 3 messages                         -> activated, and by Server Insights' rule
    #   j4 03-05 09:00, left 03-06                   -> fast churn
    #   j5 03-05 13:00: 7 days end 03-12 13:00, after now -> pending, whatever it did
    #   j7 03-02 10:00, left 03-09 10:00 (exactly 7 days) -> fast churn
    #   j8 03-02 10:00, left 03-09 11:00             -> not fast churn
    #   j6 joined 03-01: another week
    # Counted: j1, j2, j3, j4, j7, j8 = 6 -> activation 2 / 6, insights 1 / 6, fast churn 2 / 6.
    joiners = [
        Joiner(1, at(2, 10), None, 0),
        Joiner(2, at(3), None, 1),
        Joiner(3, at(4), None, 3),
        Joiner(4, at(5, 9), at(6), 0),
        Joiner(5, at(5, 13), None, 5),
        Joiner(6, at(1), None, 9),
        Joiner(7, at(2, 10), at(9, 10), 0),
        Joiner(8, at(2, 10), at(9, 11), 0),
    ]
    figures = activation(joiners, WEEK, at(12))
    assert figures == Activation(
        joiners=6, pending=1, activated=2, activated_insights=1, fast_churned=2
    )
    assert figures.activation_rate == pytest.approx(1 / 3)
    assert figures.insights_activation_rate == pytest.approx(1 / 6)
    assert figures.fast_churn_rate == pytest.approx(1 / 3)


def test_cohort_table() -> None:
    # Seen on Wednesday 03-25 (weeks from Monday, UTC): the three full weeks before are the
    # cohorts 03-02 (w0), 03-09 (w1), 03-16 (w2).
    #   cohort 03-02: u1, u2. u1 active in w0 and w2, u2 in w1 -> N=0: 1/2, N=1: 1/2, N=2: 1/2
    #   cohort 03-09: u3, active in w1 and w2                -> N=0: 1, N=1: 1, N=2: not yet
    #   cohort 03-16: u4, never active                        -> N=0: 0, then not yet
    # u5 joined this week and u6 before the table: neither is in a cohort. A leave changes
    # nothing. Activity this week (03-24) is not observable yet.
    joins = [
        MemberEventRow(1, "join", at(2)),
        MemberEventRow(2, "join", at(4)),
        MemberEventRow(3, "join", at(10)),
        MemberEventRow(4, "join", at(17)),
        MemberEventRow(5, "join", at(24)),
        MemberEventRow(6, "join", at(25, month=2)),
        MemberEventRow(2, "leave", at(13)),
    ]
    activity = [
        MemberDayRow(d(3), 1, 1),
        MemberDayRow(d(16), 1, 2),
        MemberDayRow(d(12), 2, 1),
        MemberDayRow(d(10), 3, 4),
        MemberDayRow(d(17), 3, 1),
        MemberDayRow(d(24), 1, 1),
        MemberDayRow(d(24), 5, 1),
    ]
    report = cohort_table(joins, activity, at(25), "UTC", 0, weeks=3)
    table = [(c.week_start, c.size, c.retention) for c in report.cohorts]
    assert table == [
        (d(2), 2, (0.5, 0.5, 0.5)),
        (d(9), 1, (1.0, 1.0, None)),
        (d(16), 1, (0.0, None, None)),
    ]
    assert report.week_1_retention == 1.0
    assert report.to_dict()["cohort_table"][1] == {  # type: ignore[index]
        "cohort_week": "2026-03-09",
        "size": 1,
        "week_0_retention": 1.0,
        "week_1_retention": 1.0,
        "week_2_retention": None,
    }


def test_an_eight_week_table_is_a_triangle() -> None:
    # Cohort k (oldest k = 0) can be observed for weeks N = 0 .. 7 - k; an empty cohort has no
    # rate (None) even where observable.
    report = cohort_table([MemberEventRow(1, "join", at(2))], [], at(25), "UTC", 0)
    assert len(report.cohorts) == 8
    for k, cohort in enumerate(report.cohorts):
        observable = [n for n, value in enumerate(cohort.active) if value is not None]
        assert observable == list(range(8 - k))
    assert report.cohorts[0].week_start == date(2026, 1, 26)  # 8 weeks before 03-23


def test_went_quiet() -> None:
    # Today 03-31: the last 14 days are 03-18..03-31; the four weeks before are
    # [02-18, 02-25) [02-25, 03-04) [03-04, 03-11) [03-11, 03-18).
    #   u1: weeks 1, 2, 3 (02-18, 02-26, 03-05), 1 + 2 + 3 messages, silent since -> quiet
    #   u2: all four weeks but posted 03-20                -> not quiet
    #   u3: two weeks only                                 -> not
    #   u4: all four weeks, 1 message each                 -> quiet, first (4 weeks)
    #   u5: twice in week 1 and once in week 2             -> two weeks: not
    #   u6: 02-10 (before the window) and weeks 2, 3, 4    -> quiet, 3 messages
    # Order: more active weeks, then more messages: u4, u1, u6.
    rows = [
        MemberDayRow(d(18, 2), 1, 1),
        MemberDayRow(d(26, 2), 1, 2),
        MemberDayRow(d(5), 1, 3),
        *[MemberDayRow(day, 2, 1) for day in (d(18, 2), d(25, 2), d(4), d(11), d(20))],
        MemberDayRow(d(18, 2), 3, 1),
        MemberDayRow(d(17), 3, 1),
        *[MemberDayRow(day, 4, 1) for day in (d(20, 2), d(27, 2), d(6), d(17))],
        MemberDayRow(d(19, 2), 5, 1),
        MemberDayRow(d(20, 2), 5, 1),
        MemberDayRow(d(26, 2), 5, 1),
        *[MemberDayRow(day, 6, 1) for day in (d(10, 2), d(26, 2), d(5), d(12))],
    ]
    quiet = went_quiet(recent_activity(rows, d(31)))
    assert quiet == (
        QuietMember(4, 4, 4, d(17)),
        QuietMember(1, 3, 6, d(5)),
        QuietMember(6, 3, 3, d(12)),
    )


def test_came_back() -> None:
    # The week 03-23..03-29; four inactive weeks means nothing in 02-23..03-22.
    #   r1 last active 02-22: 28 idle days = 4 weeks          -> back
    #   r2 last active 02-23: 27 idle days                    -> not
    #   r3 never active before: a newcomer                    -> not
    #   r4 last active 01-05: 76 idle days = 10 full weeks    -> back, first
    #   r5 not active this week                               -> not
    week = between(d(23), d(29), "UTC")
    rows = [
        MemberDayRow(d(24), 1, 2),
        MemberDayRow(d(22, 2), 1, 1),
        MemberDayRow(d(24), 2, 1),
        MemberDayRow(d(23, 2), 2, 1),
        MemberDayRow(d(25), 3, 1),
        MemberDayRow(d(26), 4, 5),
        MemberDayRow(d(5, 1), 4, 1),
        MemberDayRow(d(1, 2), 5, 1),
    ]
    candidates = return_candidates(rows, week)
    assert candidates == [
        ReturnCandidate(1, 2, d(22, 2)),
        ReturnCandidate(2, 1, d(23, 2)),
        ReturnCandidate(3, 1, None),
        ReturnCandidate(4, 5, d(5, 1)),
    ]
    assert came_back(candidates, week) == (
        Returner(4, 5, d(5, 1), 10),
        Returner(1, 2, d(22, 2), 4),
    )
