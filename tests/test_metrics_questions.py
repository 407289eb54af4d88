"""Response figures on a handful of questions whose timings are worked out in the comments."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.domain.metrics_base import Distribution, nearest_rank
from bot.domain.metrics_questions import (
    Helper,
    QuestionRow,
    response_stats,
    responses_report,
    top_helpers,
)
from bot.domain.periods import between

WEEK = between(date(2026, 3, 2), date(2026, 3, 8), "UTC")
NOW = datetime(2026, 3, 9, 12, tzinfo=UTC)  # the Monday after, at noon
H = timedelta(hours=1)
M = timedelta(minutes=1)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("values", "median", "p90"),
    [
        ([], None, None),
        ([5], 5, 5),
        # n = 4: median rank ceil(0.5 * 4) = 2 -> 2 (the lower middle); p90 ceil(3.6) = 4 -> 4.
        ([4, 1, 3, 2], 2, 4),
        # n = 10: ranks ceil(5) = 5 and ceil(9) = 9.
        (list(range(10, 0, -1)), 5, 9),
        # n = 11: ranks ceil(5.5) = 6 and ceil(9.9) = 10.
        (list(range(1, 12)), 6, 10),
        # n = 2: ranks 1 and ceil(1.8) = 2.
        ([7, 3], 3, 7),
    ],
)
def test_nearest_rank_percentiles(values: list[int], median: int | None, p90: int | None) -> None:
    assert (nearest_rank(values, 50), nearest_rank(values, 90)) == (median, p90)


def question(
    n: int,
    asked_at: datetime,
    *,
    target: int = 60,
    first: datetime | None = None,
    by: int | None = None,
    staff: bool | None = None,
    staff_at: datetime | None = None,
    resolved: datetime | None = None,
    withdrawn: datetime | None = None,
    channel: int = 10,
    asker: int = 1,
) -> QuestionRow:
    return QuestionRow(
        message_id=n,
        channel_id=channel,
        asker_id=asker,
        asked_at=asked_at,
        state="open",
        target_minutes=target,
        first_response_at=first,
        first_responder_id=by,
        first_response_by_staff=staff,
        first_staff_response_at=staff_at,
        resolved_at=resolved,
        withdrawn_at=withdrawn,
    )


# The week 03-02..03-08, seen at NOW (Monday 03-09 12:00):
# q1 Mon 10:00, community answer after 20 min, resolved after 2 h               target 60
# q2 Tue 09:00, staff answer after 2 h                                         target 60
# q3 Wed 09:00, no answer                                                      target 60
# q4 Thu 09:00, community answer after 30 h, staff after 48 h                  target 120
# q5 Fri 09:00, withdrawn at 09:10 (left out of everything but its own count)
# q6 Sun 23:00, staff answer after 1 h 30                                      target 60
# q7 Mon 03-09 09:00: next week, ignored
QUESTIONS = [
    question(1, at(2, 10), first=at(2, 10, 20), by=100, staff=False, resolved=at(2, 12)),
    question(2, at(3, 9), first=at(3, 11), by=200, staff=True, staff_at=at(3, 11)),
    question(3, at(4, 9)),
    question(
        4, at(5, 9), target=120, first=at(6, 15), by=100, staff=False, staff_at=at(7, 9), channel=11
    ),
    question(5, at(6, 9), withdrawn=at(6, 9, 10)),
    question(6, at(8, 23), first=at(9, 0, 30), by=200, staff=True, staff_at=at(9, 0, 30)),
    question(7, at(9, 9), first=at(9, 9, 5), by=100, staff=False),
]


def test_response_stats() -> None:
    stats = response_stats(QUESTIONS, WEEK, NOW)
    # Live: q1, q2, q3, q4, q6 = 5; withdrawn: q5; answered: q1, q2, q4, q6; resolved: q1.
    assert (stats.questions, stats.withdrawn, stats.answered, stats.resolved) == (5, 1, 4, 1)
    # 24 h elapsed for q1-q4 (q6's ends 03-09 23:00): 4 cases; within 24 h: q1, q2 -> 2 / 4.
    assert (stats.responded_within_24h, stats.response_rate_cases) == (2, 4)
    assert stats.response_rate == 0.5
    # Every target has elapsed: 5 cases; only q1 (20 min <= 60) made it -> 1 / 5.
    assert (stats.within_target, stats.within_target_cases, stats.within_target_rate) == (1, 5, 0.2)
    # Buckets (answered within, of those whose time is up):
    #   30 min: all 5 due; q1 -> 1      4 h: all 5 due (q6's 4 h ended 03-09 03:00); q1, q2, q6
    #   24 h: 4 due; q1, q2             7 d: only q1 was asked 7 days before NOW; q1
    assert [(b.label, b.answered, b.cases) for b in stats.buckets] == [
        ("30m", 1, 5),
        ("4h", 3, 5),
        ("24h", 2, 4),
        ("7d", 1, 1),
    ]
    # FRT: 20 min, 1 h 30, 2 h, 30 h -> median rank 2 = 1 h 30, p90 rank ceil(3.6) = 4 = 30 h.
    assert stats.first_response_time == Distribution(4, 90 * M, 30 * H)
    # Staff FRT: q6 1 h 30, q2 2 h, q4 48 h -> median rank 2 = 2 h; p90 rank ceil(2.7) = 3.
    assert stats.staff_first_response_time == Distribution(3, 2 * H, 48 * H)
    # Community FRT (first response not by staff): q1 20 min, q4 30 h -> ranks 1 and 2.
    assert stats.community_first_response_time == Distribution(2, 20 * M, 30 * H)
    assert stats.time_to_resolution == Distribution(1, 2 * H, 2 * H)


def test_a_quiet_week_has_no_rates() -> None:
    stats = response_stats([], WEEK, NOW)
    assert (stats.questions, stats.response_rate, stats.within_target_rate) == (0, None, None)
    assert stats.first_response_time == Distribution(0, None, None)
    assert all(b.rate is None for b in stats.buckets)


def test_a_response_at_exactly_the_limit_is_within_it() -> None:
    exactly = question(1, at(2, 10), first=at(2, 10, 30), by=2, staff=False)
    stats = response_stats([exactly], WEEK, NOW)
    assert stats.buckets[0].answered == 1  # 30 min is within 30 min


# Helpers in the same week: member 100 (community) answered q1 (20 min) and q4 (30 h);
# member 101 (community) two answers of 1 h and 2 h: a tie on count, so the faster median
# first -> 100 (median of 20 min, 30 h is rank 1 = 20 min) before 101 (rank 1 = 1 h);
# member 102 one; staff member 200 answered q2 and q6; the asker answering their own question
# (q8) is no helper; the withdrawn q5 never counts.
HELPER_QUESTIONS = [
    *QUESTIONS,
    question(8, at(3, 9), first=at(3, 9, 1), by=1, staff=False),
    question(9, at(3, 10), first=at(3, 11), by=101, staff=False, asker=5),
    question(10, at(3, 10), first=at(3, 12), by=101, staff=False, asker=6),
    question(11, at(4, 10), first=at(4, 10, 5), by=102, staff=False),
]


def test_top_helpers_rank_staff_and_community_apart() -> None:
    report = top_helpers(HELPER_QUESTIONS, WEEK)
    assert report.staff == (Helper(200, True, 2, Distribution(2, 90 * M, 2 * H)),)
    assert [(h.user_id, h.first_responses) for h in report.community] == [
        (100, 2),
        (101, 2),
        (102, 1),
    ]
    assert report.community[0].first_response_time.median == 20 * M
    assert [h.user_id for h in top_helpers(HELPER_QUESTIONS, WEEK, n=1).community] == [100]
    assert report.to_dict()["top_helpers_staff"] == [
        {
            "user_id": 200,
            "staff": True,
            "first_responses": 2,
            "first_response_time_median": 5400.0,
            "first_response_time_p90": 7200.0,
        }
    ]


def test_responses_by_channel() -> None:
    # Channel 10: q1, q2, q3, q6 (and the withdrawn q5); channel 11: q4.
    report = responses_report(QUESTIONS, WEEK, NOW)
    assert [(c.channel_id, c.stats.questions) for c in report.by_channel] == [(10, 4), (11, 1)]
    # Channel 10's 24 h cases: q1, q2, q3 (q6 not yet) -> answered within 24 h: q1, q2.
    assert report.by_channel[0].stats.response_rate == pytest.approx(2 / 3)
    assert report.overall == response_stats(QUESTIONS, WEEK, NOW)
    assert [h.user_id for h in report.by_responder] == [100, 200]
    flat = report.to_dict()
    assert flat["response_rate"] == 0.5
    assert flat["first_response_time_median"] == 5400.0
    assert flat["answered_within_4h_rate"] == 0.6
