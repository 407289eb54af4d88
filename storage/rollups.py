"""Rollups: a batch's counts summed in memory, then added to the rollup tables at once."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.records import ChannelRecord
from storage.statements import (
    CHANNEL_DAYS,
    GUILD_DAYS,
    GUILD_HOURS,
    MEMBER_DAYS,
    execute_many,
    upsert_adding,
)

UTC_ZONE = ZoneInfo("UTC")


class LocalDays:
    """Day rollups are kept in each guild's own time zone."""

    def __init__(self, timezones: dict[int, ZoneInfo], default_zone: ZoneInfo = UTC_ZONE) -> None:
        self.timezones = timezones
        self.default_zone = default_zone

    def local_day(self, guild_id: int, moment: datetime) -> date:
        return moment.astimezone(self.timezones.get(guild_id, self.default_zone)).date()


@dataclass
class Rollup:
    """A batch's contributions to the rollup tables, summed in memory first."""

    guild_days: dict[tuple[int, date], list[int]] = field(
        default_factory=lambda: defaultdict(lambda: [0, 0, 0, 0, 0, 0])
    )
    member_days: dict[tuple[int, date, int], int] = field(default_factory=lambda: defaultdict(int))
    channel_days: dict[tuple[int, date, int], int] = field(default_factory=lambda: defaultdict(int))
    guild_hours: dict[tuple[int, int], int] = field(default_factory=lambda: defaultdict(int))
    new_threads: dict[int, ChannelRecord] = field(default_factory=dict)


# Positions in a guild_days counter list.
MESSAGES_I, TOP_I, REPLIES_I, THREADS_I, FORWARDS_I, REACTIONS_I = range(6)
GUILD_DAY_COLUMNS = (
    "messages",
    "top_level",
    "replies",
    "threads_started",
    "forwards",
    "reactions_received",
)


async def write_rollups(conn: AsyncConnection, rollup: Rollup) -> None:
    """Add a batch's counts to the rollup tables (insert, or add on conflict)."""
    if rollup.guild_days:
        rows = []
        for (guild_id, day), counters in rollup.guild_days.items():
            row: dict[str, Any] = {"guild_id": guild_id, "day": day}
            row.update(zip(GUILD_DAY_COLUMNS, counters, strict=True))
            rows.append(row)
        await upsert_add(conn, GUILD_DAYS, ["guild_id", "day"], GUILD_DAY_COLUMNS, rows)
    if rollup.member_days:
        await upsert_add(
            conn,
            MEMBER_DAYS,
            ["guild_id", "day", "user_id"],
            ("messages",),
            [
                {"guild_id": g, "day": d, "user_id": u, "messages": n}
                for (g, d, u), n in rollup.member_days.items()
            ],
        )
    if rollup.channel_days:
        await upsert_add(
            conn,
            CHANNEL_DAYS,
            ["guild_id", "day", "channel_id"],
            ("messages",),
            [
                {"guild_id": g, "day": d, "channel_id": c, "messages": n}
                for (g, d, c), n in rollup.channel_days.items()
            ],
        )
    if rollup.guild_hours:
        await upsert_add(
            conn,
            GUILD_HOURS,
            ["guild_id", "hour"],
            ("messages",),
            [
                {"guild_id": g, "hour": datetime.fromtimestamp(h * 3600, tz=UTC), "messages": n}
                for (g, h), n in rollup.guild_hours.items()
            ],
        )


async def upsert_add(
    conn: AsyncConnection,
    table: Table,
    keys: list[str],
    counters: Iterable[str],
    rows: list[dict[str, Any]],
) -> None:
    stmt = upsert_adding(conn.dialect.name, table, tuple(keys), tuple(counters))
    await execute_many(conn, stmt, rows)
