"""Whole-database snapshots, to compare the states that different event orders leave."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

EVENT_TABLES = (
    "guilds",
    "channels",
    "members",
    "member_events",
    "messages",
    "mentions",
    "reactions",
    "deleted_messages",
    "early_edits",
    "guild_days",
    "member_days",
    "channel_days",
    "guild_hours",
    "questions",
    "responses",
)

State = dict[str, list[tuple[Any, ...]]]


def _plain(value: Any) -> Any:
    """The same value whichever database returned it (SQLite has no bool or date type)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


async def dump(
    engine: AsyncEngine,
    tables: Collection[str] = EVENT_TABLES,
    *,
    without: Mapping[str, Collection[str]] | None = None,
) -> State:
    """Every row of each table, sorted; ``without`` leaves out columns per table."""
    skipped = without or {}
    state = {}
    async with engine.connect() as conn:
        for table in tables:
            result = await conn.execute(text(f"SELECT * FROM {table}"))
            keep = [i for i, c in enumerate(result.keys()) if c not in skipped.get(table, ())]
            rows = [tuple(_plain(row[i]) for i in keep) for row in result.all()]
            state[table] = sorted(rows, key=repr)
    return state


def differences(got: State, expected: State) -> dict[str, dict[str, list[tuple[Any, ...]]]]:
    """Per table: rows only in ``got`` and rows only in ``expected``."""
    found = {}
    for table in expected:
        extra = [r for r in got[table] if r not in expected[table]]
        missing = [r for r in expected[table] if r not in got[table]]
        if extra or missing:
            found[table] = {"extra": extra, "missing": missing}
    return found
