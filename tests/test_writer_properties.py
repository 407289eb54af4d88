"""Property tests: random event streams through the real EventWriter into real databases.

A stream mixes message creations (from a small id space, so replays happen), edits, deletes,
reactions, threads started from messages and member joins and leaves, in any order (an edit or a
delete may come before its message), split into random batches: several writer sessions with
random batch sizes, and direct ``write_transaction`` calls. Each example starts from empty
tables. Afterwards the stored state must agree with itself (the rollups equal a recomputation
from the raw tables), with a plain model of the events, and with the state that the same events
leave in another order and batching.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.domain.records import (
    ChannelKind,
    ChannelRecord,
    Event,
    MemberEvent,
    MemberEventKind,
    MessageDelete,
    MessageEdit,
    MessageRecord,
    ReactionAdd,
    ReactionClear,
    ReactionRemove,
)
from bot.domain.snowflakes import snowflake_at, snowflake_time
from storage.writer import EventWriter
from tests.dbstate import EVENT_TABLES

GUILD = 1
CHANNELS = (10, 11)
FORUM = 11
"""Threads started in this channel are forum posts, which do not count as threads started."""
THREAD_OF = {10: 50, 11: 51}
HUMANS = (100, 200, 300)
BOT = 900
USERS = (*HUMANS, BOT)
ROLES = (7, 8)
EMOJI = ("👍", "🎉")
T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday; the writer's default zone is UTC

ROLLUPS = {
    "guild_days": (
        ("guild_id", "day"),
        ("messages", "top_level", "replies", "threads_started", "forwards", "reactions_received"),
    ),
    "member_days": (("guild_id", "day", "user_id"), ("messages",)),
    "channel_days": (("guild_id", "day", "channel_id"), ("messages",)),
    "guild_hours": (("guild_id", "hour"), ("messages",)),
}
MESSAGE_COLUMNS = (
    "id, author_id, channel_id, thread_id, created_at, edited_at, deleted_at, reply_to_id, "
    "is_bot, counted, is_forward, is_thread_starter, mention_users, mention_roles, "
    "mentions_everyone, mentions_bot, content"
)
THREAD_KINDS = tuple(k.value for k in ChannelKind if k.is_thread and k != ChannelKind.FORUM_POST)


PROPERTIES = settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    max_examples=30,
    deadline=None,
)


# --- strategies --------------------------------------------------------------------------------


@st.composite
def message_records(draw: st.DrawFn, n: int) -> MessageRecord:
    """Message ``n`` of a stream: every replay of it is this same record."""
    created_at = T0 + timedelta(minutes=draw(st.integers(0, 3 * 24 * 60)))
    author = draw(st.sampled_from(USERS))
    channel = draw(st.sampled_from(CHANNELS))
    in_thread = draw(st.booleans())
    return MessageRecord(
        message_id=snowflake_at(created_at) + n,
        guild_id=GUILD,
        channel_id=channel,
        author_id=author,
        created_at=created_at,
        thread_id=THREAD_OF[channel] if in_thread else None,
        is_bot=author == BOT,
        counted=author != BOT and draw(st.sampled_from((True, True, False))),
        reply_to_id=draw(st.none() | st.integers(1, 5).map(lambda k: 10**15 + k)),
        is_forward=draw(st.booleans()),
        is_thread_starter=in_thread and draw(st.booleans()),
        mention_user_ids=tuple(draw(st.lists(st.sampled_from(USERS), max_size=3))),
        mention_role_ids=tuple(draw(st.lists(st.sampled_from(ROLES), max_size=2))),
        mentions_everyone=draw(st.booleans()),
        mentions_bot=draw(st.booleans()),
        content=draw(
            st.none()
            | st.text(
                st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=8
            )
        ),
    )


def edit_of(message: MessageRecord, minutes: int) -> MessageEdit:
    """Edits of one message have distinct times; an odd one keeps no text (content policy)."""
    text = None if minutes % 2 else f"{message.message_id % 100} edited {minutes}"
    return MessageEdit(
        message.message_id, GUILD, message.created_at + timedelta(minutes=minutes), text
    )


def delete_of(message: MessageRecord) -> MessageDelete:
    at = message.created_at + timedelta(hours=1)
    return MessageDelete(message.message_id, GUILD, message.channel_id, at)


def reaction_add(message: MessageRecord, user: int, emoji: str) -> ReactionAdd:
    at = message.created_at + timedelta(minutes=5)
    return ReactionAdd(message.message_id, GUILD, message.channel_id, user, emoji, at, user == BOT)


def reaction_remove(message: MessageRecord, user: int, emoji: str) -> ReactionRemove:
    at = message.created_at + timedelta(minutes=6)
    return ReactionRemove(message.message_id, GUILD, user, emoji, at)


def reaction_clear(message: MessageRecord, emoji: str | None) -> ReactionClear:
    at = message.created_at + timedelta(minutes=7)
    return ReactionClear(message.message_id, GUILD, at, emoji)


def thread_of(message: MessageRecord) -> ChannelRecord:
    """A thread started from a message shares its id (in the forum channel: a forum post)."""
    kind = ChannelKind.FORUM_POST if message.channel_id == FORUM else ChannelKind.PUBLIC_THREAD
    return ChannelRecord(
        GUILD,
        message.message_id,
        kind,
        f"thread {message.message_id % 100}",
        parent_id=message.channel_id,
        created_at=message.created_at + timedelta(minutes=1),
        owner_id=message.author_id,
    )


def member_event(user: int, kind: MemberEventKind, hours: int) -> MemberEvent:
    return MemberEvent(GUILD, user, kind, T0 + timedelta(hours=hours), is_bot=user == BOT)


def reaction_ops(message: MessageRecord) -> st.SearchStrategy[Event]:
    users, emoji = st.sampled_from(USERS), st.sampled_from(EMOJI)
    add = st.builds(reaction_add, st.just(message), users, emoji)
    return st.one_of(
        add,
        add,
        st.builds(reaction_remove, st.just(message), users, emoji),
        st.builds(reaction_clear, st.just(message), st.none() | emoji),
    )


@st.composite
def streams(draw: st.DrawFn) -> list[Event]:
    """What happens to a few messages (each may be created never, once or twice), and to a few
    members, in any order."""
    events: list[Event] = []
    for n in range(draw(st.integers(1, 4))):
        message = draw(message_records(n))
        events += [message] * draw(st.integers(0, 2))
        events += [edit_of(message, k) for k in draw(st.lists(st.integers(1, 4), max_size=3))]
        events += [delete_of(message)] * draw(st.sampled_from((0, 0, 1, 2)))
        events += draw(st.lists(reaction_ops(message), max_size=6))
        events += [thread_of(message)] * draw(st.sampled_from((0, 0, 1, 2)))
    kinds = st.sampled_from((MemberEventKind.JOIN, MemberEventKind.LEAVE))
    member_events = st.builds(member_event, st.sampled_from(USERS), kinds, st.integers(0, 5))
    events += draw(st.lists(member_events, max_size=4))
    return list(draw(st.permutations(events)))


Plan = list[tuple[list[Event], int | None]]
"""Consecutive chunks of a stream, each written by its own writer session with that batch size,
or for ``None`` in one ``write_transaction`` call."""


@st.composite
def plans(draw: st.DrawFn, events: Sequence[Event]) -> Plan:
    cuts = draw(st.sets(st.integers(1, max(1, len(events) - 1)), max_size=4))
    bounds = sorted({0, *cuts, len(events)})
    plan: Plan = []
    for start, end in itertools.pairwise(bounds):
        if start < end:
            plan.append((list(events[start:end]), draw(st.none() | st.integers(1, end - start))))
    return plan


Reaction = ReactionAdd | ReactionRemove | ReactionClear


def shuffled(events: Sequence[Event], seed: int) -> list[Event]:
    """Any order, except that the reactions on one message keep their relative order.

    Adding and removing a reaction do not commute (Discord delivers them in order, and the
    writer applies them in arrival order), so only everything else is free to move.
    """
    order = list(events)
    random.Random(seed).shuffle(order)
    queues: dict[int, list[Event]] = {}
    for e in events:
        if isinstance(e, Reaction):
            queues.setdefault(e.message_id, []).append(e)
    return [queues[e.message_id].pop(0) if isinstance(e, Reaction) else e for e in order]


def creations_last(events: Sequence[Event]) -> list[Event]:
    """Live events first, then the messages they refer to (as when history is read after
    downtime); otherwise the order is kept."""
    return sorted(events, key=lambda e: isinstance(e, MessageRecord))


# --- writing and reading -----------------------------------------------------------------------


async def clear(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        for table in EVENT_TABLES:
            await conn.execute(text(f"DELETE FROM {table}"))


async def write(engine: AsyncEngine, plan: Plan) -> None:
    for chunk, size in plan:
        if size is None:
            await EventWriter(engine).write_transaction(chunk)
            continue
        async with EventWriter(engine, batch_size=size, max_delay=3600, retry_delays=(0,)) as w:
            await w.put_many(chunk)
        # A failed batch is retried, then written one event at a time: neither may happen here.
        assert (w.stats.retries, w.stats.failed, w.stats.written) == (0, 0, len(chunk))


async def rows(conn: AsyncConnection, sql: str) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in await conn.execute(text(sql))]


def day_of(value: object) -> str:
    """A ``day`` column: a date on PostgreSQL, its ISO text on SQLite."""
    return str(value)[:10]


def millis_day(millis: int) -> str:
    return datetime.fromtimestamp(millis / 1000, tz=UTC).date().isoformat()


async def snapshot(engine: AsyncEngine) -> dict[str, list[tuple[Any, ...]]]:
    """What may not depend on arrival order or batching (reaction times aside)."""
    queries = {
        "messages": f"SELECT {MESSAGE_COLUMNS} FROM messages",
        "mentions": "SELECT message_id, kind, target_id FROM mentions",
        "reactions": "SELECT message_id, user_id, emoji, is_bot FROM reactions",
        "channels": "SELECT id, kind, parent_id, created_at FROM channels",
        "deleted_messages": "SELECT message_id, deleted_at FROM deleted_messages",
        "members": "SELECT user_id, is_bot, joined_at, left_at FROM members",
        "member_events": "SELECT user_id, kind, at FROM member_events",
    }
    state: dict[str, list[tuple[Any, ...]]] = {}
    async with engine.connect() as conn:
        for name, sql in queries.items():
            found = await rows(conn, sql)
            if name == "messages":
                for m in found:
                    # A deleted message keeps whichever edit was stored before the delete.
                    if m["deleted_at"] is not None:
                        m["edited_at"] = None
            state[name] = sorted((tuple(r.values()) for r in found), key=repr)
        for table, (_keys, counters) in ROLLUPS.items():
            found = await rows(conn, f"SELECT * FROM {table}")
            state[table] = sorted(
                (tuple(r.values()) for r in found if any(r[c] for c in counters)), key=repr
            )
    return state


# --- the model and the invariants --------------------------------------------------------------


def expected_reactions(events: Sequence[Event]) -> set[tuple[int, int, str]]:
    present: set[tuple[int, int, str]] = set()
    for e in events:
        if isinstance(e, ReactionAdd):
            present.add((e.message_id, e.user_id, e.emoji))
        elif isinstance(e, ReactionRemove):
            present.discard((e.message_id, e.user_id, e.emoji))
        elif isinstance(e, ReactionClear):
            present -= {k for k in present if k[0] == e.message_id and e.emoji in (None, k[2])}
    return present


def expected_content(events: Sequence[Event]) -> dict[int, str | None]:
    """A deleted message keeps no text; otherwise the newest edit wins, whatever the order."""
    content = {e.message_id: e.content for e in events if isinstance(e, MessageRecord)}
    edits = sorted((e for e in events if isinstance(e, MessageEdit)), key=lambda e: e.edited_at)
    for edit in edits:
        if edit.message_id in content:
            content[edit.message_id] = edit.content
    for e in events:
        if isinstance(e, MessageDelete) and e.message_id in content:
            content[e.message_id] = None
    return content


def recomputed_rollups(
    messages: list[dict[str, Any]],
    reactions: list[dict[str, Any]],
    channels: list[dict[str, Any]],
) -> dict[str, Counter[tuple[Any, ...]]]:
    """The rollups, from the raw tables (keyed by the rollup's key columns plus a counter)."""
    expected: dict[str, Counter[tuple[Any, ...]]] = {table: Counter() for table in ROLLUPS}
    guild_days = expected["guild_days"]
    counted = {m["id"]: m for m in messages if m["counted"]}
    for m in counted.values():
        day = millis_day(m["created_at"])
        reply = m["reply_to_id"] is not None or (
            m["thread_id"] is not None and not m["is_thread_starter"]
        )
        guild_days[(GUILD, day, "messages")] += 1
        guild_days[(GUILD, day, "replies" if reply else "top_level")] += 1
        guild_days[(GUILD, day, "forwards")] += bool(m["is_forward"])
        expected["member_days"][(GUILD, day, m["author_id"], "messages")] += 1
        expected["channel_days"][(GUILD, day, m["channel_id"], "messages")] += 1
        hour = m["created_at"] // 3_600_000 * 3_600_000
        expected["guild_hours"][(GUILD, hour, "messages")] += 1
    for r in reactions:
        target = counted.get(r["message_id"])
        if target and not r["is_bot"] and r["user_id"] != target["author_id"]:
            guild_days[(GUILD, millis_day(target["created_at"]), "reactions_received")] += 1
    for c in channels:
        if c["kind"] in THREAD_KINDS and c["id"] in counted:
            started = c["created_at"] or int(snowflake_time(c["id"]).timestamp() * 1000)
            guild_days[(GUILD, millis_day(started), "threads_started")] += 1
    return expected


async def check_invariants(engine: AsyncEngine, events: Sequence[Event]) -> None:
    async with engine.connect() as conn:
        messages = await rows(conn, f"SELECT {MESSAGE_COLUMNS} FROM messages")
        reactions = await rows(conn, "SELECT message_id, user_id, emoji, is_bot FROM reactions")
        channels = await rows(conn, "SELECT id, kind, created_at FROM channels")
        rollups = {table: await rows(conn, f"SELECT * FROM {table}") for table in ROLLUPS}

    # 1. Each message is stored once.
    created = {e.message_id for e in events if isinstance(e, MessageRecord)}
    assert len(messages) == len(created)
    assert {m["id"] for m in messages} == created

    # 2. No counter is ever negative.
    for table, (_keys, counters) in ROLLUPS.items():
        for row in rollups[table]:
            assert all(row[c] >= 0 for c in counters), (table, row)

    # 3. A deleted message has no content; only deleted messages are marked deleted.
    deleted = {e.message_id for e in events if isinstance(e, MessageDelete)}
    for m in messages:
        if m["id"] in deleted:
            assert m["content"] is None, m
            assert m["deleted_at"] is not None, m
        else:
            assert m["deleted_at"] is None, m

    # The stored reactions follow their add/remove/clear sequence, whether or not their message
    # is stored.
    stored = {(r["message_id"], r["user_id"], r["emoji"]) for r in reactions}
    assert stored == expected_reactions(events)

    # 4. The rollups equal a recomputation from the raw tables.
    expected = recomputed_rollups(messages, reactions, channels)
    for table, (keys, counters) in ROLLUPS.items():
        actual: Counter[tuple[Any, ...]] = Counter()
        for row in rollups[table]:
            key = tuple(day_of(row[k]) if k == "day" else row[k] for k in keys)
            for c in counters:
                actual[(*key, c)] += row[c]
        assert +actual == +expected[table], table


# --- the properties ----------------------------------------------------------------------------


@PROPERTIES
@given(data=st.data())
async def test_random_streams_leave_a_consistent_state(
    engine: AsyncEngine, data: st.DataObject
) -> None:
    events = data.draw(streams(), label="events")
    if data.draw(st.booleans(), label="creations last"):
        events = creations_last(events)
    plan = data.draw(plans(events), label="plan")
    await clear(engine)
    await write(engine, plan)
    await check_invariants(engine, [e for chunk, _ in plan for e in chunk])


@PROPERTIES
@given(data=st.data())
async def test_order_and_batching_do_not_change_the_result(
    engine: AsyncEngine, data: st.DataObject
) -> None:
    events = data.draw(streams(), label="events")
    other = shuffled(events, data.draw(st.integers(0, 2**32), label="shuffle seed"))
    if data.draw(st.booleans(), label="creations last"):
        other = creations_last(other)
    first_plan = data.draw(plans(events), label="first plan")
    second_plan = data.draw(plans(other), label="second plan")

    await clear(engine)
    await write(engine, first_plan)
    first = await snapshot(engine)
    await clear(engine)
    await write(engine, second_plan)
    second = await snapshot(engine)

    for table in first:
        assert first[table] == second[table], table
    content = {m[0]: m[-1] for m in first["messages"]}
    assert content == expected_content(events)
