"""SummaryService: what each weekly summary says, and the claims that post it exactly once.

The cog asks for the summaries due at the bot's clock; each is claimed in the database before it
is composed and posted, so two processes (or a restart) never post the same one twice. A failed
post is recorded and retried with back-off by whoever claims it next; after the last attempt it
is reported once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.guilds import GuildSettings
from bot.domain.inbox import ItemState
from bot.domain.periods import Period, last_week, previous
from bot.domain.summaries import (
    DEFAULT_GRACE,
    DueSummary,
    Schedule,
    Summary,
    SummaryKind,
    due_summaries,
    milestones_crossed,
    skipped_summaries,
)
from bot.services.stats import StatsService
from storage.inbox import InboxRepository
from storage.repositories import GuildRepository
from storage.summaries import SummaryRunRow, SummaryRuns

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
BACKLOG_SHOWN = 10
STALE_CLAIM = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class Claimed:
    run_id: int
    kind: SummaryKind
    due: DueSummary
    attempt: int


def schedule_of(settings: GuildSettings) -> Schedule:
    return Schedule(
        settings.timezone, settings.week_start, settings.summary_day, settings.summary_time
    )


def enabled_kinds(settings: GuildSettings) -> list[SummaryKind]:
    kinds = []
    if settings.public_summary_enabled:
        kinds.append(SummaryKind.PUBLIC)
    if settings.staff_summary_enabled:
        kinds.append(SummaryKind.STAFF)
    return kinds


class SummaryService:
    def __init__(
        self,
        stats: StatsService,
        guilds: GuildRepository,
        runs: SummaryRuns,
        inbox: InboxRepository,
        clock: Clock,
        *,
        process_name: str,
        grace: timedelta = DEFAULT_GRACE,
    ) -> None:
        self.stats = stats
        self.guilds = guilds
        self.runs = runs
        self.inbox = inbox
        self.clock = clock
        self.process_name = process_name
        self.grace = grace

    async def settings(self, guild_id: int) -> GuildSettings:
        return await self.guilds.settings(guild_id)

    async def claim_due(self, guild_id: int) -> list[Claimed]:
        """Claim every summary of this guild that is due now and nobody has posted."""
        settings = await self.guilds.settings(guild_id)
        now = self.clock()
        claimed = []
        schedule = schedule_of(settings)
        for due in due_summaries(schedule, now, self.grace):
            for kind in enabled_kinds(settings):
                run_id = await self.runs.claim(
                    guild_id,
                    kind,
                    due.period.start,
                    due.period.end,
                    self.process_name,
                    now,
                    stale_after=STALE_CLAIM,
                )
                if run_id is not None:
                    run = await self.runs.run(run_id)
                    attempt = run.attempts if run is not None else 1
                    claimed.append(Claimed(run_id, kind, due, attempt))
        return claimed

    async def log_skipped(self, guild_id: int) -> list[DueSummary]:
        """Summaries whose moment passed beyond the grace window while the bot was away."""
        settings = await self.guilds.settings(guild_id)
        now = self.clock()
        skipped = skipped_summaries(schedule_of(settings), now, self.grace, timedelta(days=28))
        runs = await self.runs.runs(guild_id)
        if not any(r.state == "posted" for r in runs):
            return []  # never posted here yet: nothing was missed, the guild is new to us
        known = {r.period_start for r in runs}
        missed = [s for s in skipped if s.period.start not in known]
        for summary in missed:
            log.warning(
                "guild %s: the summary of %s was due at %s, more than %s ago; skipped",
                guild_id,
                summary.period.label,
                summary.scheduled_at.isoformat(),
                self.grace,
            )
        return missed

    async def compose(
        self, guild_id: int, kind: SummaryKind, period: Period | None = None
    ) -> Summary:
        """The summary of ``period`` (default: the last full week), read from the rollups."""
        settings = await self.guilds.settings(guild_id)
        if period is None:
            period = last_week(self.clock(), settings.timezone, settings.week_start)
        overview = await self.stats.overview(guild_id, period)
        _, days, messages, active = await self.stats.daily_activity(guild_id, period)
        helpers = await self.stats.helpers(guild_id, period)
        common = {
            "kind": kind,
            "guild_id": guild_id,
            "period": period,
            "timezone": settings.timezone,
            "target_minutes": settings.response_target_minutes,
            "overview": overview,
            "days": days,
            "daily_messages": messages,
            "daily_active": active,
            "helpers": helpers,
        }
        if kind is SummaryKind.PUBLIC:
            count = overview.member_count
            return Summary(
                **common,  # type: ignore[arg-type]
                peak_hours=await self.stats.peak_hours(guild_id),
                milestones=milestones_crossed(count.previous, count.current),
            )
        backlog, total = await self.inbox.list_items(
            guild_id,
            [ItemState.OPEN, ItemState.CLAIMED, ItemState.SNOOZED],
            None,
            0,
            BACKLOG_SHOWN,
        )
        return Summary(
            **common,  # type: ignore[arg-type]
            retention=await self.stats.retention(guild_id),
            at_risk=await self.stats.at_risk(guild_id),
            backlog=tuple(backlog),
            backlog_total=total,
            newcomers=await self.stats.overview(guild_id, previous(period)),
        )

    async def posted(self, claimed: Claimed, channel_id: int, message_id: int) -> None:
        await self.runs.posted(claimed.run_id, channel_id, message_id, self.clock())
        log.info("posted the %s summary (run %s)", claimed.kind.value, claimed.run_id)

    async def failed(self, claimed: Claimed, error: str) -> SummaryRunRow:
        run = await self.runs.failed(claimed.run_id, error, self.clock())
        log.warning(
            "the %s summary (run %s) failed, attempt %s: %s",
            claimed.kind.value,
            claimed.run_id,
            run.attempts,
            error,
        )
        return run

    async def runs_of(self, guild_id: int) -> Sequence[SummaryRunRow]:
        return await self.runs.runs(guild_id)
