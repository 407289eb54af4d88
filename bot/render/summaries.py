"""Weekly summaries as Discord embeds with charts: one for the community, one for moderators."""

from __future__ import annotations

import io
from dataclasses import dataclass

import discord

from bot.domain.inbox import describe_wait
from bot.domain.metrics_base import Change
from bot.domain.periods import Period
from bot.domain.summaries import Summary, SummaryKind
from bot.render import charts
from bot.render.figures import WEEKDAYS, Kind, change_text, figure_text
from bot.render.inbox import jump_url
from bot.render.names import Names

PUBLIC_COLOUR = discord.Colour.from_rgb(88, 101, 242)
STAFF_COLOUR = discord.Colour.from_rgb(250, 166, 26)


@dataclass(frozen=True, slots=True)
class RenderedSummary:
    embed: discord.Embed
    files: tuple[tuple[str, bytes], ...]
    """Chart attachments as (file name, PNG); the embed's image points at the first."""

    def discord_files(self) -> list[discord.File]:
        return [discord.File(io.BytesIO(png), filename=name) for name, png in self.files]


def with_change(change: Change, kind: Kind) -> str:
    """ "1,204 (+12% vs the week before)", "84% (−3 pp vs the week before)", "too little data"."""
    text = figure_text(change, kind)
    delta = change_text(change, kind, arrows=False)
    return f"{text} ({delta} vs the week before)" if delta else text


def count_text(change: Change) -> str:
    return with_change(change, Kind.COUNT)


def rate_text(change: Change) -> str:
    return with_change(change, Kind.SHARE)


def duration_text(change: Change) -> str:
    return with_change(change, Kind.DURATION)


def number(change: Change) -> str:
    return figure_text(change, Kind.COUNT)


def versus(change: Change) -> str:
    """The change of a count, as " (+12% vs the week before)"; empty with nothing to compare."""
    delta = change_text(change, Kind.COUNT, arrows=False)
    return f" ({delta} vs the week before)" if delta else ""


def period_text(period: Period) -> str:
    return f"{period.first_day:%a %d %b} – {period.last_day:%a %d %b %Y} ({period.timezone})"


def _newcomers(summary: Summary) -> str:
    """The first 7 days of the week before's joiners (this week's are still under way), and the
    latest week-1 retention of the cohort table."""
    lines = []
    if summary.newcomers is not None:
        joined = summary.newcomers.period
        lines += [
            f"Joined {joined.first_day:%d %b} – {joined.last_day:%d %b}:",
            f"Activation: {rate_text(summary.newcomers.activation_rate)}",
            f"Fast churn: {rate_text(summary.newcomers.fast_churn_rate)}",
        ]
    retention = summary.retention.week_1_retention if summary.retention else None
    shown = f"{retention * 100:.0f}%" if retention is not None else "n/a"
    lines.append(f"Week-1 retention: {shown}")
    return "\n".join(lines)


def whole_lines(lines: list[str], total: int, more: str, limit: int = 1024) -> str:
    """As many whole lines as fit in an embed field (a cut link would show as raw Markdown),
    then ``more`` with how many of ``total`` were left out."""
    kept: list[str] = []
    for line in lines:
        left_out = total - len(kept) - 1
        tail = f"\n{more.format(left_out)}" if left_out > 0 else ""
        if len("\n".join([*kept, line])) + len(tail) > limit:
            break
        kept.append(line)
    if total > len(kept):
        kept.append(more.format(total - len(kept)))
    return "\n".join(kept)


async def render(summary: Summary, names: Names) -> RenderedSummary:
    if summary.kind is SummaryKind.PUBLIC:
        return await _public(summary, names)
    return await _staff(summary, names)


async def _activity_png(summary: Summary) -> bytes:
    return await charts.render(
        charts.activity_chart,
        summary.days,
        summary.daily_messages,
        summary.daily_active,
        summary.timezone,
        "Messages and active members per day",
    )


async def _public(summary: Summary, names: Names) -> RenderedSummary:
    o = summary.overview
    embed = discord.Embed(
        title=f"This week in {names.guild_name}",
        description=(
            f"**{number(o.messages)}** messages from **{number(o.active_members)}** members"
            f"{versus(o.messages)}.\n{period_text(summary.period)}"
        ),
        colour=PUBLIC_COLOUR,
    )
    channels = [f"{names.channel(c.id)} · {c.messages:,}" for c in o.top_channels[:3]]
    embed.add_field(name="Busiest channels", value="\n".join(channels) or "—", inline=True)
    helpers = [h.user_id for h in (*summary.helpers.community, *summary.helpers.staff)]
    thanks = f"Thank you {names.members(helpers, 5)} for answering questions!" if helpers else "—"
    embed.add_field(name="Top helpers", value=thanks, inline=True)
    joins = o.joins.current or 0
    welcome = f"Welcome to the {joins:,.0f} members who joined!" if joins else "—"
    embed.add_field(name="New members", value=welcome, inline=False)
    if summary.milestones:
        reached = ", ".join(f"{m:,}" for m in summary.milestones)
        embed.add_field(name="Milestone", value=f"We passed {reached} members! 🎉", inline=False)
    if summary.peak_hours is not None and summary.peak_hours.busiest:
        slots = [f"{WEEKDAYS[s.weekday]} {s.hour:02d}:00" for s in summary.peak_hours.busiest]
        embed.add_field(
            name="Busiest hours (last 4 weeks)",
            value=", ".join(slots) + f" ({summary.timezone})",
            inline=False,
        )
    png = await _activity_png(summary)
    embed.set_image(url="attachment://activity.png")
    embed.set_footer(text="engagebot weekly summary")
    return RenderedSummary(embed, (("activity.png", png),))


async def _staff(summary: Summary, names: Names) -> RenderedSummary:
    o = summary.overview
    embed = discord.Embed(
        title=f"Moderators' week in {names.guild_name}",
        description=period_text(summary.period),
        colour=STAFF_COLOUR,
    )
    embed.add_field(
        name="Questions",
        value=(
            f"Asked: {count_text(o.questions)}\n"
            f"Response rate (24 h): {rate_text(o.response_rate)}\n"
            f"Within target ({summary.target_minutes} min): {rate_text(o.within_target_rate)}"
        ),
        inline=False,
    )
    embed.add_field(
        name="First response",
        value=(
            f"Median: {duration_text(o.first_response_time_median)}\n"
            f"90th percentile: {duration_text(o.first_response_time_p90)}\n"
            f"Staff median: {duration_text(o.staff_first_response_time_median)}"
        ),
        inline=True,
    )
    embed.add_field(name="Newcomers", value=_newcomers(summary), inline=True)
    embed.add_field(
        name="Members",
        value=(
            f"Joined: {count_text(o.joins)}\n"
            f"Left: {count_text(o.leaves)}\n"
            f"Churn: {rate_text(o.churn_rate)}"
        ),
        inline=False,
    )
    if summary.backlog:
        lines = [
            f"[{describe_wait(summary.period.end - i.question.asked_at)} old]({jump_url(i)}) "
            f"{names.channel(i.question.thread_id or i.question.channel_id)}"
            for i in summary.backlog
        ]
        embed.add_field(
            name=f"Unanswered backlog ({summary.backlog_total})",
            value=whole_lines(lines, summary.backlog_total, "…and {} more (`/inbox list`)"),
            inline=False,
        )
    else:
        embed.add_field(name="Unanswered backlog", value="Nothing waiting. 🎉", inline=False)
    quiet = [m.user_id for m in summary.at_risk.went_quiet] if summary.at_risk else []
    embed.add_field(
        name=f"Went quiet ({len(quiet)})",
        value=names.members(quiet, 10) if quiet else "Nobody.",
        inline=False,
    )
    files: list[tuple[str, bytes]] = [("activity.png", await _activity_png(summary))]
    if summary.retention is not None and summary.retention.cohorts:
        cohorts = summary.retention.cohorts
        png = await charts.render(
            charts.cohort_heatmap,
            [c.week_start for c in cohorts],
            [c.size for c in cohorts],
            [list(c.retention) for c in cohorts],
            summary.timezone,
        )
        files.insert(0, ("retention.png", png))
    embed.set_image(url=f"attachment://{files[0][0]}")
    embed.set_footer(text="engagebot weekly summary for moderators")
    return RenderedSummary(embed, tuple(files))
