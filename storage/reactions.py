"""Reactions: one row per (message, user, emoji), and the applause they add up to."""

from __future__ import annotations

from sqlalchemy import and_, delete, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.records import (
    MessageRecord,
    ReactionAdd,
    ReactionClear,
    ReactionRemove,
)
from storage.rollups import REACTIONS_I, LocalDays, Rollup
from storage.statements import (
    MESSAGES,
    REACTIONS,
    dialect_insert,
)


class ReactionApplier(LocalDays):
    async def _count_earlier_reactions(
        self, conn: AsyncConnection, counted: list[MessageRecord], rollup: Rollup
    ) -> None:
        """Reactions stored before their message (live reactions, history read later) count now."""
        by_id = {r.message_id: r for r in counted}
        found = await conn.execute(
            select(REACTIONS.c.message_id, REACTIONS.c.user_id).where(
                REACTIONS.c.message_id.between(min(by_id), max(by_id)),
                REACTIONS.c.is_bot.is_(False),
            )
        )
        for message_id, user_id in found:
            message = by_id.get(message_id)
            if message is None:
                continue
            if user_id != message.author_id:
                day = self.local_day(message.guild_id, message.created_at)
                rollup.guild_days[(message.guild_id, day)][REACTIONS_I] += 1

    async def _reactions(
        self,
        conn: AsyncConnection,
        ops: list[ReactionAdd | ReactionRemove | ReactionClear],
        rollup: Rollup,
    ) -> int:
        """Applies reaction changes; returns how many reactions were new."""
        # Within a batch the last operation on a (message, user, emoji) wins; a clear is applied
        # in order with the others, so add-clear-add leaves one reaction.
        state: dict[tuple[int, int, str], ReactionAdd | None] = {}
        clears: list[ReactionClear] = []
        for op in ops:
            if isinstance(op, ReactionAdd):
                state[(op.message_id, op.user_id, op.emoji)] = op
            elif isinstance(op, ReactionRemove):
                state[(op.message_id, op.user_id, op.emoji)] = None
            else:
                clears.append(op)
                for key in [k for k in state if k[0] == op.message_id]:
                    if op.emoji is None or key[2] == op.emoji:
                        del state[key]
        removed: list[tuple[int, int, str, bool]] = []
        for clear in clears:
            cond = REACTIONS.c.message_id == clear.message_id
            if clear.emoji is not None:
                cond = and_(cond, REACTIONS.c.emoji == clear.emoji)
            gone = await conn.execute(
                delete(REACTIONS)
                .where(cond)
                .returning(
                    REACTIONS.c.message_id,
                    REACTIONS.c.user_id,
                    REACTIONS.c.emoji,
                    REACTIONS.c.is_bot,
                )
            )
            removed.extend(tuple(row) for row in gone)
        to_remove = [key for key, op in state.items() if op is None]
        if to_remove:
            gone = await conn.execute(
                delete(REACTIONS)
                .where(
                    tuple_(REACTIONS.c.message_id, REACTIONS.c.user_id, REACTIONS.c.emoji).in_(
                        to_remove
                    )
                )
                .returning(
                    REACTIONS.c.message_id,
                    REACTIONS.c.user_id,
                    REACTIONS.c.emoji,
                    REACTIONS.c.is_bot,
                )
            )
            removed.extend(tuple(row) for row in gone)
        adds = [op for op in state.values() if op is not None]
        added: list[tuple[int, int, str, bool]] = []
        if adds:
            stmt = (
                dialect_insert(conn, REACTIONS)
                .on_conflict_do_nothing()
                .returning(
                    REACTIONS.c.message_id,
                    REACTIONS.c.user_id,
                    REACTIONS.c.emoji,
                    REACTIONS.c.is_bot,
                )
            )
            inserted = await conn.execute(
                stmt,
                [
                    {
                        "message_id": a.message_id,
                        "user_id": a.user_id,
                        "emoji": a.emoji[:64],
                        "guild_id": a.guild_id,
                        "channel_id": a.channel_id,
                        "is_bot": a.user_is_bot,
                        "created_at": a.at,
                    }
                    for a in adds
                ],
            )
            added = [tuple(row) for row in inserted]
        await self._count_applause(conn, added, removed, rollup)
        return len(added)

    async def _count_applause(
        self,
        conn: AsyncConnection,
        added: list[tuple[int, int, str, bool]],
        removed: list[tuple[int, int, str, bool]],
        rollup: Rollup,
    ) -> None:
        """Reactions received by counted messages, not by bots, not by the message's author."""
        message_ids = {row[0] for row in added} | {row[0] for row in removed}
        if not message_ids:
            return
        found = await conn.execute(
            select(
                MESSAGES.c.id, MESSAGES.c.guild_id, MESSAGES.c.author_id, MESSAGES.c.created_at
            ).where(MESSAGES.c.id.in_(message_ids), MESSAGES.c.counted.is_(True))
        )
        authors = {mid: (gid, author, created) for mid, gid, author, created in found}
        for rows, sign in ((added, 1), (removed, -1)):
            for message_id, user_id, _emoji, is_bot in rows:
                target = authors.get(message_id)
                if target is None or is_bot or target[1] == user_id:
                    continue
                day = self.local_day(target[0], target[2])
                rollup.guild_days[(target[0], day)][REACTIONS_I] += sign
