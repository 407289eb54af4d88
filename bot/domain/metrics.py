"""The reports: headline figures with their previous-period values, per channel and per member.

``/stats overview``, the weekly summaries and the offline ``engagebot report`` all render an
:class:`Overview`. The figures themselves live in ``metrics_activity``, ``metrics_questions``
and ``metrics_members``; week-over-week changes and plain output in ``metrics_base``. Every
report has ``to_dict()`` whose keys are the METRICS.md terms in snake_case.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.domain.metrics_activity import (
    ChannelDayRow,
    Engagement,
    GuildDayRow,
    MemberActivity,
    MemberDayRow,
    Ranked,
    daily_messages,
    engagement,
    member_activity,
    top_channels,
    top_members,
)
from bot.domain.metrics_base import (
    Change,
    count_change,
    duration_change,
    plain,
    rate_change,
    ratio,
)
from bot.domain.metrics_members import (
    Activation,
    Growth,
    Joiner,
    MemberEventRow,
    activation,
    growth,
)
from bot.domain.metrics_questions import QuestionRow, ResponseStats, asked_in, response_stats
from bot.domain.periods import Period, started_days

TOP = 5


@dataclass(frozen=True, slots=True)
class PeriodFigures:
    """Everything the overview shows about one period."""

    period: Period
    engagement: Engagement
    activity: MemberActivity
    responses: ResponseStats
    growth: Growth
    activation: Activation


def period_figures(
    period: Period,
    now: datetime,
    *,
    guild_days: Iterable[GuildDayRow],
    member_days: Iterable[MemberDayRow],
    questions: Iterable[QuestionRow],
    member_events: Iterable[MemberEventRow],
    joiners: Iterable[Joiner],
    member_count_at_start: int,
    member_count_at_end: int,
) -> PeriodFigures:
    """A period's figures from rollup rows (member days must cover its 28-day MAU window)."""
    return PeriodFigures(
        period=period,
        engagement=engagement(guild_days, period),
        activity=member_activity(member_days, period, started_days(period, now)),
        responses=response_stats(questions, period, now),
        growth=growth(member_events, period, member_count_at_start, member_count_at_end),
        activation=activation(joiners, period, now),
    )


@dataclass(frozen=True, slots=True)
class Overview:
    """The headline figures of a period, each with the previous period's value."""

    period: Period
    previous_period: Period
    messages: Change
    active_members: Change
    dau: Change
    wau: Change
    mau: Change
    stickiness: Change
    communicators: Change
    conversation_rate: Change
    applause_rate: Change
    amplification_rate: Change
    questions: Change
    response_rate: Change
    within_target_rate: Change
    first_response_time_median: Change
    first_response_time_p90: Change
    staff_first_response_time_median: Change
    community_first_response_time_median: Change
    time_to_resolution_median: Change
    joins: Change
    leaves: Change
    net_growth: Change
    member_count: Change
    churn_rate: Change
    activation_rate: Change
    insights_activation_rate: Change
    fast_churn_rate: Change
    top_channels: tuple[Ranked, ...]
    top_members: tuple[Ranked, ...]
    current: PeriodFigures
    previous: PeriodFigures

    HEADLINES = (
        "messages",
        "active_members",
        "dau",
        "wau",
        "mau",
        "stickiness",
        "communicators",
        "conversation_rate",
        "applause_rate",
        "amplification_rate",
        "questions",
        "response_rate",
        "within_target_rate",
        "first_response_time_median",
        "first_response_time_p90",
        "staff_first_response_time_median",
        "community_first_response_time_median",
        "time_to_resolution_median",
        "joins",
        "leaves",
        "net_growth",
        "member_count",
        "churn_rate",
        "activation_rate",
        "insights_activation_rate",
        "fast_churn_rate",
    )
    """The week-over-week figures, in the order a summary shows them."""

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "period": plain(self.period),
            "previous_period": plain(self.previous_period),
        }
        for name in self.HEADLINES:
            out[name] = plain(getattr(self, name))
        out["top_channels"] = plain(self.top_channels)
        out["top_members"] = plain(self.top_members)
        return out


def build_overview(
    current: PeriodFigures,
    previous: PeriodFigures,
    top_channels: tuple[Ranked, ...] = (),
    top_members: tuple[Ranked, ...] = (),
) -> Overview:
    c, p = current, previous
    e, pe = c.engagement, p.engagement
    a, pa = c.activity, p.activity
    r, pr = c.responses, p.responses
    g, pg = c.growth, p.growth
    v, pv = c.activation, p.activation
    frt, pfrt = r.first_response_time, pr.first_response_time
    staff, pstaff = r.staff_first_response_time, pr.staff_first_response_time
    community, pcommunity = r.community_first_response_time, pr.community_first_response_time
    ttr, pttr = r.time_to_resolution, pr.time_to_resolution
    return Overview(
        period=c.period,
        previous_period=p.period,
        messages=count_change(e.messages, pe.messages),
        active_members=count_change(a.active_members, pa.active_members),
        dau=count_change(a.dau, pa.dau),
        wau=count_change(a.wau, pa.wau),
        mau=count_change(a.mau, pa.mau),
        stickiness=rate_change(a.stickiness, pa.stickiness, a.mau, pa.mau),
        communicators=count_change(a.communicators, pa.communicators),
        conversation_rate=rate_change(
            e.conversation_rate, pe.conversation_rate, e.top_level, pe.top_level
        ),
        applause_rate=rate_change(e.applause_rate, pe.applause_rate, e.messages, pe.messages),
        amplification_rate=rate_change(
            e.amplification_rate, pe.amplification_rate, e.top_level, pe.top_level
        ),
        questions=count_change(r.questions, pr.questions),
        response_rate=rate_change(
            r.response_rate, pr.response_rate, r.response_rate_cases, pr.response_rate_cases
        ),
        within_target_rate=rate_change(
            r.within_target_rate,
            pr.within_target_rate,
            r.within_target_cases,
            pr.within_target_cases,
        ),
        first_response_time_median=duration_change(frt.median, pfrt.median, frt.count, pfrt.count),
        first_response_time_p90=duration_change(frt.p90, pfrt.p90, frt.count, pfrt.count),
        staff_first_response_time_median=duration_change(
            staff.median, pstaff.median, staff.count, pstaff.count
        ),
        community_first_response_time_median=duration_change(
            community.median, pcommunity.median, community.count, pcommunity.count
        ),
        time_to_resolution_median=duration_change(ttr.median, pttr.median, ttr.count, pttr.count),
        joins=count_change(g.joins, pg.joins),
        leaves=count_change(g.leaves, pg.leaves),
        net_growth=count_change(g.net_growth, pg.net_growth),
        member_count=count_change(g.member_count_at_end, pg.member_count_at_end),
        churn_rate=rate_change(
            g.churn_rate, pg.churn_rate, g.member_count_at_start, pg.member_count_at_start
        ),
        activation_rate=rate_change(v.activation_rate, pv.activation_rate, v.joiners, pv.joiners),
        insights_activation_rate=rate_change(
            v.insights_activation_rate, pv.insights_activation_rate, v.joiners, pv.joiners
        ),
        fast_churn_rate=rate_change(v.fast_churn_rate, pv.fast_churn_rate, v.joiners, pv.joiners),
        top_channels=top_channels,
        top_members=top_members,
        current=current,
        previous=previous,
    )


def overview_from_rows(
    period: Period,
    previous_period: Period,
    now: datetime,
    *,
    guild_days: Iterable[GuildDayRow],
    member_days: Iterable[MemberDayRow],
    channel_days: Iterable[ChannelDayRow],
    questions: Iterable[QuestionRow],
    member_events: Iterable[MemberEventRow],
    joiners: Iterable[Joiner],
    member_counts: tuple[int, int, int],
    top: int = TOP,
) -> Overview:
    """The overview straight from rows (tests and small offline reports); ``member_counts`` are
    the member counts at the previous period's start, at the period's start and at its end."""
    day_rows, activity_rows = list(guild_days), list(member_days)
    asked, events, joined = list(questions), list(member_events), list(joiners)
    before, start, end = member_counts

    def figures(which: Period, at_start: int, at_end: int) -> PeriodFigures:
        return period_figures(
            which,
            now,
            guild_days=day_rows,
            member_days=activity_rows,
            questions=asked,
            member_events=events,
            joiners=joined,
            member_count_at_start=at_start,
            member_count_at_end=at_end,
        )

    return build_overview(
        figures(period, start, end),
        figures(previous_period, before, start),
        top_channels(channel_days, period, top),
        top_members(activity_rows, period, top),
    )


@dataclass(frozen=True, slots=True)
class ChannelReport:
    period: Period
    channel_id: int
    messages: Change
    share_of_messages: float | None
    """The channel's share of the guild's counted messages in the period."""
    daily_messages: tuple[int, ...]
    responses: ResponseStats

    def to_dict(self) -> dict[str, object]:
        return {
            "period": plain(self.period),
            "channel_id": self.channel_id,
            "messages": plain(self.messages),
            "share_of_messages": self.share_of_messages,
            "daily_messages": list(self.daily_messages),
            **self.responses.to_dict(),
        }


def channel_report(
    channel_id: int,
    period: Period,
    previous_period: Period,
    now: datetime,
    *,
    channel_days: Iterable[ChannelDayRow],
    guild_days: Iterable[GuildDayRow],
    questions: Iterable[QuestionRow],
) -> ChannelReport:
    mine = [row for row in channel_days if row.channel_id == channel_id]
    current = sum(row.messages for row in mine if period.contains_day(row.day))
    prior = sum(row.messages for row in mine if previous_period.contains_day(row.day))
    guild_total = engagement(guild_days, period).messages
    return ChannelReport(
        period=period,
        channel_id=channel_id,
        messages=count_change(current, prior),
        share_of_messages=ratio(current, guild_total),
        daily_messages=daily_messages(mine, period),
        responses=response_stats((q for q in questions if q.channel_id == channel_id), period, now),
    )


@dataclass(frozen=True, slots=True)
class MemberReport:
    period: Period
    user_id: int
    messages: Change
    active_days: Change
    daily_messages: tuple[int, ...]
    questions_asked: int
    first_responses: int
    """First responses this member gave to questions asked in the period."""

    def to_dict(self) -> dict[str, object]:
        return {
            "period": plain(self.period),
            "user_id": self.user_id,
            "messages": plain(self.messages),
            "active_days": plain(self.active_days),
            "daily_messages": list(self.daily_messages),
            "questions_asked": self.questions_asked,
            "first_responses": self.first_responses,
        }


def member_report(
    user_id: int,
    period: Period,
    previous_period: Period,
    *,
    member_days: Iterable[MemberDayRow],
    questions: Iterable[QuestionRow],
) -> MemberReport:
    mine = [row for row in member_days if row.user_id == user_id and row.messages > 0]
    now_rows = [row for row in mine if period.contains_day(row.day)]
    before_rows = [row for row in mine if previous_period.contains_day(row.day)]
    asked = [q for q in asked_in(questions, period) if not q.withdrawn]
    return MemberReport(
        period=period,
        user_id=user_id,
        messages=count_change(
            sum(r.messages for r in now_rows), sum(r.messages for r in before_rows)
        ),
        active_days=count_change(len(now_rows), len(before_rows)),
        daily_messages=daily_messages(now_rows, period),
        questions_asked=sum(q.asker_id == user_id for q in asked),
        first_responses=sum(
            q.first_responder_id == user_id and q.asker_id != user_id for q in asked
        ),
    )
