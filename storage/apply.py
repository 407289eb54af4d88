"""How a batch of events becomes rows: idempotent inserts, ordered updates, rollups.

Everything here runs inside one transaction that the caller owns. Replaying any event, or a whole
batch, leaves the database as it was: inserts are ``ON CONFLICT DO NOTHING`` keyed by Discord
snowflakes, and rollups are only incremented for rows that were actually new (``RETURNING``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.records import (
    ChannelDeleted,
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
    QuestionAsked,
    QuestionResolved,
    ReactionAdd,
    ReactionClear,
    ReactionRemove,
)
from storage.erasure import erase_old_content, forget_member
from storage.questions import QuestionApplier
from storage.reactions import ReactionApplier
from storage.rollups import (
    FORWARDS_I,
    MESSAGES_I,
    REPLIES_I,
    TOP_I,
    Rollup,
    write_rollups,
)
from storage.statements import (
    CHANNELS,
    EARLY_EDITS,
    MENTIONS,
    MESSAGES,
    TOMBSTONES,
    dialect_insert,
    insert_new,
)
from storage.structure import StructureApplier
from storage.tables import to_millis


@dataclass
class BatchResult:
    messages_new: int = 0
    messages_seen: int = 0
    reactions_new: int = 0
    events: int = 0
    contents_erased: int = 0


class BatchApplier(StructureApplier, ReactionApplier, QuestionApplier):
    """Applies events in an order that makes the end state independent of arrival order."""

    async def apply(self, conn: AsyncConnection, events: Sequence[Event]) -> BatchResult:
        result = BatchResult(events=len(events))
        buckets: dict[type, list[Any]] = defaultdict(list)
        for event in events:
            buckets[type(event)].append(event)
        rollup = Rollup()
        if buckets[GuildRecord]:
            await self._guilds(conn, buckets[GuildRecord])
        if buckets[ChannelRecord] or buckets[ChannelDeleted]:
            await self._channels(conn, buckets[ChannelRecord], buckets[ChannelDeleted], rollup)
        if buckets[MemberRecord] or buckets[MemberEvent]:
            await self._members(conn, buckets[MemberRecord], buckets[MemberEvent])
        new_messages: list[MessageRecord] = []
        counted_until = await self._stored_counted_until(conn)
        if buckets[MessageRecord]:
            new_messages = await self._messages(conn, buckets[MessageRecord], rollup, result)
            self._counted_stored(new_messages)
        if rollup.new_threads or new_messages:
            await self._count_started_threads(conn, new_messages, rollup)
        if buckets[QuestionAsked]:
            await self._ask(conn, buckets[QuestionAsked], counted_until)
        if new_messages:
            await self._link_new_messages(conn, new_messages)
        # Deletes first: an edit never touches a deleted message, whatever the batching.
        if buckets[MessageDelete]:
            await self._deletes(conn, buckets[MessageDelete])
            await self._withdraw(conn, buckets[MessageDelete])
        if buckets[MessageEdit]:
            await self._edits(conn, buckets[MessageEdit])
        reaction_ops = buckets[ReactionAdd] + buckets[ReactionRemove] + buckets[ReactionClear]
        if reaction_ops:
            ordered = [
                e for e in events if isinstance(e, ReactionAdd | ReactionRemove | ReactionClear)
            ]
            result.reactions_new += await self._reactions(conn, ordered, rollup)
        if buckets[QuestionResolved]:
            await self._resolve(conn, buckets[QuestionResolved])
        await write_rollups(conn, rollup)
        for forget in buckets[MemberForget]:
            await forget_member(conn, forget)
            self.forget_links()
        for expiry in buckets[ContentExpiry]:
            result.contents_erased += await erase_old_content(conn, expiry)
        return result

    async def _messages(
        self,
        conn: AsyncConnection,
        records: list[MessageRecord],
        rollup: Rollup,
        result: BatchResult,
    ) -> list[MessageRecord]:
        """Insert new messages; returns those that were not stored before."""
        unique = {r.message_id: r for r in records}
        result.messages_seen += len(unique)
        if conn.dialect.name == "sqlite":
            new = await _insert_sqlite(conn, unique)
        else:
            stmt = insert_new(conn.dialect.name, MESSAGES, "id")
            inserted = await conn.execute(stmt, [_message_row(r) for r in unique.values()])
            new = [unique[row[0]] for row in inserted]
            mention_rows = [
                dict(zip(_MENTION_COLUMNS, row, strict=True))
                for r in new
                for row in _mention_values(r)
            ]
            if mention_rows:
                await conn.execute(insert_new(conn.dialect.name, MENTIONS), mention_rows)
        if not new:
            return []
        new_ids = [r.message_id for r in new]
        result.messages_new += len(new_ids)
        # Key ranges, not long IN lists: the batch's ids are close together.
        fresh = set(new_ids)
        tombstoned = await conn.execute(
            select(TOMBSTONES.c.message_id, TOMBSTONES.c.deleted_at).where(
                TOMBSTONES.c.message_id.between(min(fresh), max(fresh))
            )
        )
        tombstones = [(mid, at) for mid, at in tombstoned if mid in fresh]
        if tombstones:
            await conn.execute(
                update(MESSAGES)
                .where(MESSAGES.c.id == bindparam("mid"))
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
        early = EARLY_EDITS.c
        found = await conn.execute(
            select(early.message_id, early.edited_at, early.content).where(
                early.message_id.between(min(fresh), max(fresh))
            )
        )
        edits = [MessageEdit(mid, 0, at, text) for mid, at, text in found if mid in fresh]
        if edits:
            await self._edits(conn, edits)
            await conn.execute(
                delete(EARLY_EDITS).where(early.message_id.in_([e.message_id for e in edits]))
            )

    def _count_message(self, r: MessageRecord, rollup: Rollup) -> None:
        day = self.local_day(r.guild_id, r.created_at)
        counters = rollup.guild_days[(r.guild_id, day)]
        counters[MESSAGES_I] += 1
        if r.is_reply:
            counters[REPLIES_I] += 1
        else:
            counters[TOP_I] += 1
        if r.is_forward:
            counters[FORWARDS_I] += 1
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
        channels = CHANNELS.c
        await conn.execute(
            update(CHANNELS)
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
        messages = MESSAGES.c
        stored = await conn.execute(select(messages.id).where(messages.id.in_(latest)))
        known = {mid for (mid,) in stored}
        if known:
            await conn.execute(
                update(MESSAGES)
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
            stmt = dialect_insert(conn, EARLY_EDITS)
            stmt = stmt.on_conflict_do_update(
                index_elements=["message_id"],
                set_={"edited_at": stmt.excluded.edited_at, "content": stmt.excluded.content},
                where=EARLY_EDITS.c.edited_at < stmt.excluded.edited_at,
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
        stmt = dialect_insert(conn, TOMBSTONES)
        stmt = stmt.on_conflict_do_update(
            index_elements=["message_id"],
            set_={"deleted_at": stmt.excluded.deleted_at},
            where=TOMBSTONES.c.deleted_at > stmt.excluded.deleted_at,
        )
        await conn.execute(
            stmt,
            [
                {"message_id": d.message_id, "guild_id": d.guild_id, "deleted_at": d.deleted_at}
                for d in first.values()
            ],
        )
        messages = MESSAGES.c
        await conn.execute(
            update(MESSAGES)
            .where(messages.id == bindparam("mid"))
            .where(or_(messages.deleted_at.is_(None), messages.deleted_at > bindparam("at")))
            .values(deleted_at=bindparam("at"), content=None),
            [{"mid": d.message_id, "at": d.deleted_at} for d in first.values()],
        )


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
        "author_is_staff": r.author_is_staff,
    }


async def _insert_sqlite(
    conn: AsyncConnection, unique: dict[int, MessageRecord]
) -> list[MessageRecord]:
    """The new messages and their mentions as plain tuples through the driver: several times
    less Python per row than the SQL layer's parameter handling, on the writer's busiest path.
    Which messages are new is read first (one key range); the writer's transaction holds
    SQLite's write lock from its first insert, and ``OR IGNORE`` keeps a replay harmless."""
    ids = sorted(unique)
    found = await conn.execute(select(MESSAGES.c.id).where(MESSAGES.c.id.between(ids[0], ids[-1])))
    stored = {row[0] for row in found}
    new = [r for r in unique.values() if r.message_id not in stored]
    if not new:
        return []
    await conn.exec_driver_sql(_SQLITE_MESSAGES, [_message_values(r) for r in new])
    mentions = [
        row
        for r in new
        if r.mention_user_ids or r.mention_role_ids or r.mentions_everyone
        for row in _mention_values(r)
    ]
    if mentions:
        await conn.exec_driver_sql(_SQLITE_MENTIONS, mentions)
    return new


def _message_values(r: MessageRecord) -> tuple[Any, ...]:
    """``_message_row`` as SQLite stores it (times as epoch milliseconds, ``UtcMillis``)."""
    return (
        r.message_id,
        r.guild_id,
        r.channel_id,
        r.thread_id,
        r.author_id,
        to_millis(r.created_at),
        to_millis(r.edited_at) if r.edited_at is not None else None,
        None,
        r.reply_to_id,
        r.is_bot,
        r.is_webhook,
        r.is_system,
        r.counted,
        r.is_forward,
        r.is_thread_starter,
        min(len(r.mention_user_ids), 32767),
        min(len(r.mention_role_ids), 32767),
        r.mentions_everyone,
        r.mentions_bot,
        _storable(r.content),
        r.author_is_staff,
    )


def _storable(text: str | None) -> str | None:
    """PostgreSQL text cannot hold NUL characters; they carry no meaning in a message."""
    return text.replace("\x00", "") if text is not None and "\x00" in text else text


def _mention_values(r: MessageRecord) -> list[tuple[int, str, int, int]]:
    """The message's mentions as ``_MENTION_COLUMNS`` rows, each target once."""
    mid, gid = r.message_id, r.guild_id
    rows = [(mid, "user", uid, gid) for uid in set(r.mention_user_ids)]
    if r.mention_role_ids:
        rows.extend([(mid, "role", rid, gid) for rid in set(r.mention_role_ids)])
    if r.mentions_everyone:
        rows.append((mid, "everyone", 0, gid))
    return rows


_MENTION_COLUMNS = ("message_id", "kind", "target_id", "guild_id")
_MESSAGE_COLUMNS = tuple(_message_row(MessageRecord(0, 0, 0, 0, datetime.now(UTC))))
_SQLITE_MESSAGES = (
    # Our own table and column names, no input: the driver binds every value.
    f"INSERT OR IGNORE INTO {MESSAGES.name} ({', '.join(_MESSAGE_COLUMNS)}) "  # noqa: S608
    f"VALUES ({', '.join('?' * len(_MESSAGE_COLUMNS))})"
)
_SQLITE_MENTIONS = (
    f"INSERT OR IGNORE INTO {MENTIONS.name} ({', '.join(_MENTION_COLUMNS)}) "  # noqa: S608
    "VALUES (?, ?, ?, ?)"
)
