"""Week-over-week changes and the reports built on them, on a two-member community."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.domain.metrics import (
    Overview,
    channel_report,
    member_report,
    overview_from_rows,
)
from bot.domain.metrics_activity import ChannelDayRow, GuildDayRow, MemberDayRow, Ranked
from bot.domain.metrics_base import Change, count_change, duration_change, rate_change
from bot.domain.metrics_members import Joiner, MemberEventRow
from bot.domain.metrics_questions import QuestionRow
from bot.domain.periods import between, previous

H = timedelta(hours=1)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        # Counts change in percent: (120 - 100) / 100 = 20 %.
        (count_change(120, 100), Change(120, 100, 20, 20.0)),
        # From nothing, a percentage means nothing.
        (count_change(5, 0), Change(5, 0, 5, None)),
        (count_change(0, 10), Change(0, 10, -10, -100.0)),
        (count_change(None, 3), Change(None, 3, None, None)),
        # Rates change absolutely: 0.5 - 0.4 = 0.1 (ten points), never in percent.
        (rate_change(0.5, 0.4, 10, 8), Change(0.5, 0.4, pytest.approx(0.1), None, False)),
        # Under 5 cases now: too little data, no change shown.
        (rate_change(0.5, 0.4, 4, 8), Change(0.5, 0.4, None, None, True)),
        # Enough now, too few before: the figure stands, the change does not.
        (rate_change(0.5, 0.4, 10, 3), Change(0.5, 0.4, None, None, False)),
        (rate_change(None, 0.4, 0, 10), Change(None, 0.4, None, None, True)),
        # Durations in seconds, changing absolutely: 2 h - 3 h = -3600 s.
        (duration_change(2 * H, 3 * H, 6, 6), Change(7200.0, 10800.0, -3600.0, None, False)),
    ],
)
def test_changes(change: Change, expected: Change) -> None:
    assert change == expected


WEEK = between(date(2026, 3, 2), date(2026, 3, 8), "UTC")
BEFORE = previous(WEEK)  # 02-23..03-01
NOW = datetime(2026, 3, 16, 12, tzinfo=UTC)


def d(day: int, month: int = 3) -> date:
    return date(2026, month, day)


# The week: u1 posts 4 messages and u2 (who joined Monday 09:00) 2, all on Monday; 4 are
# top-level, 2 replies, 1 thread started, 3 reactions. Channel 10 has 5 of them, channel 11 one.
# The week before: u1 alone, 4 top-level messages, 1 reaction. Members: 10 before, 11 after.
GUILD_DAYS = [GuildDayRow(d(2), 6, 4, 2, 1, 0, 3), GuildDayRow(d(24, 2), 4, 4, 0, 0, 0, 1)]
MEMBER_DAYS = [MemberDayRow(d(2), 1, 4), MemberDayRow(d(2), 2, 2), MemberDayRow(d(24, 2), 1, 4)]
CHANNEL_DAYS = [ChannelDayRow(d(2), 10, 5), ChannelDayRow(d(2), 11, 1)]
JOIN = datetime(2026, 3, 2, 9, tzinfo=UTC)


def overview() -> Overview:
    return overview_from_rows(
        WEEK,
        BEFORE,
        NOW,
        guild_days=GUILD_DAYS,
        member_days=MEMBER_DAYS,
        channel_days=CHANNEL_DAYS,
        questions=[],
        member_events=[MemberEventRow(2, "join", JOIN)],
        joiners=[Joiner(2, JOIN, None, 2)],
        member_counts=(10, 10, 11),
    )


def test_overview_headlines() -> None:
    o = overview()
    assert o.messages == Change(6, 4, 2, 50.0)  # (6 - 4) / 4
    assert o.active_members == Change(2, 1, 1, 100.0)
    # Mean DAU: 2 active on one day of seven = 2/7, before 1/7: +1/7, +100 %.
    assert o.dau == Change(pytest.approx(2 / 7), pytest.approx(1 / 7), pytest.approx(1 / 7), 100.0)
    # MAU windows: 02-09..03-08 holds u1 and u2; 02-02..03-01 only u1.
    assert (o.wau.current, o.wau.previous, o.mau.current, o.mau.previous) == (2, 1, 2, 1)
    # Stickiness (2/7) / 2 = 1/7 rests on an MAU of 2 members: too little data.
    assert o.stickiness == Change(pytest.approx(1 / 7), pytest.approx(1 / 7), None, None, True)
    # Conversation 2 / 4 = 0.5 on 4 top-level messages: too little data; before 0 / 4.
    assert o.conversation_rate == Change(0.5, 0.0, None, None, True)
    # Applause 3 / 6 = 0.5 on 6 messages, before 1 / 4 on 4: the figure stands, no change.
    assert o.applause_rate == Change(0.5, 0.25, None, None, False)
    assert o.questions == Change(0, 0, 0, None)
    assert o.response_rate == Change(None, None, None, None, True)
    assert (o.joins, o.leaves) == (Change(1, 0, 1, None), Change(0, 0, 0, None))
    # 11 members at the end, 10 a week before: +10 %. Churn 0 / 10 both weeks (10 cases).
    assert o.member_count == Change(11, 10, 1, 10.0)
    assert o.churn_rate == Change(0.0, 0.0, 0.0, None, False)
    # u2 posted twice in their first week: activated (1+), not by Insights' 3+ rule.
    assert o.activation_rate == Change(1.0, None, None, None, True)
    assert o.insights_activation_rate.current == 0.0
    assert o.top_channels == (Ranked(10, 5), Ranked(11, 1))
    assert o.top_members == (Ranked(1, 4), Ranked(2, 2))


def test_overview_to_dict_uses_the_metrics_terms() -> None:
    data = overview().to_dict()
    assert set(data) == {
        "period",
        "previous_period",
        "top_channels",
        "top_members",
        *Overview.HEADLINES,
    }
    assert data["messages"] == {
        "current": 6,
        "previous": 4,
        "delta": 2,
        "percent": 50.0,
        "too_little_data": False,
    }
    assert data["period"] == {
        "start": "2026-03-02T00:00:00+00:00",
        "end": "2026-03-09T00:00:00+00:00",
        "label": "2026-03-02..2026-03-08",
        "timezone": "UTC",
    }
    assert data["top_channels"] == [{"id": 10, "messages": 5}, {"id": 11, "messages": 1}]


def test_channel_and_member_reports() -> None:
    asked = QuestionRow(1, 10, 2, JOIN, "answered", 60, JOIN + H, 1, False)
    channel = channel_report(
        10,
        WEEK,
        BEFORE,
        NOW,
        channel_days=CHANNEL_DAYS,
        guild_days=GUILD_DAYS,
        questions=[asked],
    )
    # 5 messages against none the week before; 5 of the guild's 6.
    assert channel.messages == Change(5, 0, 5, None)
    assert channel.share_of_messages == pytest.approx(5 / 6)
    assert channel.daily_messages == (5, 0, 0, 0, 0, 0, 0)
    assert (channel.responses.questions, channel.responses.response_rate) == (1, 1.0)
    # u1: 4 messages on 1 day both weeks; answered u2's question once.
    member = member_report(1, WEEK, BEFORE, member_days=MEMBER_DAYS, questions=[asked])
    assert member.messages == Change(4, 4, 0, 0.0)
    assert member.active_days == Change(1, 1, 0, 0.0)
    assert (member.questions_asked, member.first_responses) == (0, 1)
    assert member.to_dict()["messages"] == {
        "current": 4,
        "previous": 4,
        "delta": 0,
        "percent": 0.0,
        "too_little_data": False,
    }
