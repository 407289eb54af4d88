"""The single batching writer: every event reaches the database through here.

A bounded buffer gives back-pressure (``put`` waits when it is full; nothing is ever dropped).
One task drains it: a batch is written when 500 events are waiting or the oldest has waited
250 ms, in one transaction, with the rollups. A batch that fails is retried with back-off; if it
still fails, its events are written one by one so that one bad event cannot take the others
with it, and the bad one is reported with its ids.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.records import Event
from storage import tables as t
from storage.apply import BatchApplier, BatchResult
from storage.rollups import UTC_ZONE

log = logging.getLogger(__name__)

BATCH_SIZE = 1000
"""Events the writer waits for before writing without waiting for ``MAX_DELAY_SECONDS``. Each
transaction costs a few milliseconds of fixed work (about 20 statements, each a round trip to
the database's thread): 1,000 events a transaction took the writer process from 51 to 47 us a
message on a burst, against 500 (2,000: 43 us, with longer write locks)."""
MAX_DELAY_SECONDS = 0.25
QUEUE_CAPACITY = 20_000
RETRY_DELAYS = (0.05, 0.25, 1.0, 4.0)
BACKLOG_FACTOR = 4


@dataclass
class WriterStats:
    queued: int = 0
    written: int = 0
    batches: int = 0
    retries: int = 0
    failed: int = 0
    messages_new: int = 0
    reactions_new: int = 0


class Writer(Protocol):
    """What the bot needs of a writer: ``EventWriter`` here, or ``ProcessWriter`` (the same
    writer in a process of its own)."""

    @property
    def running(self) -> bool: ...

    @property
    def pending(self) -> int: ...

    @property
    def stats(self) -> WriterStats: ...

    def offer(self, events: Sequence[Event]) -> bool: ...

    async def put(self, event: Event) -> None: ...

    async def put_many(self, events: Sequence[Event]) -> None: ...

    async def flush(self) -> None: ...

    async def close(self) -> None: ...

    def set_timezone(self, guild_id: int, zone: ZoneInfo) -> None: ...

    def add_source(self, drain: Callable[[], None]) -> None: ...

    def remove_source(self, drain: Callable[[], None]) -> None: ...

    def holding(self) -> None: ...


class Sources:
    """Producers that hold events back to handle them in batches (the ingest cog's new
    messages): each registers a ``drain`` that queues whatever it holds, and calls ``holding``
    when it starts to hold something. The writer drains them when it next writes or sends, on
    its own clock and within its usual delay; ``flush`` and ``close`` drain them first, so what
    happened before them is written too."""

    def __init__(self) -> None:
        self._sources: list[Callable[[], None]] = []
        self._held = False

    def add_source(self, drain: Callable[[], None]) -> None:
        self._sources.append(drain)

    def remove_source(self, drain: Callable[[], None]) -> None:
        if drain in self._sources:
            self._sources.remove(drain)

    def holding(self) -> None:
        self._held = True
        self._wake()

    def _wake(self) -> None:
        """Have the writer's task drain the sources (its next batch or frame)."""

    def _drain_sources(self) -> None:
        """Each source's events into the buffer; one that fails is logged, and the writer and
        the other sources go on."""
        self._held = False
        for drain in list(self._sources):
            try:
                drain()
            except Exception:
                log.exception("a source of held events failed to hand them over")


def describe(event: Event) -> str:
    """An event's kind and ids, never its content, for logs."""
    ids = {
        name: getattr(event, name)
        for name in ("guild_id", "channel_id", "message_id", "user_id")
        if hasattr(event, name)
    }
    return f"{type(event).__name__}({', '.join(f'{k}={v}' for k, v in ids.items())})"


class EventWriter(Sources):
    """Use as ``async with EventWriter(engine) as writer:``; ``await writer.put(event)``."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        batch_size: int = BATCH_SIZE,
        max_delay: float = MAX_DELAY_SECONDS,
        capacity: int = QUEUE_CAPACITY,
        retry_delays: Sequence[float] = RETRY_DELAYS,
        default_zone: ZoneInfo = UTC_ZONE,
        on_batch: Callable[[Sequence[Event], BatchResult], Awaitable[None]] | None = None,
    ) -> None:
        if batch_size < 1 or capacity < batch_size:
            raise ValueError("need 1 <= batch_size <= capacity")
        super().__init__()
        self.engine = engine
        self.batch_size = batch_size
        self.max_delay = max_delay
        self.capacity = capacity
        self.retry_delays = tuple(retry_delays)
        self.applier = BatchApplier({}, default_zone)
        self.stats = WriterStats()
        self._on_batch = on_batch
        self.on_progress: Callable[[], None] | None = None
        """Called after every batch is written or reported failed (``stats`` are current)."""
        self._buffer: list[Event] = []
        self._oldest_at: float | None = None
        """When the writer task first saw the oldest waiting event (its own clock only)."""
        self._has_items = asyncio.Event()
        self._batch_full = asyncio.Event()
        self._space = asyncio.Event()
        self._space.set()
        self._waiting = 0
        """Producers waiting in ``put`` for space."""
        self._progress = asyncio.Condition()
        self._flush_now = False
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    async def __aenter__(self) -> EventWriter:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        if self._task is not None:
            return
        await self.load_timezones()
        self._closing = False
        self._task = asyncio.create_task(self._run(), name="engagebot-writer")

    async def load_timezones(self) -> None:
        """Day rollups are kept in each guild's own time zone."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(t.Guild.id, t.Guild.timezone).where(t.Guild.timezone.is_not(None))
            )
            for guild_id, zone in rows:
                if zone:
                    self.applier.timezones[guild_id] = ZoneInfo(zone)

    def set_timezone(self, guild_id: int, zone: ZoneInfo) -> None:
        self.applier.timezones[guild_id] = zone

    @property
    def running(self) -> bool:
        return self._task is not None

    @property
    def pending(self) -> int:
        return len(self._buffer)

    async def put(self, event: Event) -> None:
        """Queue one event; waits (back-pressure) only while the buffer is full."""
        if len(self._buffer) >= self.capacity or self._waiting:
            self._waiting += 1
            try:
                while len(self._buffer) >= self.capacity:
                    self._space.clear()
                    await self._space.wait()
            finally:
                self._waiting -= 1
        self._append(event)

    def offer(self, events: Sequence[Event]) -> bool:
        """Queue ``events`` now if they fit and nobody is waiting for space (so the order holds);
        False (nothing queued) otherwise: then ``put_many`` them."""
        if self._waiting or len(self._buffer) + len(events) > self.capacity:
            return False
        for event in events:
            self._append(event)
        return True

    async def put_many(self, events: Sequence[Event]) -> None:
        for event in events:
            await self.put(event)

    def _append(self, event: Event) -> None:
        buffer = self._buffer
        if not buffer:
            # Producers may run under another clock (a test's virtual one): the writer task
            # starts the 250 ms wait itself when it wakes, so one clock measures it.
            self._oldest_at = None
            self._has_items.set()
        buffer.append(event)
        self.stats.queued += 1
        if len(buffer) >= self.batch_size:
            self._batch_full.set()

    async def flush(self) -> None:
        """Return once every event queued before this call is written (or reported failed)."""
        if self._task is None:
            raise RuntimeError("the writer is not running")
        self._drain_sources()
        target = self.stats.queued
        async with self._progress:
            self._flush_now = True
            self._batch_full.set()
            await self._progress.wait_for(
                lambda: self.stats.written + self.stats.failed >= target or self._task is None
            )

    async def close(self) -> None:
        """Write everything still queued, then stop."""
        if self._task is None:
            return
        self._drain_sources()
        task, self._task = self._task, None
        self._closing = True
        self._batch_full.set()
        self._has_items.set()
        try:
            await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise
            log.error(
                "the writer had been stopped; %d queued events were not written "
                "(gap recovery reads them again from Discord)",
                len(self._buffer),
            )
        finally:
            async with self._progress:
                self._progress.notify_all()

    def _wake(self) -> None:
        if not self._buffer:
            self._oldest_at = None  # held events wait the full delay, as a first event does
        self._has_items.set()

    async def _run(self) -> None:
        while True:
            if not self._buffer and not self._held:
                if self._closing:
                    return
                self._has_items.clear()
                await self._has_items.wait()
                continue
            if self._oldest_at is None:
                self._oldest_at = time.monotonic()
            wait = self._oldest_at + self.max_delay - time.monotonic()
            short = len(self._buffer) < self.batch_size
            if short and wait > 0 and not (self._closing or self._flush_now):
                self._batch_full.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._batch_full.wait(), wait)
            if self._held:
                self._drain_sources()
                if not self._buffer:
                    continue
            # A backlog is written in bigger transactions (up to 4 batches) to catch up faster.
            take = self.batch_size * BACKLOG_FACTOR
            batch = self._buffer[:take]
            del self._buffer[:take]
            if self._buffer:
                self._oldest_at = time.monotonic()
            else:
                self._flush_now = False
            self._space.set()
            await self._write_with_retries(batch)
            if self.on_progress is not None:
                self.on_progress()
            async with self._progress:
                self._progress.notify_all()

    async def _write_with_retries(self, batch: list[Event]) -> None:
        for attempt, delay in enumerate((*self.retry_delays, None)):
            try:
                result = await self.write_transaction(batch)
            except Exception as exc:
                if delay is None:
                    log.error(
                        "a batch of %d events failed %d times (%s); writing them one by one",
                        len(batch),
                        attempt + 1,
                        type(exc).__name__,
                    )
                    await self._write_one_by_one(batch)
                    return
                self.stats.retries += 1
                log.warning(
                    "a batch of %d events failed (%s: %s); retrying in %.2fs",
                    len(batch),
                    type(exc).__name__,
                    _short(exc),
                    delay,
                )
                await asyncio.sleep(delay)
            else:
                self._count(len(batch), result)
                if self._on_batch is not None:
                    await self._notify(batch, result)
                return

    async def _write_one_by_one(self, batch: list[Event]) -> None:
        for event in batch:
            try:
                result = await self.write_transaction([event])
            except Exception as exc:
                self.stats.failed += 1
                log.error(
                    "could not store %s: %s: %s", describe(event), type(exc).__name__, _short(exc)
                )
            else:
                self._count(1, result)

    def _count(self, events: int, result: BatchResult) -> None:
        self.stats.written += events
        self.stats.batches += 1
        self.stats.messages_new += result.messages_new
        self.stats.reactions_new += result.reactions_new

    async def _notify(self, batch: Sequence[Event], result: BatchResult) -> None:
        if self._on_batch is None:
            return
        try:
            await self._on_batch(batch, result)
        except Exception:
            log.exception("a batch listener failed; the batch itself is stored")

    async def write_transaction(self, events: Sequence[Event]) -> BatchResult:
        """Apply events in one transaction now, bypassing the queue (used by import)."""
        try:
            async with self.engine.begin() as conn:
                return await self.applier.apply(conn, events)
        except BaseException:
            # Rolled back: what the applier remembers of this batch was never stored.
            self.applier.forget_links()
            raise


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return text[:200]
