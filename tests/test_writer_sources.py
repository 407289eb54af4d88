"""Producers that hold events back (the ingest cog's new messages) and the writers that drain
them: on their own clock when they next write, and before a flush or a close."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.records import Event
from storage.writer import EventWriter, Writer
from storage.writer_process import ProcessWriter
from tests.test_writer import _Recorder, msg, scalar


class Held:
    """A source holding events until its writer drains it."""

    def __init__(self, writer: Writer) -> None:
        self.writer = writer
        self.events: list[Event] = []
        self.drains = 0
        self.drained = asyncio.Event()
        writer.add_source(self.drain)

    def hold(self, events: Sequence[Event]) -> None:
        if not self.events:
            self.writer.holding()
        self.events.extend(events)

    def drain(self) -> None:
        self.drains += 1
        events, self.events = self.events, []
        if events:
            assert self.writer.offer(events)
            self.drained.set()


async def test_held_events_are_written_when_the_writer_next_writes(engine: AsyncEngine) -> None:
    recorder = _Recorder()
    async with EventWriter(engine, max_delay=0.05, on_batch=recorder) as writer:
        source = Held(writer)
        source.hold([msg(1), msg(2)])
        source.hold([msg(3)])
        await asyncio.wait_for(recorder.arrived.wait(), timeout=10)
        assert recorder.batches == [3] and source.drains == 1
        assert await scalar(engine, "SELECT count(*) FROM messages") == 3


async def test_flush_and_close_drain_the_sources_first(engine: AsyncEngine) -> None:
    async with EventWriter(engine, max_delay=3600) as writer:
        source = Held(writer)
        source.hold([msg(1), msg(2)])
        await writer.flush()
        assert await scalar(engine, "SELECT count(*) FROM messages") == 2
        source.hold([msg(3)])
    assert await scalar(engine, "SELECT count(*) FROM messages") == 3
    assert writer.stats.written == 3


async def test_a_removed_source_is_not_drained(engine: AsyncEngine) -> None:
    async with EventWriter(engine, max_delay=3600) as writer:
        source = Held(writer)
        source.hold([msg(1)])
        writer.remove_source(source.drain)
        await writer.flush()
    assert source.drains == 0 and source.events
    assert await scalar(engine, "SELECT count(*) FROM messages") == 0


async def test_the_writer_process_drains_sources_on_its_own_clock(
    engine: AsyncEngine, db_url: str
) -> None:
    async with ProcessWriter(db_url, max_delay=3600) as writer:
        source = Held(writer)
        source.hold([msg(1), msg(2)])
        await asyncio.wait_for(source.drained.wait(), timeout=10)  # no flush asked for it
        assert source.drains == 1
        source.hold([msg(3)])
        await writer.flush()
        assert source.drains == 2
        assert writer.stats.written == 3
    assert await scalar(engine, "SELECT count(*) FROM messages") == 3


async def test_a_source_that_fails_is_logged_and_the_rest_are_written(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    async with EventWriter(engine, max_delay=0.05) as writer:

        def broken() -> None:
            raise RuntimeError("a bug in a source")

        writer.add_source(broken)
        source = Held(writer)
        with caplog.at_level(logging.ERROR):
            source.hold([msg(1)])
            await asyncio.wait_for(source.drained.wait(), timeout=10)
            await writer.flush()
        assert writer.running
    assert await scalar(engine, "SELECT count(*) FROM messages") == 1
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR][:1] == [
        "a source of held events failed to hand them over"
    ]
