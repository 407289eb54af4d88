"""The batching writer on real databases: idempotence, rollups, batching, back-pressure."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.records import (
    ChannelKind,
    ChannelRecord,
    Event,
    GuildRecord,
    MemberEvent,
    MemberEventKind,
    MemberForget,
    MessageDelete,
    MessageEdit,
    MessageRecord,
    ReactionAdd,
    ReactionClear,
    ReactionRemove,
)
from bot.domain.snowflakes import snowflake_at
from storage.apply import BatchResult
from storage.writer import EventWriter
from tests.dbstate import dump

GUILD = 1
GENERAL = 10
T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday


def message_id(at: datetime, n: int = 0) -> int:
    return snowflake_at(at) + n


def msg(n: int, *, author: int = 100, at: datetime = T0, **fields: object) -> MessageRecord:
    return MessageRecord(
        message_id=message_id(at, n),
        guild_id=GUILD,
        channel_id=GENERAL,
        author_id=author,
        created_at=at,
        **fields,  # type: ignore[arg-type]
    )


async def scalar(engine: AsyncEngine, sql: str) -> object:
    async with engine.connect() as conn:
        return (await conn.execute(text(sql))).scalar()


async def write_all(engine: AsyncEngine, events: Sequence[Event], **options: object) -> EventWriter:
    async with EventWriter(engine, **options) as writer:  # type: ignore[arg-type]
        await writer.put_many(events)
    return writer


def community() -> list[Event]:
    """A small day in a community, worked out on paper in the assertions below."""
    replyable = msg(1, author=100)
    return [
        GuildRecord(GUILD, "Test guild", T0),
        ChannelRecord(GUILD, GENERAL, ChannelKind.TEXT, "general"),
        replyable,
        msg(2, author=200, reply_to_id=replyable.message_id, mention_user_ids=(100,)),
        msg(3, author=200, at=T0 + timedelta(hours=1)),
        msg(4, author=300, at=T0 + timedelta(days=1), is_forward=True),
        msg(5, author=999, is_bot=True, counted=False),
        ReactionAdd(replyable.message_id, GUILD, GENERAL, 200, "👍", T0),
        ReactionAdd(replyable.message_id, GUILD, GENERAL, 300, "👍", T0),
        ReactionAdd(replyable.message_id, GUILD, GENERAL, 300, "🎉", T0),
        ReactionAdd(replyable.message_id, GUILD, GENERAL, 100, "👍", T0),  # own message
        ReactionAdd(replyable.message_id, GUILD, GENERAL, 999, "👍", T0, user_is_bot=True),
        MemberEvent(GUILD, 300, MemberEventKind.JOIN, T0 - timedelta(days=3)),
    ]


async def test_a_day_in_the_community_is_counted_as_on_paper(engine: AsyncEngine) -> None:
    writer = await write_all(engine, community())
    assert writer.stats.failed == 0
    assert await scalar(engine, "SELECT count(*) FROM messages") == 5
    async with engine.connect() as conn:
        days = (
            await conn.execute(
                text(
                    "SELECT day, messages, top_level, replies, forwards, reactions_received "
                    "FROM guild_days ORDER BY day"
                )
            )
        ).all()
        members = (
            await conn.execute(
                text("SELECT user_id, messages FROM member_days ORDER BY day, user_id")
            )
        ).all()
        hours = (await conn.execute(text("SELECT messages FROM guild_hours ORDER BY hour"))).all()
    # Day 1: messages 1, 2, 3 count (the bot's does not); 2 is a reply; applause on 1 is
    # 200's thumbs up and 300's two emoji = 3 (the author's and the bot's do not count).
    assert [tuple(d[1:]) for d in days] == [(3, 2, 1, 0, 3), (1, 1, 0, 1, 0)]
    assert [str(d[0]) for d in days] == ["2026-03-02", "2026-03-03"]
    assert [tuple(m) for m in members] == [(100, 1), (200, 2), (300, 1)]
    assert [h[0] for h in hours] == [2, 1, 1]
    assert await scalar(engine, "SELECT count(*) FROM mentions") == 1
    assert await scalar(engine, "SELECT count(*) FROM reactions") == 5
    newest = max(e.message_id for e in community() if isinstance(e, MessageRecord))
    assert await scalar(engine, "SELECT newest_message_id FROM channels") == newest


async def test_writing_everything_twice_changes_nothing(engine: AsyncEngine) -> None:
    await write_all(engine, community())
    once = await dump(engine)
    await write_all(engine, community() + community())
    assert await dump(engine) == once


async def test_day_rollups_follow_the_guild_time_zone(engine: AsyncEngine) -> None:
    from zoneinfo import ZoneInfo

    late = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)  # already Tuesday in Berlin
    async with EventWriter(engine) as writer:
        writer.set_timezone(GUILD, ZoneInfo("Europe/Berlin"))
        await writer.put(msg(1, at=late))
    async with engine.connect() as conn:
        day = (await conn.execute(text("SELECT day FROM guild_days"))).scalar()
    assert str(day) == "2026-03-03"


async def test_deleted_message_loses_its_content_and_stays_deleted(engine: AsyncEngine) -> None:
    question = msg(1, content="how do I reset my password?")
    deleted_at = T0 + timedelta(minutes=5)
    await write_all(engine, [question])
    await write_all(
        engine,
        [
            MessageDelete(question.message_id, GUILD, GENERAL, deleted_at),
            MessageEdit(question.message_id, GUILD, T0 + timedelta(minutes=9), "edited later"),
            question,  # a replay of the creation must not bring the text back
        ],
    )
    async with engine.connect() as conn:
        row = (await conn.execute(text("SELECT content, deleted_at FROM messages"))).one()
    assert row[0] is None
    assert row[1] == int(deleted_at.timestamp() * 1000)
    assert await scalar(engine, "SELECT messages FROM guild_days") == 1


async def test_delete_before_create_is_remembered(engine: AsyncEngine) -> None:
    question = msg(1, content="anyone know a good editor?")
    await write_all(engine, [MessageDelete(question.message_id, GUILD, GENERAL, T0)])
    await write_all(engine, [question])
    assert await scalar(engine, "SELECT content FROM messages") is None
    assert await scalar(engine, "SELECT count(*) FROM messages WHERE deleted_at IS NULL") == 0


async def test_the_newest_edit_wins_whatever_the_order(engine: AsyncEngine) -> None:
    original = msg(1, content="v1")
    await write_all(
        engine,
        [
            original,
            MessageEdit(original.message_id, GUILD, T0 + timedelta(minutes=2), "v3"),
            MessageEdit(original.message_id, GUILD, T0 + timedelta(minutes=1), "v2"),
        ],
    )
    await write_all(
        engine, [MessageEdit(original.message_id, GUILD, T0 + timedelta(minutes=1), "v2")]
    )
    assert await scalar(engine, "SELECT content FROM messages") == "v3"


async def test_reaction_changes_keep_applause_true(engine: AsyncEngine) -> None:
    target = msg(1, author=100)
    thumbs = ReactionAdd(target.message_id, GUILD, GENERAL, 200, "👍", T0)
    party = ReactionAdd(target.message_id, GUILD, GENERAL, 200, "🎉", T0)
    # A reaction that arrives before its message (live event, history read later) counts too.
    await write_all(engine, [thumbs])
    await write_all(engine, [target, party])
    assert await scalar(engine, "SELECT reactions_received FROM guild_days") == 2
    await write_all(engine, [ReactionRemove(target.message_id, GUILD, 200, "👍", T0)])
    assert await scalar(engine, "SELECT reactions_received FROM guild_days") == 1
    # Removing what is not there changes nothing; add, clear, add in one batch leaves one.
    await write_all(
        engine,
        [
            ReactionRemove(target.message_id, GUILD, 200, "👍", T0),
            thumbs,
            ReactionClear(target.message_id, GUILD, T0),
            party,
        ],
    )
    assert await scalar(engine, "SELECT reactions_received FROM guild_days") == 1
    assert await scalar(engine, "SELECT emoji FROM reactions") == "🎉"


async def test_member_state_follows_the_newest_event(engine: AsyncEngine) -> None:
    joined = MemberEvent(GUILD, 300, MemberEventKind.JOIN, T0)
    left = MemberEvent(GUILD, 300, MemberEventKind.LEAVE, T0 + timedelta(days=2))
    await write_all(engine, [left, joined])  # out of order
    async with engine.connect() as conn:
        row = (await conn.execute(text("SELECT joined_at, left_at FROM members"))).one()
    assert row == (int(T0.timestamp() * 1000), int(left.at.timestamp() * 1000))
    assert await scalar(engine, "SELECT count(*) FROM member_events") == 2


async def test_forgetting_a_member_erases_what_is_theirs(engine: AsyncEngine) -> None:
    await write_all(engine, community())
    await write_all(engine, [MemberForget(GUILD, 200, T0)])
    assert await scalar(engine, "SELECT count(*) FROM messages WHERE author_id = 200") == 0
    assert await scalar(engine, "SELECT count(*) FROM reactions WHERE user_id = 200") == 0
    assert await scalar(engine, "SELECT count(*) FROM mentions") == 0
    assert await scalar(engine, "SELECT count(*) FROM member_days WHERE user_id = 200") == 0
    assert await scalar(engine, "SELECT count(*) FROM members WHERE opted_out_at IS NOT NULL") == 1
    # Anonymous totals stay: the community's history remains true.
    assert await scalar(engine, "SELECT sum(messages) FROM guild_days") == 4


class _Recorder:
    def __init__(self) -> None:
        self.batches: list[int] = []
        self.arrived = asyncio.Event()
        self.gate: asyncio.Event | None = None

    async def __call__(self, batch: Sequence[Event], result: BatchResult) -> None:
        self.batches.append(len(batch))
        self.arrived.set()
        if self.gate is not None:
            await self.gate.wait()


async def test_a_full_batch_is_written_without_waiting_for_the_timer(engine: AsyncEngine) -> None:
    recorder = _Recorder()
    async with EventWriter(engine, batch_size=10, max_delay=3600, on_batch=recorder) as writer:
        await writer.put_many([msg(n) for n in range(10)])
        await asyncio.wait_for(recorder.arrived.wait(), timeout=10)
        assert recorder.batches == [10]
        assert await scalar(engine, "SELECT count(*) FROM messages") == 10


async def test_a_lone_event_is_written_after_the_delay(engine: AsyncEngine) -> None:
    recorder = _Recorder()
    loop = asyncio.get_running_loop()
    async with EventWriter(engine, batch_size=500, max_delay=0.05, on_batch=recorder) as writer:
        started = loop.time()
        await writer.put(msg(1))
        await asyncio.wait_for(recorder.arrived.wait(), timeout=10)
        assert loop.time() - started >= 0.05
    assert recorder.batches == [1]


@contextlib.asynccontextmanager
async def held_writer(engine: AsyncEngine) -> AsyncIterator[tuple[EventWriter, _Recorder]]:
    """A writer with room for 10 events, held while it writes its first batch of 5 (until the
    recorder's gate opens)."""
    recorder = _Recorder()
    recorder.gate = asyncio.Event()
    async with EventWriter(
        engine, batch_size=5, capacity=10, max_delay=3600, on_batch=recorder
    ) as writer:
        await writer.put_many([msg(n) for n in range(5)])
        await asyncio.wait_for(recorder.arrived.wait(), timeout=10)
        yield writer, recorder


async def test_a_full_queue_makes_producers_wait_and_loses_nothing(engine: AsyncEngine) -> None:
    async with held_writer(engine) as (writer, recorder):
        await writer.put_many([msg(n) for n in range(5, 15)])  # fills the buffer to capacity
        blocked = asyncio.create_task(writer.put(msg(15)))
        for _ in range(20):
            await asyncio.sleep(0)
        assert not blocked.done(), "put must wait while the buffer is full"
        assert writer.pending == 10
        recorder.gate.set()
        await asyncio.wait_for(blocked, timeout=10)
    assert writer.stats.written == 16
    assert await scalar(engine, "SELECT count(*) FROM messages") == 16


async def test_offer_queues_at_once_only_with_room_and_nobody_waiting(engine: AsyncEngine) -> None:
    async with held_writer(engine) as (writer, recorder):
        assert writer.offer([msg(n) for n in range(5, 13)])
        assert not writer.offer([msg(13), msg(14), msg(15)]), "three more do not fit"
        assert writer.offer([msg(13), msg(14)]) and writer.pending == 10
        blocked = asyncio.create_task(writer.put(msg(15)))
        for _ in range(20):
            await asyncio.sleep(0)
        assert not blocked.done()
        assert not writer.offer([msg(16)])
        recorder.gate.set()
        await asyncio.wait_for(blocked, timeout=10)
        assert writer.offer([msg(16)])
    assert writer.stats.written == 17
    assert await scalar(engine, "SELECT count(*) FROM messages") == 17


async def test_close_writes_what_is_still_queued(engine: AsyncEngine) -> None:
    writer = await write_all(engine, [msg(n) for n in range(7)], max_delay=3600)
    assert writer.stats.written == 7
    assert await scalar(engine, "SELECT count(*) FROM messages") == 7


async def test_flush_returns_when_everything_queued_is_stored(engine: AsyncEngine) -> None:
    async with EventWriter(engine, max_delay=3600) as writer:
        await writer.put_many([msg(n) for n in range(3)])
        await writer.flush()
        assert await scalar(engine, "SELECT count(*) FROM messages") == 3


async def test_a_bad_event_is_reported_and_the_rest_of_its_batch_stored(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    naive = datetime(2026, 3, 2, 12, 0)  # noqa: DTZ001 - a naive time cannot be stored
    poison = MessageRecord(
        message_id=message_id(T0, 3),
        guild_id=GUILD,
        channel_id=GENERAL,
        author_id=100,
        created_at=naive,
        content="secret text",
    )
    events = [msg(1), msg(2), poison, msg(4)]
    with caplog.at_level(logging.ERROR, logger="storage.writer"):
        writer = await write_all(engine, events, retry_delays=(0, 0))
    assert writer.stats.failed == 1
    assert writer.stats.written == 3
    assert writer.stats.retries == 2
    assert await scalar(engine, "SELECT count(*) FROM messages") == 3
    reported = [r.getMessage() for r in caplog.records if "could not store" in r.getMessage()]
    assert len(reported) == 1
    assert str(poison.message_id) in reported[0]
    assert "secret text" not in caplog.text


class _FlakyWriter(EventWriter):
    """Fails its first transaction, as a locked or restarting database would."""

    failures = 1

    async def write_transaction(self, events: Sequence[Event]) -> BatchResult:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("database went away")
        return await super().write_transaction(events)


async def test_a_failed_batch_is_retried_whole(engine: AsyncEngine) -> None:
    async with _FlakyWriter(engine, retry_delays=(0,)) as writer:
        await writer.put_many(community())
    assert writer.stats.retries == 1
    assert writer.stats.failed == 0
    assert writer.stats.batches == 1
    assert await scalar(engine, "SELECT count(*) FROM messages") == 5


def test_local_day_uses_the_guild_zone() -> None:
    from zoneinfo import ZoneInfo

    from storage.apply import BatchApplier

    applier = BatchApplier({GUILD: ZoneInfo("America/New_York")})
    assert applier.local_day(GUILD, datetime(2026, 3, 3, 3, 0, tzinfo=UTC)) == date(2026, 3, 2)
    assert applier.local_day(2, datetime(2026, 3, 3, 3, 0, tzinfo=UTC)) == date(2026, 3, 3)


async def test_the_earliest_deletion_wins_whatever_the_order(engine: AsyncEngine) -> None:
    message = msg(1, content="is this public?")
    early, late = T0 + timedelta(minutes=5), T0 + timedelta(minutes=9)
    await write_all(engine, [message])
    await write_all(engine, [MessageDelete(message.message_id, GUILD, GENERAL, late)])
    await write_all(engine, [MessageDelete(message.message_id, GUILD, GENERAL, early)])
    millis = int(early.timestamp() * 1000)
    assert await scalar(engine, "SELECT deleted_at FROM messages") == millis
    assert await scalar(engine, "SELECT deleted_at FROM deleted_messages") == millis


async def test_an_edit_never_touches_a_deleted_message(engine: AsyncEngine) -> None:
    message = msg(1, content="v1")
    edit = MessageEdit(message.message_id, GUILD, T0 + timedelta(minutes=1), "v2")
    delete = MessageDelete(message.message_id, GUILD, GENERAL, T0 + timedelta(minutes=2))
    await write_all(engine, [message, delete, edit])
    assert await scalar(engine, "SELECT edited_at FROM messages") is None
    assert await scalar(engine, "SELECT content FROM messages") is None


async def test_text_with_nul_characters_is_stored_on_every_database(engine: AsyncEngine) -> None:
    writer = await write_all(engine, [msg(1, content="a\x00b?")])
    assert writer.stats.failed == 0
    assert await scalar(engine, "SELECT content FROM messages") == "ab?"


# --- order: once violations found by the property tests, kept as minimal examples ---------------


def _starter() -> MessageRecord:
    return msg(0, content="v1")


def _thread_of(message: MessageRecord) -> ChannelRecord:
    return ChannelRecord(
        GUILD,
        message.message_id,
        ChannelKind.PUBLIC_THREAD,
        "a thread",
        parent_id=message.channel_id,
        created_at=message.created_at + timedelta(minutes=1),
        owner_id=message.author_id,
    )


async def test_an_edit_before_the_creation_is_not_lost(engine: AsyncEngine) -> None:
    original = _starter()
    edit = MessageEdit(original.message_id, GUILD, T0 + timedelta(minutes=1), "v2")
    await EventWriter(engine).write_transaction([edit])
    await EventWriter(engine).write_transaction([original])
    stored = await scalar(engine, "SELECT content FROM messages")
    edited = await scalar(engine, "SELECT edited_at FROM messages")
    assert (stored, edited) == ("v2", int(edit.edited_at.timestamp() * 1000))


async def test_a_thread_in_the_batch_of_its_message_is_counted(engine: AsyncEngine) -> None:
    starter = _starter()
    await EventWriter(engine).write_transaction([starter, _thread_of(starter)])
    assert await scalar(engine, "SELECT threads_started FROM guild_days") == 1


async def test_a_thread_before_its_message_is_counted(engine: AsyncEngine) -> None:
    starter = _starter()
    await EventWriter(engine).write_transaction([_thread_of(starter)])
    await EventWriter(engine).write_transaction([starter])
    assert await scalar(engine, "SELECT threads_started FROM guild_days") == 1
