"""The tables as Core objects, and the ON CONFLICT statements the writer uses, built once per
dialect."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import tables as t

MESSAGES: Table = t.Message.__table__  # type: ignore[assignment]
MENTIONS: Table = t.MentionRow.__table__  # type: ignore[assignment]
REACTIONS: Table = t.ReactionRow.__table__  # type: ignore[assignment]
CHANNELS: Table = t.Channel.__table__  # type: ignore[assignment]
GUILDS: Table = t.Guild.__table__  # type: ignore[assignment]
MEMBERS: Table = t.Member.__table__  # type: ignore[assignment]
MEMBER_EVENTS: Table = t.MemberEventRow.__table__  # type: ignore[assignment]
TOMBSTONES: Table = t.DeletedMessage.__table__  # type: ignore[assignment]
EARLY_EDITS: Table = t.EarlyEdit.__table__  # type: ignore[assignment]
GUILD_DAYS: Table = t.GuildDay.__table__  # type: ignore[assignment]
MEMBER_DAYS: Table = t.MemberDay.__table__  # type: ignore[assignment]
CHANNEL_DAYS: Table = t.ChannelDay.__table__  # type: ignore[assignment]
GUILD_HOURS: Table = t.GuildHour.__table__  # type: ignore[assignment]
QUESTIONS: Table = t.Question.__table__  # type: ignore[assignment]
RESPONSES: Table = t.ResponseRow.__table__  # type: ignore[assignment]
INBOX_ITEMS: Table = t.InboxItem.__table__  # type: ignore[assignment]
SUMMARY_RUNS: Table = t.SummaryRun.__table__  # type: ignore[assignment]


def dialect_insert(conn: AsyncConnection, table: Table) -> Any:
    """``INSERT`` with the dialect's ``ON CONFLICT`` support (same API on both databases)."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


@functools.cache
def insert_new(dialect: str, table: Table, returning: str | None = None) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` (optionally returning a key), built once."""
    stmt = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    stmt = stmt.on_conflict_do_nothing()
    return stmt.returning(table.c[returning]) if returning else stmt


@functools.cache
def upsert_adding(
    dialect: str, table: Table, keys: tuple[str, ...], counters: tuple[str, ...]
) -> Any:
    """``INSERT ... ON CONFLICT DO UPDATE SET n = n + excluded.n``, built once."""
    stmt = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    return stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: table.c[name] + stmt.excluded[name] for name in counters},
    )
