"""StatsService: the figures of METRICS.md for commands, summaries and offline reports.

Each use case reads rollups only (``storage.stats_queries``: guild, member and channel days,
guild hours, questions, membership) on one connection, turns them into domain rows and lets
the pure functions in ``bot.domain.metrics*`` do the arithmetic. Periods are the guild's own:
its time zone and week start come from its settings, and ``now`` from the injected clock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta

from bot.domain.guilds import GuildSettings
from bot.domain.metrics import (
    TOP,
    ChannelReport,
    MemberReport,
    Overview,
    PeriodFigures,
    build_overview,
    channel_report,
    member_report,
)
from bot.domain.metrics_activity import PeakHours, daily_messages, engagement, peak_hours
from bot.domain.metrics_members import (
    AtRiskReport,
    Growth,
    RetentionReport,
    activation,
    came_back,
    cohort_table,
    cohort_weeks,
    went_quiet,
)
from bot.domain.metrics_questions import (
    HelpersReport,
    ResponsesReport,
    response_stats,
    responses_report,
    top_helpers,
)
from bot.domain.periods import (
    Period,
    last_full_weeks,
    last_week,
    local_days,
    local_midnight,
    local_today,
    parse_period,
    previous,
    started_days,
    this_week,
)
from storage import stats_queries as q
from storage.engine import AsyncEngine
from storage.repositories import GuildRepository

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
PeriodArg = Period | str | None
"""A period, what a moderator typed ("last week", "28d", "2026-03-01..2026-03-31"), or None
for the default (last week)."""
PEAK_WEEKS = 4


class StatsService:
    def __init__(
        self, engine_or_repo: AsyncEngine | GuildRepository, clock: Clock, top: int = TOP
    ) -> None:
        if isinstance(engine_or_repo, GuildRepository):
            self.guilds = engine_or_repo
        else:
            self.guilds = GuildRepository(engine_or_repo)
        self.engine = self.guilds.engine
        self.clock = clock
        self.top = top

    async def resolve(self, guild_id: int, period: PeriodArg) -> tuple[GuildSettings, Period]:
        """The guild's settings and the period in its own time zone (parse errors propagate as
        ``PeriodError``, whose message tells the moderator what to type)."""
        settings = await self.guilds.settings(guild_id)
        now = self.clock()
        if period is None:
            return settings, last_week(now, settings.timezone, settings.week_start)
        if isinstance(period, str):
            return settings, parse_period(period, now, settings.timezone, settings.week_start)
        if period.timezone != settings.timezone:
            raise ValueError(
                f"the period is in {period.timezone} but the guild's days are kept in "
                f"{settings.timezone}; build it with the guild's time zone"
            )
        return settings, period

    async def overview(self, guild_id: int, period: PeriodArg = None) -> Overview:
        _, current = await self.resolve(guild_id, period)
        before = previous(current)
        now = self.clock()
        async with self.engine.connect() as conn:
            figures = await self._figures(conn, guild_id, [before, current], now)
            top_channels = await q.top_channels(conn, guild_id, current, self.top)
            top_members = await q.top_members(conn, guild_id, current, self.top)
        return build_overview(figures[1], figures[0], top_channels, top_members)

    async def daily_activity(
        self, guild_id: int, period: PeriodArg = None
    ) -> tuple[Period, tuple[date, ...], tuple[int, ...], tuple[int, ...]]:
        """Per local day of the period: counted messages and active members (for charts)."""
        _, current = await self.resolve(guild_id, period)
        now = self.clock()
        days = tuple(local_days(current))
        async with self.engine.connect() as conn:
            rows = await q.guild_days(conn, guild_id, current.first_day, current.end_day)
            activity = await q.member_activity(conn, guild_id, current, started_days(current, now))
        messages = daily_messages(rows, current)
        active = activity.daily_active + (0,) * (len(days) - len(activity.daily_active))
        return current, days, messages, active

    async def _figures(
        self, conn: q.Connection, guild_id: int, periods: list[Period], now: datetime
    ) -> list[PeriodFigures]:
        """The figures of consecutive periods, with the queries they share done once."""
        first, last = periods[0], periods[-1]
        days = await q.guild_days(conn, guild_id, first.first_day, last.end_day)
        asked = await q.questions(conn, guild_id, first.start, last.end)
        joined = await q.joiners(conn, guild_id, first.start, last.end)
        moves = await q.joins_and_leaves(conn, guild_id, periods)
        counts = await q.member_counts(conn, guild_id, [p.start for p in periods] + [last.end])
        figures = []
        for i, period in enumerate(periods):
            activity = await q.member_activity(conn, guild_id, period, started_days(period, now))
            joins, leaves = moves[i]
            figures.append(
                PeriodFigures(
                    period=period,
                    engagement=engagement(days, period),
                    activity=activity,
                    responses=response_stats(asked, period, now),
                    growth=Growth(joins, leaves, counts[i], counts[i + 1]),
                    activation=activation(joined, period, now),
                )
            )
        return figures

    async def channel(
        self, guild_id: int, channel_id: int, period: PeriodArg = None
    ) -> ChannelReport:
        _, current = await self.resolve(guild_id, period)
        before = previous(current)
        async with self.engine.connect() as conn:
            channel_rows = await q.channel_days(
                conn, guild_id, before.first_day, current.end_day, channel_id
            )
            day_rows = await q.guild_days(conn, guild_id, current.first_day, current.end_day)
            asked = await q.questions(conn, guild_id, current.start, current.end, channel_id)
        return channel_report(
            channel_id,
            current,
            before,
            self.clock(),
            channel_days=channel_rows,
            guild_days=day_rows,
            questions=asked,
        )

    async def member(self, guild_id: int, user_id: int, period: PeriodArg = None) -> MemberReport:
        _, current = await self.resolve(guild_id, period)
        before = previous(current)
        async with self.engine.connect() as conn:
            rows = await q.member_days(conn, guild_id, before.first_day, current.end_day, user_id)
            asked = await q.questions(conn, guild_id, current.start, current.end)
        return member_report(user_id, current, before, member_days=rows, questions=asked)

    async def responses(self, guild_id: int, period: PeriodArg = None) -> ResponsesReport:
        _, current = await self.resolve(guild_id, period)
        async with self.engine.connect() as conn:
            asked = await q.questions(conn, guild_id, current.start, current.end)
        return responses_report(asked, current, self.clock())

    async def helpers(self, guild_id: int, period: PeriodArg = None) -> HelpersReport:
        _, current = await self.resolve(guild_id, period)
        async with self.engine.connect() as conn:
            asked = await q.questions(conn, guild_id, current.start, current.end)
        return top_helpers(asked, current, n=self.top * 2)

    async def retention(self, guild_id: int, weeks: int = 8) -> RetentionReport:
        """The cohort table of the last ``weeks`` full weeks."""
        settings = await self.guilds.settings(guild_id)
        now, zone = self.clock(), settings.timezone
        starts = cohort_weeks(now, zone, settings.week_start, weeks)
        end_day = starts[-1] + timedelta(days=7)
        async with self.engine.connect() as conn:
            joins, activity = await q.cohort_rows(
                conn,
                guild_id,
                starts[0],
                end_day,
                local_midnight(starts[0], zone),
                local_midnight(end_day, zone),
            )
        return cohort_table(joins, activity, now, zone, settings.week_start, weeks)

    async def peak_hours(self, guild_id: int) -> PeakHours:
        """Counted messages by local weekday x hour over the last four full weeks."""
        settings = await self.guilds.settings(guild_id)
        period = last_full_weeks(self.clock(), settings.timezone, settings.week_start, PEAK_WEEKS)
        async with self.engine.connect() as conn:
            rows = await q.hours(conn, guild_id, period.start, period.end)
        return peak_hours(rows, period)

    async def at_risk(self, guild_id: int, week: PeriodArg = None) -> AtRiskReport:
        """Members who went quiet (as of today) and who came back (this week by default)."""
        now = self.clock()
        if week is None:
            settings = await self.guilds.settings(guild_id)
            week = this_week(now, settings.timezone, settings.week_start)
        else:
            settings, week = await self.resolve(guild_id, week)
        today = local_today(now, settings.timezone)
        async with self.engine.connect() as conn:
            quiet = await q.quiet_candidates(conn, guild_id, today)
            candidates = await q.return_candidates(conn, guild_id, week)
        return AtRiskReport(today, week, went_quiet(quiet), came_back(candidates, week))
