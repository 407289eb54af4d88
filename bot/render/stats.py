"""The ``/stats`` answers: embeds built from the report dataclasses, and their chart files.

Every embed names its period with its days and the guild's time zone, and says what the arrows
compare with. Members and channels appear as mentions (``<@id>``, ``<#id>``): clickable, and an
embed never pings anyone. Charts are drawn by :mod:`bot.render.charts` in a worker thread and
attached as ``attachment://NAME.png`` images of their embed.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import discord

from bot.domain.metrics import ChannelReport, MemberReport, Overview
from bot.domain.metrics_activity import PeakHours
from bot.domain.metrics_base import MIN_CASES, Distribution
from bot.domain.metrics_members import AtRiskReport, RetentionReport
from bot.domain.metrics_questions import Helper, HelpersReport, ResponsesReport, ResponseStats
from bot.domain.periods import Period
from bot.render import charts
from bot.render.figures import (
    HEADLINES,
    NO_DATA,
    SECTIONS,
    TOO_LITTLE_DATA,
    WEEKDAYS,
    Kind,
    change_text,
    count,
    day_text,
    days_text,
    duration_of,
    figure_text,
    percent,
    period_text,
    previous_name,
    sparkline,
)

COLOUR = discord.Colour.blurple()
FIELD_LIMIT = 1024
SPARKLINE_DAYS = 31
LISTED = 10
"""Channels, responders and helpers listed by name in an embed."""
BUCKET_NAMES = {"30m": "30 min", "4h": "4 h", "24h": "24 h", "7d": "7 days"}


def no_data_text(period: Period) -> str:
    return f"No counted messages in {period_text(period)} yet."


def capped(lines: Sequence[str], empty: str = "Nobody yet.", limit: int = FIELD_LIMIT) -> str:
    """Lines joined for an embed field, cut with "and N more" to fit Discord's limit."""
    if not lines:
        return empty
    shown: list[str] = []
    for i, line in enumerate(lines):
        rest = len(lines) - i - 1
        more = f"\n…and {rest} more" if rest else ""
        if len("\n".join([*shown, line])) + len(more) > limit:
            shown.append(f"…and {len(lines) - i} more")
            break
        shown.append(line)
    return "\n".join(shown)


def headline_line(overview: Overview, name: str) -> str:
    label, kind = HEADLINES[name]
    change = getattr(overview, name)
    if change.current is None:
        return f"{label}: {NO_DATA}"
    if change.too_little_data:
        return f"{label}: *{TOO_LITTLE_DATA}*"
    shown = f"{label}: **{figure_text(change, kind)}**"
    moved = change_text(change, kind)
    return f"{shown} {moved}" if moved else shown


def _embed(title: str, description: str) -> discord.Embed:
    return discord.Embed(title=title, description=description, colour=COLOUR)


def _compared(period: Period) -> str:
    return f"▲▼ compare with {previous_name(period)}."


def overview_embed(overview: Overview) -> discord.Embed:
    period = overview.period
    embed = _embed("Community overview", f"{period_text(period)}\n{_compared(period)}")
    for title, names in SECTIONS:
        embed.add_field(
            name=title, value="\n".join(headline_line(overview, n) for n in names), inline=False
        )
    for title, ranked, mention in (
        ("Top channels", overview.top_channels, "<#{}>"),
        ("Top members", overview.top_members, "<@{}>"),
    ):
        lines = [
            f"{i}. {mention.format(r.id)} · {count(r.messages)}" for i, r in enumerate(ranked, 1)
        ]
        embed.add_field(name=title, value=capped(lines, "No messages yet."))
    return embed


def _rate_line(label: str, value: float | None, cases: int) -> str:
    if cases < MIN_CASES:
        return f"{label}: *{TOO_LITTLE_DATA}*" if cases else f"{label}: {NO_DATA}"
    return f"{label}: **{percent(value) if value is not None else NO_DATA}**"


def _spread_line(label: str, spread: Distribution) -> str:
    if spread.count == 0:
        return f"{label}: {NO_DATA}"
    if spread.count < MIN_CASES:
        return f"{label}: *{TOO_LITTLE_DATA}*"
    return f"{label}: **{duration_of(spread.median)}** median, {duration_of(spread.p90)} for 90%"


def response_lines(stats: ResponseStats) -> list[str]:
    """The response figures of some questions, with "too little data" under 5 cases."""
    lines = [
        f"Questions: **{count(stats.questions)}** ({count(stats.answered)} answered, "
        f"{count(stats.resolved)} resolved)",
        _rate_line("Answered within 24 h", stats.response_rate, stats.response_rate_cases),
        _rate_line("Answered within target", stats.within_target_rate, stats.within_target_cases),
        _spread_line("First response", stats.first_response_time),
        _spread_line("Staff first response", stats.staff_first_response_time),
        _spread_line("Community first response", stats.community_first_response_time),
        _spread_line("Time to resolution", stats.time_to_resolution),
    ]
    buckets = [
        f"{BUCKET_NAMES.get(b.label, b.label)}: "
        f"{percent(b.rate) if b.rate is not None and b.cases >= MIN_CASES else '–'}"
        for b in stats.buckets
    ]
    lines.append("Answered within " + " · ".join(buckets))
    return lines


def channel_embed(report: ChannelReport) -> discord.Embed:
    period = report.period
    embed = _embed(
        "Channel activity",
        f"<#{report.channel_id}> in {period_text(period)}\n{_compared(period)}",
    )
    messages = change_text(report.messages, Kind.COUNT)
    share = report.share_of_messages
    lines = [
        f"Messages: **{figure_text(report.messages, Kind.COUNT)}** {messages}".rstrip(),
        f"Share of the server's messages: **{percent(share) if share is not None else NO_DATA}**",
    ]
    if len(report.daily_messages) <= SPARKLINE_DAYS:
        lines.append(f"Day by day: {sparkline(report.daily_messages)}")
    embed.add_field(name="Activity", value="\n".join(lines), inline=False)
    embed.add_field(name="Questions", value="\n".join(response_lines(report.responses)))
    return embed


def member_embed(report: MemberReport) -> discord.Embed:
    period = report.period
    embed = _embed(
        "Member activity", f"<@{report.user_id}> in {period_text(period)}\n{_compared(period)}"
    )
    lines = [
        f"Messages: **{figure_text(report.messages, Kind.COUNT)}** "
        f"{change_text(report.messages, Kind.COUNT)}".rstrip(),
        f"Active days: **{figure_text(report.active_days, Kind.COUNT)}** "
        f"{change_text(report.active_days, Kind.COUNT)}".rstrip(),
    ]
    if len(report.daily_messages) <= SPARKLINE_DAYS:
        lines.append(f"Day by day: {sparkline(report.daily_messages)}")
    embed.add_field(name="Activity", value="\n".join(lines), inline=False)
    embed.add_field(
        name="Questions",
        value=f"Asked: **{count(report.questions_asked)}**\n"
        f"First responses to others: **{count(report.first_responses)}**",
    )
    return embed


def helper_line(rank: int, helper: Helper, *, tag_staff: bool = False) -> str:
    n = helper.first_responses
    responses = f"{count(n)} first response{'s' if n != 1 else ''}"
    staff = " (staff)" if tag_staff and helper.staff else ""
    median = duration_of(helper.first_response_time.median)
    return f"{rank}. <@{helper.user_id}>{staff} · {responses} · median {median}"


def responses_embed(report: ResponsesReport) -> discord.Embed:
    period = report.period
    embed = _embed("Questions and responses", period_text(period))
    embed.add_field(name="All channels", value="\n".join(response_lines(report.overall)),
                    inline=False)  # fmt: skip
    channels = []
    for c in report.by_channel[:LISTED]:
        s = c.stats
        rate = (
            f"{percent(s.response_rate)} within 24 h"
            if s.response_rate is not None and s.response_rate_cases >= MIN_CASES
            else "24 h rate: too little data"
        )
        channels.append(
            f"<#{c.channel_id}> · {count(s.questions)} questions · "
            f"median {duration_of(s.first_response_time.median)} · {rate}"
        )
    if len(report.by_channel) > LISTED:
        channels.append(f"…and {len(report.by_channel) - LISTED} more channels")
    embed.add_field(name="By channel", value=capped(channels, "No questions yet."), inline=False)
    responders = [
        helper_line(i, h, tag_staff=True) for i, h in enumerate(report.by_responder[:LISTED], 1)
    ]
    embed.add_field(name="By responder", value=capped(responders), inline=False)
    return embed


def helpers_embed(report: HelpersReport) -> discord.Embed:
    embed = _embed(
        "Top helpers",
        f"{period_text(report.period)}\nMost first responses to other members' questions; "
        "staff and community ranked apart.",
    )
    embed.add_field(
        name="Community",
        value=capped([helper_line(i, h) for i, h in enumerate(report.community, 1)]),
        inline=False,
    )
    embed.add_field(
        name="Staff",
        value=capped([helper_line(i, h) for i, h in enumerate(report.staff, 1)]),
        inline=False,
    )
    return embed


def retention_embed(report: RetentionReport, timezone: str, week_start: int) -> discord.Embed:
    joined = sum(c.size for c in report.cohorts)
    weeks = len(report.cohorts)
    embed = _embed(
        "Member retention by join week",
        f"The members who joined in each of the last {weeks} full weeks, and the share of them "
        f"who posted in each week after (weeks start on {WEEKDAYS[week_start]}, {timezone}).",
    )
    week_1 = report.week_1_retention
    embed.add_field(name="Joined", value=f"**{count(joined)}** in {weeks} weeks")
    embed.add_field(
        name="Week-1 retention",
        value=f"**{percent(week_1)}** (newest cohort with a full week 1)"
        if week_1 is not None
        else NO_DATA,
    )
    return embed


def week_order(peak: PeakHours, week_start: int) -> tuple[list[list[int]], list[str]]:
    """The grid's rows and names in the guild's week order (the grid is Monday first)."""
    order = [(week_start + i) % 7 for i in range(7)]
    return [list(peak.grid[d]) for d in order], [WEEKDAYS[d] for d in order]


def heatmap_embed(peak: PeakHours) -> discord.Embed:
    period = peak.period
    embed = _embed(
        "Busiest hours",
        f"Counted messages by weekday and hour, {days_text(period)} (the last four full "
        f"weeks), in {period.timezone}.",
    )
    lines = [
        f"{WEEKDAYS[s.weekday]} {s.hour:02d}:00–{(s.hour + 1) % 24:02d}:00 · "
        f"{count(s.messages)} messages"
        for s in peak.busiest
    ]
    embed.add_field(name="Busiest three", value=capped(lines, "No messages yet."))
    return embed


def at_risk_embed(report: AtRiskReport) -> discord.Embed:
    embed = _embed(
        "Members at risk",
        f"As of {day_text(report.today)} ({report.week.timezone}). **Went quiet**: active in 3 "
        "or more of the 4 weeks before the last 14 days, silent in those 14 days. **Came "
        "back**: active this week after 4 or more quiet weeks.",
    )
    quiet = [
        f"<@{m.user_id}> · active {m.active_weeks} of 4 weeks, {count(m.messages)} messages"
        + (f", last on {day_text(m.last_active, year=False)}" if m.last_active else "")
        for m in report.went_quiet
    ]
    back = [
        f"<@{r.user_id}> · back after {r.inactive_weeks} weeks, {count(r.messages)} messages"
        for r in report.came_back
    ]
    embed.add_field(name=f"Went quiet ({len(quiet)})", value=capped(quiet, "Nobody."),
                    inline=False)  # fmt: skip
    embed.add_field(name=f"Came back ({len(back)})", value=capped(back, "Nobody."),
                    inline=False)  # fmt: skip
    return embed


# --- charts -------------------------------------------------------------------------------------


async def chart_file(
    embed: discord.Embed, name: str, draw: Callable[..., bytes], *args: Any
) -> discord.File:
    """Draw a chart in a worker thread and show it as the embed's image."""
    png = await charts.render(draw, *args)
    embed.set_image(url=f"attachment://{name}")
    return discord.File(io.BytesIO(png), filename=name)


def activity_title(period: Period) -> str:
    label = period.label
    if label == f"{period.first_day.isoformat()}..{period.last_day.isoformat()}":
        label = days_text(period)
    return f"Activity, {label}"


async def activity_file(
    embed: discord.Embed,
    period: Period,
    days: Sequence[date],
    messages: Sequence[int],
    active_members: Sequence[int],
) -> discord.File:
    return await chart_file(
        embed, "activity.png", charts.activity_chart, list(days), list(messages),
        list(active_members), period.timezone, activity_title(period),
    )  # fmt: skip


async def response_time_file(
    embed: discord.Embed,
    starts: Sequence[date],
    median_minutes: Sequence[float | None],
    p90_minutes: Sequence[float | None],
    target_minutes: int,
    timezone: str,
) -> discord.File:
    return await chart_file(
        embed, "response-times.png", charts.response_time_chart, list(starts),
        list(median_minutes), list(p90_minutes), target_minutes, timezone,
    )  # fmt: skip


async def retention_file(
    embed: discord.Embed, report: RetentionReport, timezone: str
) -> discord.File:
    cohorts = report.cohorts
    return await chart_file(
        embed, "retention.png", charts.cohort_heatmap, [c.week_start for c in cohorts],
        [c.size for c in cohorts], [list(c.retention) for c in cohorts], timezone,
    )  # fmt: skip


async def heatmap_file(embed: discord.Embed, peak: PeakHours, week_start: int) -> discord.File:
    grid, names = week_order(peak, week_start)
    return await chart_file(
        embed, "heatmap.png", charts.peak_hours_heatmap, grid, names, peak.period.timezone
    )
