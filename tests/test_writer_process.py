"""The writer in a process of its own, on real databases: the same rows as the in-process
writer, nothing lost or counted twice when the process dies, back-pressure, its logs, and no
database URL on a command line."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Callable
from dataclasses import is_dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain import records
from bot.domain.records import (
    ChannelKind,
    ChannelRecord,
    Event,
    GuildRecord,
    MessageRecord,
    QuestionAsked,
    QuestionSource,
    ReactionAdd,
)
from storage import migrate
from storage.engine import create_engine
from storage.writer import EventWriter
from storage.writer_child import encode, read_message
from storage.writer_process import ProcessWriter
from tests.dbstate import State, dump
from tests.test_writer import GENERAL, GUILD, T0, msg, scalar


def community(n: int) -> list[Event]:
    """A guild, a channel, n messages (every third a reply, some mentioning), a question
    answered by a reply, and reactions."""
    events: list[Event] = [
        GuildRecord(GUILD, "Guild", T0),
        ChannelRecord(GUILD, GENERAL, ChannelKind.TEXT, "general"),
    ]
    messages = [
        msg(
            i,
            author=100 + i % 7,
            at=T0 + timedelta(seconds=i),
            mention_user_ids=(100 + (i + 1) % 7,) if i % 5 == 0 else (),
        )
        for i in range(n)
    ]
    events += [
        m if i % 3 else _reply(m, messages[i - 1]) if i else m for i, m in enumerate(messages)
    ]
    asked = messages[1]
    events.append(
        QuestionAsked(
            asked.message_id,
            GUILD,
            GENERAL,
            None,
            asked.author_id,
            asked.created_at,
            QuestionSource.DETECTED,
            60,
        )
    )
    events += [
        ReactionAdd(m.message_id, GUILD, GENERAL, 200, "👍", m.created_at) for m in messages[:10]
    ]
    return events


def _reply(message: MessageRecord, to: MessageRecord) -> MessageRecord:
    return MessageRecord(
        message_id=message.message_id,
        guild_id=GUILD,
        channel_id=GENERAL,
        author_id=message.author_id,
        created_at=message.created_at,
        reply_to_id=to.message_id,
        mention_user_ids=message.mention_user_ids,
    )


async def migrated(url: str) -> AsyncEngine:
    engine = create_engine(url)
    await migrate.upgrade(engine)
    return engine


async def state_of(url: str) -> State:
    engine = create_engine(url)
    try:
        return await dump(engine)
    finally:
        await engine.dispose()


async def test_the_same_rows_as_the_writer_in_process(new_db_url: Callable[[], str]) -> None:
    events = community(120)
    inline_url, process_url = new_db_url(), new_db_url()
    await (await migrated(process_url)).dispose()
    inline_engine = await migrated(inline_url)
    try:
        async with EventWriter(inline_engine) as inline:
            await inline.put_many(events)
    finally:
        await inline_engine.dispose()  # else its pooled connection is closed only by the GC
    async with ProcessWriter(process_url) as writer:
        for i in range(0, len(events), 7):
            chunk = events[i : i + 7]
            if not writer.offer(chunk):
                await writer.put_many(chunk)
        await writer.flush()
        assert writer.pending == 0
        stats = writer.stats
    assert (stats.queued, stats.written, stats.failed) == (len(events), len(events), 0)
    assert (stats.messages_new, stats.reactions_new) == (120, 10)
    assert await state_of(process_url) == await state_of(inline_url)


async def test_a_killed_writer_process_is_replaced_and_loses_nothing(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    events = community(300)
    engine = await migrated(db_url)
    try:
        async with ProcessWriter(db_url, max_delay=3600) as writer:
            await writer.put_many(events[:150])
            await writer.flush()  # these are written, and reported so
            first = writer.pid
            await writer.put_many(events[150:])
            assert first is not None and writer.pending > 0
            with caplog.at_level(logging.ERROR):
                os.kill(first, signal.SIGKILL)  # with the rest in its hands (a long delay)
                await writer.flush()
            assert writer.pid not in (None, first)
            stats = writer.stats
        assert await scalar(engine, "SELECT count(*) FROM messages") == 300
        assert await scalar(engine, "SELECT sum(messages) FROM guild_days") == 300
        assert await scalar(engine, "SELECT count(*) FROM responses") >= 1
        # Frames sent again to the new process are written once, and counted once.
        assert (stats.messages_new, stats.reactions_new, stats.failed) == (300, 10, 0)
        assert stats.written == len(events)
        errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert any("the writer process exited" in e for e in errors), errors
    finally:
        await engine.dispose()


async def test_back_pressure_holds_producers_until_the_process_has_written(db_url: str) -> None:
    await (await migrated(db_url)).dispose()
    events = community(30)
    async with ProcessWriter(db_url, capacity=20, batch_size=20, max_delay=3600) as writer:
        assert writer.offer(events[:20])
        assert not writer.offer(events[20:21])  # full: nothing queued
        assert writer.pending == 20
        late = asyncio.create_task(writer.put_many(events[20:]))
        await asyncio.sleep(0)
        assert not late.done() and writer.stats.queued == 20
        # The first 20 make a whole batch in the writer process; once written, room frees.
        await asyncio.wait_for(late, 30)
        await writer.flush()
        assert writer.stats.written == len(events)
    assert (await state_of(db_url))["messages"]


async def test_its_log_records_reach_the_bot_and_one_bad_event_loses_nothing_else(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    await (await migrated(db_url)).dispose()
    good = community(5)
    bad = MessageRecord(99, GUILD, GENERAL, 100, None)  # type: ignore[arg-type]
    with caplog.at_level(logging.WARNING):
        async with ProcessWriter(db_url, retry_delays=(0,)) as writer:
            await writer.put_many([*good, bad])
            await writer.flush()
            stats = writer.stats
    assert (stats.failed, stats.messages_new) == (1, 5)
    stored = [r for r in caplog.records if r.name == "storage.writer"]
    assert any("could not store MessageRecord(" in r.getMessage() for r in stored), stored
    assert any("message_id=99" in r.getMessage() for r in stored)


async def test_the_database_url_stays_off_the_command_line(db_url: str) -> None:
    await (await migrated(db_url)).dispose()
    async with ProcessWriter(db_url) as writer:
        pid = writer.pid
        assert pid is not None
        command = await asyncio.to_thread(Path(f"/proc/{pid}/cmdline").read_text)
        assert "storage.writer_child" in command
        assert db_url not in command and "sqlite" not in command and "postgres" not in command
    assert not writer.running
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # stopped and reaped


async def test_a_writer_process_that_cannot_be_replaced_stops_the_writer_loudly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'engagebot.db'}"
    await (await migrated(url)).dispose()
    async with ProcessWriter(url) as writer:
        pid = writer.pid
        assert pid is not None
        writer.url = f"sqlite+aiosqlite:///{tmp_path / 'gone' / 'engagebot.db'}"  # unopenable
        await writer.put_many(community(3))
        with caplog.at_level(logging.ERROR):
            os.kill(pid, signal.SIGKILL)
            await asyncio.wait_for(writer.flush(), 60)  # released, not left waiting
        assert not writer.running and writer.pending == len(community(3))
    critical = [r.getMessage() for r in caplog.records if r.levelno == logging.CRITICAL]
    assert len(critical) == 1 and "keeps dying (last: did not start again" in critical[0]


async def through_a_frame(message: tuple[Any, ...]) -> tuple[Any, ...] | None:
    reader = asyncio.StreamReader()
    reader.feed_data(encode(message))
    reader.feed_eof()
    return await read_message(reader)


RECORD_KINDS = sorted(
    (
        kind
        for kind in vars(records).values()
        if isinstance(kind, type) and is_dataclass(kind) and kind.__module__ == records.__name__
    ),
    key=lambda kind: kind.__name__,
)


@pytest.mark.parametrize("kind", RECORD_KINDS, ids=lambda kind: kind.__name__)
@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_kind_of_record_reaches_the_writer_process_unchanged(
    kind: type, data: st.DataObject
) -> None:
    sent = data.draw(st.lists(st.from_type(kind), min_size=1, max_size=3))
    received = asyncio.run(through_a_frame(("events", sent)))
    assert received is not None and received == ("events", sent)
    assert [type(record) for record in received[1]] == [kind] * len(sent)
