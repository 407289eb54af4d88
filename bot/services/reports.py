"""ReportService: the tables behind exports and the day-by-day series behind the charts.

``/stats`` and ``engagebot report`` take their figures from :class:`StatsService`; this service
adds what those reports do not carry: per-day series for the activity and response-time charts,
a cheap "is there anything in this period?" check, and the export tables (``engagebot export``
and ``/engage export``), which stream their rows so an export of a long history never sits in
memory whole. Every read is scoped by guild id.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from bot.domain.metrics_base import distribution
from bot.domain.periods import (
    Period,
    local_midnight,
    local_today,
    started_days,
    week_start_of,
    zone_of,
)
from storage import exports
from storage import stats_queries as q
from storage.repositories import GuildRepository

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Row = tuple[object, ...]

WEEKLY_AFTER_DAYS = 31
"""A response-time trend over a longer period is drawn per week (a point per day is noise)."""


class Export(StrEnum):
    MESSAGES = "messages"
    QUESTIONS = "questions"
    MEMBERS = "members"
    DAILY = "daily"

    @property
    def has_content(self) -> bool:
        """Whether the table can carry message text (``--with-content``)."""
        return self in (Export.MESSAGES, Export.QUESTIONS)


DAILY_COLUMNS = (
    "day",
    "messages",
    "top_level_messages",
    "replies",
    "threads_started",
    "forwards",
    "reactions_received",
    "active_members",
    "joins",
    "leaves",
    "questions",
    "answered_questions",
    "first_response_time_median_seconds",
    "first_response_time_p90_seconds",
)
_RESPONSE_AT = exports.QUESTION_COLUMNS.index("first_response_at")
QUESTION_COLUMNS = (
    *exports.QUESTION_COLUMNS[: _RESPONSE_AT + 1],
    "first_response_seconds",
    *exports.QUESTION_COLUMNS[_RESPONSE_AT + 1 :],
)


def export_columns(what: Export, with_content: bool = False) -> tuple[str, ...]:
    """The CSV header of an export."""
    columns = {
        Export.MESSAGES: exports.MESSAGE_COLUMNS,
        Export.QUESTIONS: QUESTION_COLUMNS,
        Export.MEMBERS: exports.MEMBER_COLUMNS,
        Export.DAILY: DAILY_COLUMNS,
    }[what]
    if with_content and what.has_content:
        return (*columns, exports.CONTENT_COLUMN)
    return columns


@dataclass(frozen=True, slots=True)
class DayFigures:
    """One local day of the guild, as the daily export and the activity chart show it."""

    day: date
    messages: int
    top_level_messages: int
    replies: int
    threads_started: int
    forwards: int
    reactions_received: int
    active_members: int
    joins: int
    leaves: int
    questions: int
    """Asked that day (withdrawn questions left out)."""
    answered_questions: int
    first_response_time_median: timedelta | None
    first_response_time_p90: timedelta | None

    def row(self) -> Row:
        def secs(value: timedelta | None) -> float | None:
            return None if value is None else value.total_seconds()

        return (
            self.day, self.messages, self.top_level_messages, self.replies,
            self.threads_started, self.forwards, self.reactions_received, self.active_members,
            self.joins, self.leaves, self.questions, self.answered_questions,
            secs(self.first_response_time_median), secs(self.first_response_time_p90),
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class ResponseTrend:
    """First response time per day (or per week for long periods), in minutes."""

    starts: tuple[date, ...]
    median_minutes: tuple[float | None, ...]
    p90_minutes: tuple[float | None, ...]
    weekly: bool
    target_minutes: int


@dataclass(frozen=True, slots=True)
class ExportTable:
    """An export's header and its rows; the rows hold a database connection until they are
    read to the end or closed (``contextlib.aclosing``)."""

    what: Export
    columns: tuple[str, ...]
    rows: AsyncGenerator[Row, None]


class ReportService:
    def __init__(self, guilds: GuildRepository, clock: Clock) -> None:
        self.guilds = guilds
        self.engine = guilds.engine
        self.clock = clock

    async def known_guild_ids(self) -> list[int]:
        return await self.guilds.known_guild_ids()

    async def counted_messages(self, guild_id: int, period: Period) -> int:
        """Counted messages in the period: whether a report on it has anything to say."""
        async with self.engine.connect() as conn:
            return await exports.counted_messages(conn, guild_id, period.first_day, period.end_day)

    async def daily(self, guild_id: int, period: Period) -> list[DayFigures]:
        """The period's days that have begun, oldest first."""
        days = started_days(period, self.clock())
        if not days:
            return []
        return [d async for d in self._days(guild_id, days[0], days[-1], period.timezone)]

    async def response_times(self, guild_id: int, period: Period) -> ResponseTrend:
        """Median and 90th percentile first response time of the questions asked on each day
        (or in each week) of the period that has begun."""
        settings = await self.guilds.settings(guild_id)
        days = started_days(period, self.clock())
        weekly = period.day_count > WEEKLY_AFTER_DAYS
        if weekly:
            starts = sorted({week_start_of(day, settings.week_start) for day in days})
        else:
            starts = days
        async with self.engine.connect() as conn:
            asked = await q.questions(conn, guild_id, period.start, period.end)
        waits: dict[date, list[timedelta]] = defaultdict(list)
        for question in asked:
            wait = question.first_response_time
            if question.withdrawn or wait is None:
                continue
            day = question.asked_at.astimezone(period.zone).date()
            waits[week_start_of(day, settings.week_start) if weekly else day].append(wait)

        def minutes(value: timedelta | None) -> float | None:
            return None if value is None else round(value.total_seconds() / 60, 1)

        spread = [distribution(waits.get(start, ())) for start in starts]
        return ResponseTrend(
            starts=tuple(starts),
            median_minutes=tuple(minutes(d.median) for d in spread),
            p90_minutes=tuple(minutes(d.p90) for d in spread),
            weekly=weekly,
            target_minutes=settings.response_target_minutes,
        )

    def export(
        self,
        guild_id: int,
        what: Export,
        period: Period | None = None,
        *,
        with_content: bool = False,
    ) -> ExportTable:
        """The rows of one export, for the whole history or for a period."""
        content = with_content and what.has_content
        return ExportTable(
            what, export_columns(what, content), self._rows(guild_id, what, period, content)
        )

    async def _rows(
        self, guild_id: int, what: Export, period: Period | None, with_content: bool
    ) -> AsyncGenerator[Row, None]:
        if what is Export.DAILY:
            async for day in self._daily_export(guild_id, period):
                yield day.row()
            return
        start = period.start if period is not None else None
        end = period.end if period is not None else None
        async with self.engine.connect() as conn:
            if what is Export.MESSAGES:
                async for row in exports.messages(
                    conn, guild_id, start, end, with_content=with_content
                ):
                    yield row
            elif what is Export.QUESTIONS:
                async for row in exports.questions(
                    conn, guild_id, start, end, with_content=with_content
                ):
                    yield _with_wait(row)
            else:
                first = period.first_day if period is not None else None
                end_day = period.end_day if period is not None else None
                async for row in exports.members(conn, guild_id, first, end_day):
                    yield row
        log.info("exported %s of guild %s", what.value, guild_id)

    async def _daily_export(
        self, guild_id: int, period: Period | None
    ) -> AsyncIterator[DayFigures]:
        settings = await self.guilds.settings(guild_id)
        today = local_today(self.clock(), settings.timezone)
        if period is not None:
            first, last = period.first_day, min(period.last_day, today)
        else:
            async with self.engine.connect() as conn:
                found = await exports.first_day(conn, guild_id)
            if found is None:
                return
            first, last = found, today
        async for day in self._days(guild_id, first, last, settings.timezone):
            yield day

    async def _days(
        self, guild_id: int, first: date, last: date, timezone: str
    ) -> AsyncIterator[DayFigures]:
        """Every local day from ``first`` through ``last``, zeros where nothing happened."""
        if last < first:
            return
        end = last + timedelta(days=1)
        zone = zone_of(timezone)
        start_at, end_at = local_midnight(first, zone), local_midnight(end, zone)
        joins: Counter[date] = Counter()
        leaves: Counter[date] = Counter()
        waits: dict[date, list[timedelta]] = defaultdict(list)
        asked: Counter[date] = Counter()
        async with self.engine.connect() as conn:
            totals = {row.day: row for row in await q.guild_days(conn, guild_id, first, end)}
            active = await exports.daily_active(conn, guild_id, first, end)
            async for at, kind in exports.member_moves(conn, guild_id, start_at, end_at):
                day = at.astimezone(zone).date()
                (joins if kind == "join" else leaves)[day] += 1
            async for row in exports.questions(conn, guild_id, start_at, end_at):
                asked_at, responded_at, withdrawn_at = row[1], row[_RESPONSE_AT], row[-1]
                if withdrawn_at is not None:
                    continue
                day = asked_at.astimezone(zone).date()
                asked[day] += 1
                if responded_at is not None:
                    waits[day].append(responded_at - asked_at)
        day = first
        while day < end:
            total = totals.get(day)
            spread = distribution(waits.get(day, ()))
            yield DayFigures(
                day=day,
                messages=total.messages if total else 0,
                top_level_messages=total.top_level if total else 0,
                replies=total.replies if total else 0,
                threads_started=total.threads_started if total else 0,
                forwards=total.forwards if total else 0,
                reactions_received=total.reactions_received if total else 0,
                active_members=active.get(day, 0),
                joins=joins[day],
                leaves=leaves[day],
                questions=asked[day],
                answered_questions=spread.count,
                first_response_time_median=spread.median,
                first_response_time_p90=spread.p90,
            )
            day += timedelta(days=1)


def _with_wait(row: Row) -> Row:
    """A question row with its first response time in seconds after ``first_response_at``."""
    asked_at, responded_at = row[1], row[_RESPONSE_AT]
    wait = None
    if isinstance(asked_at, datetime) and isinstance(responded_at, datetime):
        wait = (responded_at - asked_at).total_seconds()
    return (*row[: _RESPONSE_AT + 1], wait, *row[_RESPONSE_AT + 1 :])
