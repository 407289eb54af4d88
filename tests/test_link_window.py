"""The writer's window of recent questions links exactly as reading the database would."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.questions import QuestionSource
from bot.domain.records import (
    ChannelKind,
    ChannelRecord,
    Event,
    GuildRecord,
    MemberForget,
    MessageRecord,
    QuestionAsked,
)
from storage.apply import BatchApplier, BatchResult
from storage.link_window import LinkWindow
from storage.writer import EventWriter
from tests.test_writer import GENERAL, GUILD, T0, msg, scalar

HELP = 11
PEOPLE = (100, 200, 300, 400, 500)


def question(record: MessageRecord) -> QuestionAsked:
    return QuestionAsked(
        message_id=record.message_id,
        guild_id=record.guild_id,
        channel_id=record.channel_id,
        thread_id=record.thread_id,
        asker_id=record.author_id,
        asked_at=record.created_at,
        source=QuestionSource.DETECTED,
        target_minutes=30,
    )


def setup() -> list[Event]:
    return [
        GuildRecord(GUILD, "Test guild", T0),
        ChannelRecord(GUILD, GENERAL, ChannelKind.TEXT, "general"),
        ChannelRecord(GUILD, HELP, ChannelKind.TEXT, "help"),
    ]


def conversation(seed: int, n: int = 300) -> list[Event]:
    """Questions, replies (to questions, to follow-ups, to anything), mentions and threads over
    several hours, in two channels."""
    rng = random.Random(seed)
    events: list[Event] = []
    sent: list[MessageRecord] = []
    for i in range(n):
        at = T0 + timedelta(minutes=2 * i + rng.random())
        channel = rng.choice((GENERAL, HELP))
        fields: dict[str, Any] = {"channel_id": channel}
        earlier = [m for m in sent[-40:] if m.channel_id == channel]
        if earlier and rng.random() < 0.6:
            target = rng.choice(earlier)
            fields |= {"reply_to_id": target.message_id, "thread_id": target.thread_id}
            if rng.random() < 0.5:
                fields["mention_user_ids"] = (target.author_id,)
        elif earlier and rng.random() < 0.3:
            fields["mention_user_ids"] = (rng.choice(earlier).author_id,)
        if sent and rng.random() < 0.1:
            starter = rng.choice(sent[-20:])
            fields |= {"thread_id": starter.message_id, "channel_id": starter.channel_id}
            fields.pop("reply_to_id", None)
        record = replace(msg(i, author=rng.choice(PEOPLE), at=at), **fields)
        sent.append(record)
        events.append(record)
        if rng.random() < 0.3:
            events.append(question(record))
    return events


async def links(engine: AsyncEngine) -> list[tuple[Any, ...]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT question_id, message_id, rule FROM responses "
                "ORDER BY question_id, message_id"
            )
        )
        firsts = await conn.execute(
            text("SELECT message_id, first_response_id FROM questions ORDER BY message_id")
        )
        return [tuple(r) for r in rows] + [tuple(r) for r in firsts]


async def clear(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        for table in ("responses", "questions", "mentions", "messages"):
            await conn.execute(text(f"DELETE FROM {table}"))


async def write_in_batches(engine: AsyncEngine, events: Sequence[Event], size: int) -> None:
    async with EventWriter(engine, batch_size=size, max_delay=3600) as writer:
        for start in range(0, len(events), size):
            await writer.put_many(events[start : start + size])
            await writer.flush()
    assert writer.stats.failed == 0


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_the_window_links_as_reading_the_database_does(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    events = setup() + conversation(seed)
    await write_in_batches(engine, events, 17)
    windowed = await links(engine)
    assert len(windowed) > 100  # the conversation links a lot

    async def no_window(*_: object) -> None:
        return None

    await clear(engine)
    monkeypatch.setattr(LinkWindow, "context", no_window)
    await write_in_batches(engine, events, 17)
    assert await links(engine) == windowed


async def test_a_question_stored_by_another_writer_is_linked(engine: AsyncEngine) -> None:
    """An import running beside the bot adds a question the bot's window has not seen."""
    async with EventWriter(engine, max_delay=3600) as bot:
        await bot.put_many([*setup(), msg(1, author=100)])
        await bot.flush()  # the window starts here
        asked = msg(2, author=200, at=T0 + timedelta(minutes=1))
        await EventWriter(engine).write_transaction([asked, question(asked)])
        answer = msg(3, author=300, at=T0 + timedelta(minutes=2), mention_user_ids=(200,))
        await bot.put(answer)
    found = await scalar(
        engine, f"SELECT message_id FROM responses WHERE question_id = {asked.message_id}"
    )
    assert found == answer.message_id


async def test_a_rolled_back_question_is_not_linked(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = EventWriter(engine)
    await writer.write_transaction([*setup(), msg(1, author=100)])
    asked = msg(2, author=200, at=T0 + timedelta(minutes=1))
    apply = BatchApplier.apply

    async def fails_at_the_end(self: BatchApplier, conn: Any, events: Any) -> BatchResult:
        await apply(self, conn, events)
        raise ConnectionError("database went away")

    monkeypatch.setattr(BatchApplier, "apply", fails_at_the_end)
    with pytest.raises(ConnectionError):
        await writer.write_transaction([asked, question(asked)])
    monkeypatch.setattr(BatchApplier, "apply", apply)
    answer = msg(3, author=300, at=T0 + timedelta(minutes=2), mention_user_ids=(200,))
    await writer.write_transaction([answer])
    assert await scalar(engine, "SELECT count(*) FROM questions") == 0
    assert await scalar(engine, "SELECT count(*) FROM responses") == 0


async def test_an_erased_members_question_is_not_linked(engine: AsyncEngine) -> None:
    writer = EventWriter(engine)
    asked = msg(2, author=200, at=T0 + timedelta(minutes=1))
    await writer.write_transaction([*setup(), asked, question(asked)])
    await writer.write_transaction([MemberForget(GUILD, 200, T0 + timedelta(minutes=2))])
    answer = msg(3, author=300, at=T0 + timedelta(minutes=3), mention_user_ids=(200,))
    await writer.write_transaction([answer])
    assert await scalar(engine, "SELECT count(*) FROM questions") == 0
    assert await scalar(engine, "SELECT count(*) FROM responses") == 0
