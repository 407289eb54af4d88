"""The rows behind ``engagebot export`` and ``/engage export``: streamed, one guild at a time.

Each function yields plain tuples in the order of its ``*_COLUMNS`` constant, reading through a
server-side cursor (``AsyncConnection.stream`` with ``yield_per``), so an export of a long
history holds one batch in memory, never the whole table. Every query filters by guild id; a
time range, when given, bounds messages by snowflake (their ids encode their creation time) and
questions by the ``(guild_id, asked_at)`` index.

Message text is read only when the caller asks for it, and only what the content policy kept is
there to read (erased or never-stored text is NULL).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, func, select, union
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.snowflakes import snowflake_at
from storage.statements import (
    GUILD_DAYS,
    MEMBER_DAYS,
    MEMBER_EVENTS,
    MEMBERS,
    MESSAGES,
    QUESTIONS,
)

BATCH = 1000
"""Rows fetched per round trip."""

Row = tuple[Any, ...]

MESSAGE_COLUMNS = (
    "message_id",
    "created_at",
    "channel_id",
    "thread_id",
    "author_id",
    "reply_to_id",
    "is_thread_starter",
    "is_forward",
    "is_bot",
    "is_webhook",
    "is_system",
    "counted",
    "edited_at",
    "deleted_at",
)
QUESTION_COLUMNS = (
    "question_id",
    "asked_at",
    "channel_id",
    "thread_id",
    "asker_id",
    "source",
    "state",
    "target_minutes",
    "first_response_at",
    "first_responder_id",
    "first_response_by_staff",
    "first_staff_response_at",
    "resolved_at",
    "resolved_by",
    "resolution",
    "withdrawn_at",
)
MEMBER_COLUMNS = (
    "user_id",
    "is_bot",
    "is_staff",
    "joined_at",
    "left_at",
    "messages",
    "active_days",
    "first_active_day",
    "last_active_day",
)
CONTENT_COLUMN = "content"


async def _stream(conn: AsyncConnection, query: Select[Any]) -> AsyncIterator[Row]:
    result = await conn.stream(query.execution_options(yield_per=BATCH))
    async for row in result:
        yield tuple(row)


def _ids_between(
    column: ColumnElement[Any], start: datetime | None, end: datetime | None
) -> list[ColumnElement[bool]]:
    bounds = []
    if start is not None:
        bounds.append(column >= snowflake_at(start))
    if end is not None:
        bounds.append(column < snowflake_at(end))
    return bounds


def messages(
    conn: AsyncConnection,
    guild_id: int,
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    with_content: bool = False,
) -> AsyncIterator[Row]:
    """Stored messages created in ``[start, end)`` (all of them without bounds), oldest first."""
    m = MESSAGES.c
    columns: list[Any] = [m.id, *(m[name] for name in MESSAGE_COLUMNS[1:])]
    if with_content:
        columns.append(m.content)
    query = (
        select(*columns)
        .where(m.guild_id == guild_id, *_ids_between(m.id, start, end))
        .order_by(m.id)
    )
    return _stream(conn, query)


def questions(
    conn: AsyncConnection,
    guild_id: int,
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    with_content: bool = False,
) -> AsyncIterator[Row]:
    """Questions asked in ``[start, end)``, oldest first, with their response fields."""
    q, m = QUESTIONS.c, MESSAGES.c
    columns: list[Any] = [q.message_id, *(q[name] for name in QUESTION_COLUMNS[1:])]
    source: Any = QUESTIONS
    if with_content:
        source = QUESTIONS.outerjoin(MESSAGES, (m.id == q.message_id) & (m.guild_id == guild_id))
        columns.append(m.content)
    query = select(*columns).select_from(source).where(q.guild_id == guild_id)
    if start is not None:
        query = query.where(q.asked_at >= start)
    if end is not None:
        query = query.where(q.asked_at < end)
    return _stream(conn, query.order_by(q.asked_at, q.message_id))


def members(
    conn: AsyncConnection,
    guild_id: int,
    first_day: date | None = None,
    end_day: date | None = None,
) -> AsyncIterator[Row]:
    """Everyone the guild knows (members and former members who posted), with their counted
    messages and active days in ``[first_day, end_day)`` (all history without bounds).
    Members who opted out are left out: their activity is not recorded."""
    d, mem = MEMBER_DAYS.c, MEMBERS.c
    in_days = [d.guild_id == guild_id, d.messages > 0]
    if first_day is not None:
        in_days.append(d.day >= first_day)
    if end_day is not None:
        in_days.append(d.day < end_day)
    activity = (
        select(
            d.user_id.label("user_id"),
            func.sum(d.messages).label("messages"),
            func.count().label("active_days"),
            func.min(d.day).label("first_day"),
            func.max(d.day).label("last_day"),
        )
        .where(*in_days)
        .group_by(d.user_id)
        .subquery()
    )
    everyone = union(
        select(mem.user_id.label("user_id")).where(mem.guild_id == guild_id),
        select(d.user_id.label("user_id")).where(d.guild_id == guild_id),
    ).subquery()
    query = (
        select(
            everyone.c.user_id,
            func.coalesce(mem.is_bot, False),
            func.coalesce(mem.is_staff, False),
            mem.joined_at,
            mem.left_at,
            func.coalesce(activity.c.messages, 0),
            func.coalesce(activity.c.active_days, 0),
            activity.c.first_day,
            activity.c.last_day,
        )
        .select_from(everyone)
        .outerjoin(MEMBERS, (mem.guild_id == guild_id) & (mem.user_id == everyone.c.user_id))
        .outerjoin(activity, activity.c.user_id == everyone.c.user_id)
        .where(mem.opted_out_at.is_(None))
        .order_by(everyone.c.user_id)
    )
    return _stream(conn, query)


async def first_day(conn: AsyncConnection, guild_id: int) -> date | None:
    """The guild's first local day with a counted message, if any."""
    g = GUILD_DAYS.c
    found: date | None = await conn.scalar(
        select(func.min(g.day)).where(g.guild_id == guild_id, g.messages > 0)
    )
    return found


async def counted_messages(conn: AsyncConnection, guild_id: int, first: date, end: date) -> int:
    """Counted messages on the local days ``[first, end)`` (from the guild-day rollup)."""
    g = GUILD_DAYS.c
    found = await conn.scalar(
        select(func.coalesce(func.sum(g.messages), 0)).where(
            g.guild_id == guild_id, g.day >= first, g.day < end
        )
    )
    return int(found or 0)


async def daily_active(
    conn: AsyncConnection, guild_id: int, first: date, end: date
) -> dict[date, int]:
    """Active members on each local day of ``[first, end)`` that had any."""
    d = MEMBER_DAYS.c
    rows = await conn.execute(
        select(d.day, func.count())
        .where(d.guild_id == guild_id, d.day >= first, d.day < end, d.messages > 0)
        .group_by(d.day)
    )
    return {day: int(n) for day, n in rows}


def member_moves(
    conn: AsyncConnection, guild_id: int, start: datetime | None, end: datetime | None
) -> AsyncIterator[Row]:
    """Humans' joins and leaves in ``[start, end)`` as ``(at, kind)``, oldest first."""
    e, mem = MEMBER_EVENTS.c, MEMBERS.c
    bot = exists().where(mem.guild_id == guild_id, mem.user_id == e.user_id, mem.is_bot.is_(True))
    query = select(e.at, e.kind).where(e.guild_id == guild_id, e.kind.in_(("join", "leave")), ~bot)
    if start is not None:
        query = query.where(e.at >= start)
    if end is not None:
        query = query.where(e.at < end)
    return _stream(conn, query.order_by(e.at))
