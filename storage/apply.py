"""How a batch of events becomes rows: idempotent inserts, ordered updates, rollups.

Everything here runs inside one transaction that the caller owns. Replaying any event, or a whole
batch, leaves the database as it was: inserts are ``ON CONFLICT DO NOTHING`` keyed by Discord
snowflakes, and rollups are only incremented for rows that were actually new (``RETURNING``).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, and_, bindparam, delete, func, or_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.records import (
    ChannelDeleted,
    ChannelKind,
    ChannelRecord,
    ContentExpiry,
    Event,
    GuildRecord,
    MemberEvent,
    MemberForget,
    MemberRecord,
    MessageDelete,
    MessageEdit,
    MessageRecord,
    ReactionAdd,
    ReactionClear,
    ReactionRemove,
)
from bot.domain.snowflakes import snowflake_at
from storage import tables as t

UTC_ZONE = ZoneInfo("UTC")

_MESSAGES: Table = t.Message.__table__  # type: ignore[assignment]
_MENTIONS: Table = t.MentionRow.__table__  # type: ignore[assignment]
_REACTIONS: Table = t.ReactionRow.__table__  # type: ignore[assignment]
_CHANNELS: Table = t.Channel.__table__  # type: ignore[assignment]
_GUILDS: Table = t.Guild.__table__  # type: ignore[assignment]
_MEMBERS: Table = t.Member.__table__  # type: ignore[assignment]
_MEMBER_EVENTS: Table = t.MemberEventRow.__table__  # type: ignore[assignment]
_TOMBSTONES: Table = t.DeletedMessage.__table__  # type: ignore[assignment]
_EARLY_EDITS: Table = t.EarlyEdit.__table__  # type: ignore[assignment]
_GUILD_DAYS: Table = t.GuildDay.__table__  # type: ignore[assignment]
_MEMBER_DAYS: Table = t.MemberDay.__table__  # type: ignore[assignment]
_CHANNEL_DAYS: Table = t.ChannelDay.__table__  # type: ignore[assignment]
_GUILD_HOURS: Table = t.GuildHour.__table__  # type: ignore[assignment]


def dialect_insert(conn: AsyncConnection, table: Table) -> Any:
    """``INSERT`` with the dialect's ``ON CONFLICT`` support (same API on both databases)."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


@functools.cache
def _insert_new(dialect: str, table: Table, returning: str | None = None) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` (optionally returning a key), built once."""
    stmt = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    stmt = stmt.on_conflict_do_nothing()
    return stmt.returning(table.c[returning]) if returning else stmt


@functools.cache
def _upsert_adding(
    dialect: str, table: Table, keys: tuple[str, ...], counters: tuple[str, ...]
) -> Any:
    """``INSERT ... ON CONFLICT DO UPDATE SET n = n + excluded.n``, built once."""
    stmt = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    return stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: table.c[name] + stmt.excluded[name] for name in counters},
    )


@dataclass
class BatchResult:
    messages_new: int = 0
    messages_seen: int = 0
    reactions_new: int = 0
    events: int = 0
    contents_erased: int = 0


@dataclass
class _Rollup:
    guild_days: dict[tuple[int, date], list[int]] = field(
        default_factory=lambda: defaultdict(lambda: [0, 0, 0, 0, 0, 0])
    )
    member_days: dict[tuple[int, date, int], int] = field(default_factory=lambda: defaultdict(int))
    channel_days: dict[tuple[int, date, int], int] = field(default_factory=lambda: defaultdict(int))
    guild_hours: dict[tuple[int, int], int] = field(default_factory=lambda: defaultdict(int))
    new_threads: dict[int, ChannelRecord] = field(default_factory=dict)


# Positions in a guild_days counter list.
_MESSAGES_I, _TOP_I, _REPLIES_I, _THREADS_I, _FORWARDS_I, _REACTIONS_I = range(6)
_STARTED_THREAD_KINDS = [
    k.value for k in ChannelKind if k.is_thread and k is not ChannelKind.FORUM_POST
]
_GUILD_DAY_COLUMNS = (
    "messages",
    "top_level",
    "replies",
    "threads_started",
    "forwards",
    "reactions_received",
)


class BatchApplier:
    """Applies events in an order that makes the end state independent of arrival order."""

    def __init__(self, timezones: dict[int, ZoneInfo], default_zone: ZoneInfo = UTC_ZONE) -> None:
        self.timezones = timezones
        self.default_zone = default_zone

    def local_day(self, guild_id: int, moment: datetime) -> date:
        return moment.astimezone(self.timezones.get(guild_id, self.default_zone)).date()

    async def apply(self, conn: AsyncConnection, events: Sequence[Event]) -> BatchResult:
        result = BatchResult(events=len(events))
        buckets: dict[type, list[Any]] = defaultdict(list)
        for event in events:
            buckets[type(event)].append(event)
        rollup = _Rollup()
        if buckets[GuildRecord]:
            await self._guilds(conn, buckets[GuildRecord])
        if buckets[ChannelRecord] or buckets[ChannelDeleted]:
            await self._channels(conn, buckets[ChannelRecord], buckets[ChannelDeleted], rollup)
        if buckets[MemberRecord] or buckets[MemberEvent]:
            await self._members(conn, buckets[MemberRecord], buckets[MemberEvent])
        new_messages: list[MessageRecord] = []
        if buckets[MessageRecord]:
            new_messages = await self._messages(conn, buckets[MessageRecord], rollup, result)
        if rollup.new_threads or new_messages:
            await self._count_started_threads(conn, new_messages, rollup)
        # Deletes first: an edit never touches a deleted message, whatever the batching.
        if buckets[MessageDelete]:
            await self._deletes(conn, buckets[MessageDelete])
        if buckets[MessageEdit]:
            await self._edits(conn, buckets[MessageEdit])
        reaction_ops = buckets[ReactionAdd] + buckets[ReactionRemove] + buckets[ReactionClear]
        if reaction_ops:
            ordered = [
                e for e in events if isinstance(e, ReactionAdd | ReactionRemove | ReactionClear)
            ]
            await self._reactions(conn, ordered, rollup, result)
        await self._write_rollups(conn, rollup)
        for forget in buckets[MemberForget]:
            await forget_member(conn, forget)
        for expiry in buckets[ContentExpiry]:
            result.contents_erased += await erase_old_content(conn, expiry)
        return result

    async def _guilds(self, conn: AsyncConnection, records: list[GuildRecord]) -> None:
        rows = {r.guild_id: r for r in records}
        stmt = dialect_insert(conn, _GUILDS)
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
        rollup: _Rollup,
    ) -> None:
        if records:
            latest = {r.channel_id: r for r in records}
            await self._note_new_threads(conn, latest, rollup)
            stmt = dialect_insert(conn, _CHANNELS)
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
        if deletions:
            await conn.execute(
                update(_CHANNELS)
                .where(_CHANNELS.c.id == bindparam("cid"))
                .values(deleted_at=bindparam("at")),
                [{"cid": d.channel_id, "at": d.deleted_at} for d in deletions],
            )

    async def _note_new_threads(
        self, conn: AsyncConnection, latest: dict[int, ChannelRecord], rollup: _Rollup
    ) -> None:
        """Threads (not forum posts) seen for the first time; counted once their message is."""
        threads = {
            cid: r
            for cid, r in latest.items()
            if r.kind.is_thread and r.kind is not ChannelKind.FORUM_POST
        }
        if not threads:
            return
        known = await conn.execute(select(_CHANNELS.c.id).where(_CHANNELS.c.id.in_(threads)))
        for (cid,) in known:
            del threads[cid]
        rollup.new_threads.update(threads)

    async def _count_started_threads(
        self, conn: AsyncConnection, new_messages: list[MessageRecord], rollup: _Rollup
    ) -> None:
        """Amplification counts threads started from a message: the thread shares its id.

        A thread is counted in the batch where both it and its counted message are first
        stored, whichever of the two came first.
        """
        started: dict[int, tuple[int, datetime]] = {}
        if rollup.new_threads:
            found = await conn.execute(
                select(_MESSAGES.c.id, _MESSAGES.c.guild_id, _MESSAGES.c.created_at).where(
                    _MESSAGES.c.id.in_(rollup.new_threads), _MESSAGES.c.counted
                )
            )
            started.update({mid: (gid, at) for mid, gid, at in found})
        counted = {
            r.message_id: r
            for r in new_messages
            if r.counted and r.message_id not in rollup.new_threads
        }
        if counted:
            earlier = await conn.execute(
                select(_CHANNELS.c.id).where(
                    _CHANNELS.c.id.in_(counted), _CHANNELS.c.kind.in_(_STARTED_THREAD_KINDS)
                )
            )
            for (cid,) in earlier:
                started[cid] = (counted[cid].guild_id, counted[cid].created_at)
        for guild_id, at in started.values():
            rollup.guild_days[(guild_id, self.local_day(guild_id, at))][_THREADS_I] += 1

    async def _members(
        self, conn: AsyncConnection, records: list[MemberRecord], events: list[MemberEvent]
    ) -> None:
        if records:
            latest = {(r.guild_id, r.user_id): r for r in records}
            stmt = dialect_insert(conn, _MEMBERS)
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
        stmt = dialect_insert(conn, _MEMBER_EVENTS).on_conflict_do_nothing()
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
        ev = _MEMBER_EVENTS.c
        times = await conn.execute(
            select(ev.kind, func.max(ev.at))
            .where(ev.guild_id == guild_id, ev.user_id == user_id)
            .where(ev.kind.in_(["join", "leave", "ban"]))
            .group_by(ev.kind)
        )
        latest = dict(times.all())
        members = _MEMBERS.c
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
        stmt = dialect_insert(conn, _MEMBERS)
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

    async def _messages(
        self,
        conn: AsyncConnection,
        records: list[MessageRecord],
        rollup: _Rollup,
        result: BatchResult,
    ) -> list[MessageRecord]:
        """Insert new messages; returns those that were not stored before."""
        unique = {r.message_id: r for r in records}
        result.messages_seen += len(unique)
        stmt = _insert_new(conn.dialect.name, _MESSAGES, "id")
        inserted = await conn.execute(stmt, [_message_row(r) for r in unique.values()])
        new_ids = [row[0] for row in inserted]
        if not new_ids:
            return []
        result.messages_new += len(new_ids)
        new = [unique[i] for i in new_ids]
        mention_rows = [row for r in new for row in _mention_rows(r)]
        if mention_rows:
            await conn.execute(_insert_new(conn.dialect.name, _MENTIONS), mention_rows)
        # Key ranges, not long IN lists: the batch's ids are close together.
        fresh = set(new_ids)
        tombstoned = await conn.execute(
            select(_TOMBSTONES.c.message_id, _TOMBSTONES.c.deleted_at).where(
                _TOMBSTONES.c.message_id.between(min(fresh), max(fresh))
            )
        )
        tombstones = [(mid, at) for mid, at in tombstoned if mid in fresh]
        if tombstones:
            await conn.execute(
                update(_MESSAGES)
                .where(_MESSAGES.c.id == bindparam("mid"))
                .values(deleted_at=bindparam("at"), content=None),
                [{"mid": mid, "at": at} for mid, at in tombstones],
            )
        await self._apply_early_edits(conn, fresh)
        await self._advance_newest(conn, new)
        counted = [r for r in new if r.counted]
        for r in counted:
            self._count_message(r, rollup)
        if counted:
            await self._count_earlier_reactions(conn, counted, rollup)
        return new

    async def _apply_early_edits(self, conn: AsyncConnection, fresh: set[int]) -> None:
        """Edits that arrived before their message (replays out of order) apply now."""
        early = _EARLY_EDITS.c
        found = await conn.execute(
            select(early.message_id, early.edited_at, early.content).where(
                early.message_id.between(min(fresh), max(fresh))
            )
        )
        edits = [MessageEdit(mid, 0, at, text) for mid, at, text in found if mid in fresh]
        if edits:
            await self._edits(conn, edits)
            await conn.execute(
                delete(_EARLY_EDITS).where(early.message_id.in_([e.message_id for e in edits]))
            )

    async def _count_earlier_reactions(
        self, conn: AsyncConnection, counted: list[MessageRecord], rollup: _Rollup
    ) -> None:
        """Reactions stored before their message (live reactions, history read later) count now."""
        by_id = {r.message_id: r for r in counted}
        found = await conn.execute(
            select(_REACTIONS.c.message_id, _REACTIONS.c.user_id).where(
                _REACTIONS.c.message_id.between(min(by_id), max(by_id)),
                _REACTIONS.c.is_bot.is_(False),
            )
        )
        for message_id, user_id in found:
            message = by_id.get(message_id)
            if message is None:
                continue
            if user_id != message.author_id:
                day = self.local_day(message.guild_id, message.created_at)
                rollup.guild_days[(message.guild_id, day)][_REACTIONS_I] += 1

    def _count_message(self, r: MessageRecord, rollup: _Rollup) -> None:
        day = self.local_day(r.guild_id, r.created_at)
        counters = rollup.guild_days[(r.guild_id, day)]
        counters[_MESSAGES_I] += 1
        if r.is_reply:
            counters[_REPLIES_I] += 1
        else:
            counters[_TOP_I] += 1
        if r.is_forward:
            counters[_FORWARDS_I] += 1
        rollup.member_days[(r.guild_id, day, r.author_id)] += 1
        rollup.channel_days[(r.guild_id, day, r.channel_id)] += 1
        hour = int(r.created_at.timestamp()) // 3600
        rollup.guild_hours[(r.guild_id, hour)] += 1

    async def _advance_newest(self, conn: AsyncConnection, new: list[MessageRecord]) -> None:
        newest: dict[int, int] = {}
        for r in new:
            where = r.thread_id if r.thread_id is not None else r.channel_id
            if newest.get(where, 0) < r.message_id:
                newest[where] = r.message_id
        channels = _CHANNELS.c
        await conn.execute(
            update(_CHANNELS)
            .where(channels.id == bindparam("cid"))
            .where(
                or_(
                    channels.newest_message_id.is_(None),
                    channels.newest_message_id < bindparam("mid"),
                )
            )
            .values(newest_message_id=bindparam("mid")),
            [{"cid": cid, "mid": mid} for cid, mid in newest.items()],
        )

    async def _edits(self, conn: AsyncConnection, edits: list[MessageEdit]) -> None:
        latest: dict[int, MessageEdit] = {}
        for e in edits:
            if e.message_id not in latest or latest[e.message_id].edited_at <= e.edited_at:
                latest[e.message_id] = e
        messages = _MESSAGES.c
        stored = await conn.execute(select(messages.id).where(messages.id.in_(latest)))
        known = {mid for (mid,) in stored}
        if known:
            await conn.execute(
                update(_MESSAGES)
                .where(messages.id == bindparam("mid"), messages.deleted_at.is_(None))
                .where(or_(messages.edited_at.is_(None), messages.edited_at <= bindparam("at")))
                .values(edited_at=bindparam("at"), content=bindparam("text")),
                [
                    {"mid": e.message_id, "at": e.edited_at, "text": _storable(e.content)}
                    for e in latest.values()
                    if e.message_id in known
                ],
            )
        early = [e for e in latest.values() if e.message_id not in known]
        if early:
            # The message is not stored yet: keep the newest edit until it is.
            stmt = dialect_insert(conn, _EARLY_EDITS)
            stmt = stmt.on_conflict_do_update(
                index_elements=["message_id"],
                set_={"edited_at": stmt.excluded.edited_at, "content": stmt.excluded.content},
                where=_EARLY_EDITS.c.edited_at < stmt.excluded.edited_at,
            )
            await conn.execute(
                stmt,
                [
                    {
                        "message_id": e.message_id,
                        "guild_id": e.guild_id,
                        "edited_at": e.edited_at,
                        "content": _storable(e.content),
                    }
                    for e in early
                ],
            )

    async def _deletes(self, conn: AsyncConnection, deletes: list[MessageDelete]) -> None:
        """The earliest report of a deletion wins, whatever order the reports arrive in."""
        first: dict[int, MessageDelete] = {}
        for d in deletes:
            if d.message_id not in first or first[d.message_id].deleted_at > d.deleted_at:
                first[d.message_id] = d
        stmt = dialect_insert(conn, _TOMBSTONES)
        stmt = stmt.on_conflict_do_update(
            index_elements=["message_id"],
            set_={"deleted_at": stmt.excluded.deleted_at},
            where=_TOMBSTONES.c.deleted_at > stmt.excluded.deleted_at,
        )
        await conn.execute(
            stmt,
            [
                {"message_id": d.message_id, "guild_id": d.guild_id, "deleted_at": d.deleted_at}
                for d in first.values()
            ],
        )
        messages = _MESSAGES.c
        await conn.execute(
            update(_MESSAGES)
            .where(messages.id == bindparam("mid"))
            .where(or_(messages.deleted_at.is_(None), messages.deleted_at > bindparam("at")))
            .values(deleted_at=bindparam("at"), content=None),
            [{"mid": d.message_id, "at": d.deleted_at} for d in first.values()],
        )

    async def _reactions(
        self,
        conn: AsyncConnection,
        ops: list[ReactionAdd | ReactionRemove | ReactionClear],
        rollup: _Rollup,
        result: BatchResult,
    ) -> None:
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
            cond = _REACTIONS.c.message_id == clear.message_id
            if clear.emoji is not None:
                cond = and_(cond, _REACTIONS.c.emoji == clear.emoji)
            gone = await conn.execute(
                delete(_REACTIONS)
                .where(cond)
                .returning(
                    _REACTIONS.c.message_id,
                    _REACTIONS.c.user_id,
                    _REACTIONS.c.emoji,
                    _REACTIONS.c.is_bot,
                )
            )
            removed.extend(tuple(row) for row in gone)
        to_remove = [key for key, op in state.items() if op is None]
        if to_remove:
            gone = await conn.execute(
                delete(_REACTIONS)
                .where(
                    tuple_(_REACTIONS.c.message_id, _REACTIONS.c.user_id, _REACTIONS.c.emoji).in_(
                        to_remove
                    )
                )
                .returning(
                    _REACTIONS.c.message_id,
                    _REACTIONS.c.user_id,
                    _REACTIONS.c.emoji,
                    _REACTIONS.c.is_bot,
                )
            )
            removed.extend(tuple(row) for row in gone)
        adds = [op for op in state.values() if op is not None]
        added: list[tuple[int, int, str, bool]] = []
        if adds:
            stmt = (
                dialect_insert(conn, _REACTIONS)
                .on_conflict_do_nothing()
                .returning(
                    _REACTIONS.c.message_id,
                    _REACTIONS.c.user_id,
                    _REACTIONS.c.emoji,
                    _REACTIONS.c.is_bot,
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
            result.reactions_new += len(added)
        await self._count_applause(conn, added, removed, rollup)

    async def _count_applause(
        self,
        conn: AsyncConnection,
        added: list[tuple[int, int, str, bool]],
        removed: list[tuple[int, int, str, bool]],
        rollup: _Rollup,
    ) -> None:
        """Reactions received by counted messages, not by bots, not by the message's author."""
        message_ids = {row[0] for row in added} | {row[0] for row in removed}
        if not message_ids:
            return
        found = await conn.execute(
            select(
                _MESSAGES.c.id, _MESSAGES.c.guild_id, _MESSAGES.c.author_id, _MESSAGES.c.created_at
            ).where(_MESSAGES.c.id.in_(message_ids), _MESSAGES.c.counted.is_(True))
        )
        authors = {mid: (gid, author, created) for mid, gid, author, created in found}
        for rows, sign in ((added, 1), (removed, -1)):
            for message_id, user_id, _emoji, is_bot in rows:
                target = authors.get(message_id)
                if target is None or is_bot or target[1] == user_id:
                    continue
                day = self.local_day(target[0], target[2])
                rollup.guild_days[(target[0], day)][_REACTIONS_I] += sign

    async def _write_rollups(self, conn: AsyncConnection, rollup: _Rollup) -> None:
        if rollup.guild_days:
            rows = []
            for (guild_id, day), counters in rollup.guild_days.items():
                row: dict[str, Any] = {"guild_id": guild_id, "day": day}
                row.update(zip(_GUILD_DAY_COLUMNS, counters, strict=True))
                rows.append(row)
            await _upsert_add(conn, _GUILD_DAYS, ["guild_id", "day"], _GUILD_DAY_COLUMNS, rows)
        if rollup.member_days:
            await _upsert_add(
                conn,
                _MEMBER_DAYS,
                ["guild_id", "day", "user_id"],
                ("messages",),
                [
                    {"guild_id": g, "day": d, "user_id": u, "messages": n}
                    for (g, d, u), n in rollup.member_days.items()
                ],
            )
        if rollup.channel_days:
            await _upsert_add(
                conn,
                _CHANNEL_DAYS,
                ["guild_id", "day", "channel_id"],
                ("messages",),
                [
                    {"guild_id": g, "day": d, "channel_id": c, "messages": n}
                    for (g, d, c), n in rollup.channel_days.items()
                ],
            )
        if rollup.guild_hours:
            await _upsert_add(
                conn,
                _GUILD_HOURS,
                ["guild_id", "hour"],
                ("messages",),
                [
                    {"guild_id": g, "hour": datetime.fromtimestamp(h * 3600, tz=UTC), "messages": n}
                    for (g, h), n in rollup.guild_hours.items()
                ],
            )


async def _upsert_add(
    conn: AsyncConnection,
    table: Table,
    keys: list[str],
    counters: Iterable[str],
    rows: list[dict[str, Any]],
) -> None:
    stmt = _upsert_adding(conn.dialect.name, table, tuple(keys), tuple(counters))
    await conn.execute(stmt, rows)


def _message_row(r: MessageRecord) -> dict[str, Any]:
    return {
        "id": r.message_id,
        "guild_id": r.guild_id,
        "channel_id": r.channel_id,
        "thread_id": r.thread_id,
        "author_id": r.author_id,
        "created_at": r.created_at,
        "edited_at": r.edited_at,
        "deleted_at": None,
        "reply_to_id": r.reply_to_id,
        "is_bot": r.is_bot,
        "is_webhook": r.is_webhook,
        "is_system": r.is_system,
        "counted": r.counted,
        "is_forward": r.is_forward,
        "is_thread_starter": r.is_thread_starter,
        "mention_users": min(len(r.mention_user_ids), 32767),
        "mention_roles": min(len(r.mention_role_ids), 32767),
        "mentions_everyone": r.mentions_everyone,
        "mentions_bot": r.mentions_bot,
        "content": _storable(r.content),
    }


def _storable(text: str | None) -> str | None:
    """PostgreSQL text cannot hold NUL characters; they carry no meaning in a message."""
    return text.replace("\x00", "") if text is not None and "\x00" in text else text


def _mention_rows(r: MessageRecord) -> list[dict[str, Any]]:
    rows = [
        {"message_id": r.message_id, "kind": "user", "target_id": uid, "guild_id": r.guild_id}
        for uid in set(r.mention_user_ids)
    ]
    rows.extend(
        {"message_id": r.message_id, "kind": "role", "target_id": rid, "guild_id": r.guild_id}
        for rid in set(r.mention_role_ids)
    )
    if r.mentions_everyone:
        rows.append(
            {"message_id": r.message_id, "kind": "everyone", "target_id": 0, "guild_id": r.guild_id}
        )
    return rows


async def forget_member(conn: AsyncConnection, forget: MemberForget) -> None:
    """Erase a member's messages, reactions, mentions of them and their per-day activity.

    Anonymous totals (guild_days, channel_days, guild_hours) keep their counts: they hold no
    personal data and the community's history stays true.
    """
    g, u = forget.guild_id, forget.user_id
    m = _MESSAGES.c
    message_ids = select(m.id).where(m.guild_id == g, m.author_id == u).scalar_subquery()
    await conn.execute(delete(_MENTIONS).where(_MENTIONS.c.message_id.in_(message_ids)))
    await conn.execute(delete(_REACTIONS).where(_REACTIONS.c.message_id.in_(message_ids)))
    questions: Table = t.Question.__table__  # type: ignore[assignment]
    await conn.execute(
        delete(questions).where(questions.c.guild_id == g, questions.c.asker_id == u)
    )
    await conn.execute(delete(_MESSAGES).where(m.guild_id == g, m.author_id == u))
    await conn.execute(
        delete(_REACTIONS).where(_REACTIONS.c.guild_id == g, _REACTIONS.c.user_id == u)
    )
    await conn.execute(
        delete(_MENTIONS).where(
            _MENTIONS.c.guild_id == g, _MENTIONS.c.kind == "user", _MENTIONS.c.target_id == u
        )
    )
    await conn.execute(
        delete(_MEMBER_DAYS).where(_MEMBER_DAYS.c.guild_id == g, _MEMBER_DAYS.c.user_id == u)
    )
    await conn.execute(
        delete(_MEMBER_EVENTS).where(_MEMBER_EVENTS.c.guild_id == g, _MEMBER_EVENTS.c.user_id == u)
    )
    members = _MEMBERS.c
    if forget.opt_out:
        ins = dialect_insert(conn, _MEMBERS)
        ins = ins.on_conflict_do_update(
            index_elements=["guild_id", "user_id"],
            set_={"opted_out_at": forget.at, "joined_at": None, "left_at": None},
        )
        await conn.execute(
            ins, {"guild_id": g, "user_id": u, "opted_out_at": forget.at, "is_bot": False}
        )
    else:
        await conn.execute(delete(_MEMBERS).where(members.guild_id == g, members.user_id == u))


async def erase_old_content(conn: AsyncConnection, expiry: ContentExpiry) -> int:
    """Message text older than the retention window is erased; ids and times stay."""
    result = await conn.execute(
        update(_MESSAGES)
        .where(_MESSAGES.c.id < snowflake_at(expiry.before), _MESSAGES.c.content.is_not(None))
        .values(content=None)
    )
    await conn.execute(
        delete(_EARLY_EDITS).where(_EARLY_EDITS.c.message_id < snowflake_at(expiry.before))
    )
    return int(result.rowcount or 0)
