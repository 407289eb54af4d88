"""Guilds, channels, threads and membership: the community's shape, applied per batch."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.records import (
    ChannelDeleted,
    ChannelKind,
    ChannelRecord,
    GuildRecord,
    MemberEvent,
    MemberRecord,
    MessageRecord,
)
from storage.rollups import THREADS_I, LocalDays, Rollup
from storage.statements import (
    CHANNELS,
    GUILDS,
    MEMBER_EVENTS,
    MEMBERS,
    MESSAGES,
    dialect_insert,
)

_STARTED_THREAD_KINDS = [
    k.value for k in ChannelKind if k.is_thread and k is not ChannelKind.FORUM_POST
]


class StructureApplier(LocalDays):
    async def _guilds(self, conn: AsyncConnection, records: list[GuildRecord]) -> None:
        rows = {r.guild_id: r for r in records}
        stmt = dialect_insert(conn, GUILDS)
        stmt = stmt.on_conflict_do_update(
            index_elements=["id"],
            set_={"name": stmt.excluded.name, "left_at": stmt.excluded.left_at},
        )
        await conn.execute(
            stmt,
            [
                {
                    "id": r.guild_id,
                    "name": r.name[:100],
                    "first_seen_at": r.seen_at,
                    "left_at": r.left_at,
                }
                for r in rows.values()
            ],
        )

    async def _channels(
        self,
        conn: AsyncConnection,
        records: list[ChannelRecord],
        deletions: list[ChannelDeleted],
        rollup: Rollup,
    ) -> None:
        if records:
            latest = {r.channel_id: r for r in records}
            await self._note_new_threads(conn, latest, rollup)
            stmt = dialect_insert(conn, CHANNELS)
            excluded = stmt.excluded
            stmt = stmt.on_conflict_do_update(
                index_elements=["id"],
                set_={
                    "name": excluded.name,
                    "kind": excluded.kind,
                    "parent_id": excluded.parent_id,
                    "position": excluded.position,
                    "archived": excluded.archived,
                    "owner_id": excluded.owner_id,
                    "tags": excluded.tags,
                },
            )
            await conn.execute(
                stmt,
                [
                    {
                        "id": r.channel_id,
                        "guild_id": r.guild_id,
                        "parent_id": r.parent_id,
                        "kind": r.kind.value,
                        "name": r.name[:100],
                        "position": r.position,
                        "created_at": r.created_at,
                        "archived": r.archived,
                        "owner_id": r.owner_id,
                        "tags": "\n".join(r.tags) if r.tags else None,
                    }
                    for r in latest.values()
                ],
            )
            await _unname_opted_out_owners(conn, [r for r in latest.values() if r.owner_id])
        if deletions:
            await conn.execute(
                update(CHANNELS)
                .where(CHANNELS.c.id == bindparam("cid"))
                .values(deleted_at=bindparam("at")),
                [{"cid": d.channel_id, "at": d.deleted_at} for d in deletions],
            )

    async def _note_new_threads(
        self, conn: AsyncConnection, latest: dict[int, ChannelRecord], rollup: Rollup
    ) -> None:
        """Threads (not forum posts) seen for the first time; counted once their message is."""
        threads = {
            cid: r
            for cid, r in latest.items()
            if r.kind.is_thread and r.kind is not ChannelKind.FORUM_POST
        }
        if not threads:
            return
        known = await conn.execute(select(CHANNELS.c.id).where(CHANNELS.c.id.in_(threads)))
        for (cid,) in known:
            del threads[cid]
        rollup.new_threads.update(threads)

    async def _count_started_threads(
        self, conn: AsyncConnection, new_messages: list[MessageRecord], rollup: Rollup
    ) -> None:
        """Amplification counts threads started from a message: the thread shares its id.

        A thread is counted in the batch where both it and its counted message are first
        stored, whichever of the two came first.
        """
        started: dict[int, tuple[int, datetime]] = {}
        if rollup.new_threads:
            found = await conn.execute(
                select(MESSAGES.c.id, MESSAGES.c.guild_id, MESSAGES.c.created_at).where(
                    MESSAGES.c.id.in_(rollup.new_threads), MESSAGES.c.counted
                )
            )
            started.update({mid: (gid, at) for mid, gid, at in found})
        counted = {
            r.message_id: r
            for r in new_messages
            if r.counted and r.message_id not in rollup.new_threads
        }
        if counted:
            # A key range, not an IN list of every new message: channel ids are snowflakes too,
            # so few channels fall between the batch's first and last message.
            earlier = await conn.execute(
                select(CHANNELS.c.id).where(
                    CHANNELS.c.id.between(min(counted), max(counted)),
                    CHANNELS.c.kind.in_(_STARTED_THREAD_KINDS),
                )
            )
            for (cid,) in earlier:
                if cid in counted:
                    started[cid] = (counted[cid].guild_id, counted[cid].created_at)
        for guild_id, at in started.values():
            rollup.guild_days[(guild_id, self.local_day(guild_id, at))][THREADS_I] += 1

    async def _members(
        self, conn: AsyncConnection, records: list[MemberRecord], events: list[MemberEvent]
    ) -> None:
        if records:
            latest = {(r.guild_id, r.user_id): r for r in records}
            stmt = dialect_insert(conn, MEMBERS)
            stmt = stmt.on_conflict_do_update(
                index_elements=["guild_id", "user_id"],
                set_={
                    "is_bot": stmt.excluded.is_bot,
                    "is_staff": stmt.excluded.is_staff,
                    "joined_at": stmt.excluded.joined_at,
                },
            )
            await conn.execute(
                stmt,
                [
                    {
                        "guild_id": r.guild_id,
                        "user_id": r.user_id,
                        "is_bot": r.is_bot,
                        "is_staff": r.is_staff,
                        "joined_at": r.joined_at,
                    }
                    for r in latest.values()
                ],
            )
        if not events:
            return
        stmt = dialect_insert(conn, MEMBER_EVENTS).on_conflict_do_nothing()
        await conn.execute(
            stmt,
            [
                {"guild_id": e.guild_id, "user_id": e.user_id, "kind": e.kind.value, "at": e.at}
                for e in events
            ],
        )
        # Membership follows the newest join and leave, whatever order they arrived in.
        for guild_id, user_id in {(e.guild_id, e.user_id) for e in events}:
            await self._settle_membership(conn, guild_id, user_id, events)

    async def _settle_membership(
        self, conn: AsyncConnection, guild_id: int, user_id: int, events: list[MemberEvent]
    ) -> None:
        ev = MEMBER_EVENTS.c
        times = await conn.execute(
            select(ev.kind, func.max(ev.at))
            .where(ev.guild_id == guild_id, ev.user_id == user_id)
            .where(ev.kind.in_(["join", "leave", "ban"]))
            .group_by(ev.kind)
        )
        latest = dict(times.all())
        members = MEMBERS.c
        current = (
            await conn.execute(
                select(members.joined_at).where(
                    members.guild_id == guild_id, members.user_id == user_id
                )
            )
        ).one_or_none()
        joins = [at for at in (latest.get("join"), current[0] if current else None) if at]
        joined_at = max(joins) if joins else None
        leaves = [at for at in (latest.get("leave"), latest.get("ban")) if at]
        left_at = max(leaves) if leaves else None
        if left_at is not None and joined_at is not None and left_at < joined_at:
            left_at = None
        is_bot = any(e.is_bot for e in events if e.user_id == user_id and e.guild_id == guild_id)
        stmt = dialect_insert(conn, MEMBERS)
        stmt = stmt.on_conflict_do_update(
            index_elements=["guild_id", "user_id"],
            set_={"joined_at": stmt.excluded.joined_at, "left_at": stmt.excluded.left_at},
        )
        await conn.execute(
            stmt,
            {
                "guild_id": guild_id,
                "user_id": user_id,
                "is_bot": is_bot,
                "joined_at": joined_at,
                "left_at": left_at,
            },
        )


async def _unname_opted_out_owners(conn: AsyncConnection, owned: list[ChannelRecord]) -> None:
    """A member who opted out is not named as a thread's owner, whoever recorded the thread
    (the bot, before it knew the guild's settings, or an import)."""
    if not owned:
        return
    members = MEMBERS.c
    opted_out = select(members.user_id).where(
        members.guild_id == CHANNELS.c.guild_id, members.opted_out_at.is_not(None)
    )
    await conn.execute(
        update(CHANNELS)
        .where(CHANNELS.c.id.in_([r.channel_id for r in owned]))
        .where(CHANNELS.c.owner_id.in_(opted_out))
        .values(owner_id=None)
    )
