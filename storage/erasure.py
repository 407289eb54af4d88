"""Erasure: a member's data on request, and message text past the retention window."""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.records import ContentExpiry, MemberForget
from bot.domain.snowflakes import snowflake_at
from storage.statements import (
    CHANNELS,
    EARLY_EDITS,
    MEMBER_DAYS,
    MEMBER_EVENTS,
    MEMBERS,
    MENTIONS,
    MESSAGES,
    QUESTIONS,
    REACTIONS,
    RESPONSES,
    dialect_insert,
)


async def forget_member(conn: AsyncConnection, forget: MemberForget) -> None:
    """Erase a member's messages, reactions, mentions of them and their per-day activity, and
    their name on what others did: who first answered or resolved a question, who started a
    thread.

    Anonymous totals (guild_days, channel_days, guild_hours) keep their counts, and questions
    keep when they were answered and resolved: these hold no personal data and the community's
    history stays true.
    """
    g, u = forget.guild_id, forget.user_id
    m = MESSAGES.c
    message_ids = select(m.id).where(m.guild_id == g, m.author_id == u).scalar_subquery()
    await conn.execute(delete(MENTIONS).where(MENTIONS.c.message_id.in_(message_ids)))
    await conn.execute(delete(REACTIONS).where(REACTIONS.c.message_id.in_(message_ids)))
    await conn.execute(
        delete(QUESTIONS).where(QUESTIONS.c.guild_id == g, QUESTIONS.c.asker_id == u)
    )
    await conn.execute(
        delete(RESPONSES).where(RESPONSES.c.guild_id == g, RESPONSES.c.responder_id == u)
    )
    q = QUESTIONS.c
    for named, unnamed in (
        (q.first_responder_id == u, {"first_responder_id": None, "first_response_id": None}),
        (q.first_staff_response_id.in_(message_ids), {"first_staff_response_id": None}),
        (q.resolved_by == u, {"resolved_by": None}),
    ):
        await conn.execute(update(QUESTIONS).where(q.guild_id == g, named).values(unnamed))
    channels = CHANNELS.c
    await conn.execute(
        update(CHANNELS).where(channels.guild_id == g, channels.owner_id == u).values(owner_id=None)
    )
    await conn.execute(delete(MESSAGES).where(m.guild_id == g, m.author_id == u))
    await conn.execute(delete(REACTIONS).where(REACTIONS.c.guild_id == g, REACTIONS.c.user_id == u))
    await conn.execute(
        delete(MENTIONS).where(
            MENTIONS.c.guild_id == g, MENTIONS.c.kind == "user", MENTIONS.c.target_id == u
        )
    )
    await conn.execute(
        delete(MEMBER_DAYS).where(MEMBER_DAYS.c.guild_id == g, MEMBER_DAYS.c.user_id == u)
    )
    await conn.execute(
        delete(MEMBER_EVENTS).where(MEMBER_EVENTS.c.guild_id == g, MEMBER_EVENTS.c.user_id == u)
    )
    members = MEMBERS.c
    if forget.opt_out:
        ins = dialect_insert(conn, MEMBERS)
        ins = ins.on_conflict_do_update(
            index_elements=["guild_id", "user_id"],
            set_={"opted_out_at": forget.at, "joined_at": None, "left_at": None},
        )
        await conn.execute(
            ins, {"guild_id": g, "user_id": u, "opted_out_at": forget.at, "is_bot": False}
        )
    else:
        await conn.execute(delete(MEMBERS).where(members.guild_id == g, members.user_id == u))


async def erase_old_content(conn: AsyncConnection, expiry: ContentExpiry) -> int:
    """Message text older than the retention window is erased; ids and times stay."""
    result = await conn.execute(
        update(MESSAGES)
        .where(MESSAGES.c.id < snowflake_at(expiry.before), MESSAGES.c.content.is_not(None))
        .values(content=None)
    )
    await conn.execute(
        delete(EARLY_EDITS).where(EARLY_EDITS.c.message_id < snowflake_at(expiry.before))
    )
    return int(result.rowcount or 0)
