"""The writer in a process of its own, so that the gateway's process only turns events into records.

``ProcessWriter`` has the :class:`EventWriter`'s interface (``offer``, ``put``, ``put_many``,
``flush``, ``close``, ``stats``, ``pending``). Events are pickled in frames of up to
``FRAME_EVENTS`` and sent over a socket to a child process (``storage.writer_child``) that runs
an ordinary ``EventWriter`` on its own engine. Batching, rollups, question bookkeeping, answer
linking and SQLite itself then use a second core instead of competing with discord.py's parsers
for the first.

Nothing is lost when the child dies: the parent keeps every frame until the child reports it
written, starts a new child and sends it the frames again. Writes are idempotent, so a frame
applied twice stores nothing twice. Back-pressure is the ``EventWriter``'s: at most ``capacity``
events are on their way to the database at any time.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.records import Event
from storage import writer_child
from storage.rollups import UTC_ZONE
from storage.writer import (
    BATCH_SIZE,
    MAX_DELAY_SECONDS,
    QUEUE_CAPACITY,
    RETRY_DELAYS,
    Sources,
    WriterStats,
)
from storage.writer_child import COUNTED, encode, read_message

log = logging.getLogger(__name__)

FRAME_EVENTS = 256
"""Events per frame: a frame is sent once this many are waiting ..."""
FRAME_DELAY_SECONDS = 0.01
"""... or when the oldest has waited this long."""
RESTARTS = 5
"""Child processes started in a row without one of them writing anything: then the writer stops."""


class WriterProcessError(RuntimeError):
    """The writer process could not be started, or kept dying."""


def _child_environment() -> dict[str, str]:
    """The parent's environment, with this package importable however the parent found it."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (root, env.get("PYTHONPATH"))))
    return env


# -- the parent --------------------------------------------------------------------------------


class ProcessWriter(Sources):
    """Use as ``async with ProcessWriter(url) as writer:``; the same calls as ``EventWriter``."""

    def __init__(
        self,
        url: str,
        *,
        default_zone: ZoneInfo = UTC_ZONE,
        capacity: int = QUEUE_CAPACITY,
        max_delay: float = MAX_DELAY_SECONDS,
        frame_events: int = FRAME_EVENTS,
        batch_size: int = BATCH_SIZE,
        retry_delays: Sequence[float] = RETRY_DELAYS,
    ) -> None:
        if batch_size < 1 or capacity < batch_size:
            raise ValueError("need 1 <= batch_size <= capacity")
        super().__init__()
        self.url = url
        self._options = {"batch_size": batch_size, "retry_delays": tuple(retry_delays)}
        self.default_zone = default_zone
        self.capacity = capacity
        self.frame_events = frame_events
        self._max_delay = max_delay
        self._timezones: dict[int, str] = {}
        self._outbox: list[Event] = []
        self._outbox_waits = asyncio.Event()
        self._sender: asyncio.Task[None] | None = None
        self._unacked: deque[tuple[int, int, bytes]] = deque()
        """Frames sent and not yet reported written: their first and next sequence, their bytes."""
        self._framed = 0
        """Events sent in frames so far (the outbox's come next)."""
        self._acked = 0
        self._base = 0
        """The sequence number at which the running child started counting."""
        self._before = dict.fromkeys(COUNTED, 0)
        """Counts reported by earlier children (after a restart)."""
        self._current = dict.fromkeys(COUNTED, 0)
        self._waiting = 0
        self._changed = asyncio.Condition()
        self._process: Any = None
        self._stream: asyncio.StreamWriter | None = None
        self._listener: asyncio.Task[None] | None = None
        self._closing = False
        self._restarts = 0

    async def __aenter__(self) -> ProcessWriter:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- the EventWriter interface ----------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._process is not None

    @property
    def _queued(self) -> int:
        return self._framed + len(self._outbox)

    @property
    def pending(self) -> int:
        """Events accepted and not yet written."""
        return self._queued - self._acked

    @property
    def stats(self) -> WriterStats:
        counts = {name: self._before[name] + self._current[name] for name in COUNTED}
        return WriterStats(queued=self._queued, **counts)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def max_delay(self) -> float:
        return self._max_delay

    @max_delay.setter
    def max_delay(self, seconds: float) -> None:
        """How long a short batch may wait in the writer (applies to what follows)."""
        self._max_delay = seconds
        self._send(("delay", seconds))

    def set_timezone(self, guild_id: int, zone: ZoneInfo) -> None:
        self._timezones[guild_id] = zone.key
        self._send(("timezone", guild_id, zone.key))

    async def start(self) -> None:
        if self._process is not None:
            return
        self._closing = False
        await self._spawn()
        # Its own task, started here: a frame's short wait never runs on a caller's clock.
        self._sender = asyncio.create_task(self._send_frames(), name="engagebot-writer-frames")

    def offer(self, events: Sequence[Event]) -> bool:
        """Queue ``events`` now if they fit and nobody is waiting for space (so the order holds);
        False (nothing queued) otherwise: then ``put_many`` them."""
        if self._waiting or self.pending + len(events) > self.capacity:
            return False
        self._enqueue(events)
        return True

    async def put(self, event: Event) -> None:
        """Queue one event; waits (back-pressure) only while ``capacity`` events are pending."""
        if self.pending >= self.capacity or self._waiting:
            self._waiting += 1
            try:
                async with self._changed:
                    await self._changed.wait_for(
                        lambda: self.pending < self.capacity or self._process is None
                    )
            finally:
                self._waiting -= 1
        self._enqueue((event,))

    async def put_many(self, events: Sequence[Event]) -> None:
        for event in events:
            await self.put(event)

    async def flush(self) -> None:
        """Return once every event queued before this call is written (or reported failed)."""
        if self._process is None:
            raise RuntimeError("the writer is not running")
        self._drain_sources()
        target = self._queued
        if self._acked >= target:
            return
        self._send_outbox()
        self._send(("flush",))
        async with self._changed:
            await self._changed.wait_for(lambda: self._acked >= target or self._process is None)

    async def close(self) -> None:
        """Write everything still queued, then stop the writer process."""
        process = self._process
        if process is None:
            return
        self._drain_sources()
        self._closing = True
        self._send_outbox()
        self._send(("close",))
        listener = self._listener
        if listener is not None:
            await asyncio.shield(listener)
        try:
            await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            process.kill()
        self._stopped()
        if self.pending:
            log.error(
                "the writer process stopped; %d queued events were not written "
                "(gap recovery reads them again from Discord)",
                self.pending,
            )

    def kill(self) -> None:
        """Stop the writer process at once, as if the machine had lost power: what it had not
        written is lost (gap recovery reads it again from Discord at the next start)."""
        process = self._process
        if process is None:
            return
        self._closing = True
        process.kill()
        if self._listener is not None:
            self._listener.cancel()
        self._stopped()
        log.error(
            "the writer process was killed; %d queued events were not written "
            "(gap recovery reads them again from Discord)",
            self.pending,
        )

    # -- frames out --------------------------------------------------------------------------

    def _enqueue(self, events: Sequence[Event]) -> None:
        self._outbox.extend(events)
        if len(self._outbox) >= self.frame_events:
            self._send_outbox()
        else:
            self._outbox_waits.set()

    async def _send_frames(self) -> None:
        """Sends a short frame once its first event has waited ``FRAME_DELAY_SECONDS``."""
        while True:
            await self._outbox_waits.wait()
            await asyncio.sleep(FRAME_DELAY_SECONDS)
            self._outbox_waits.clear()
            if self._held:
                self._drain_sources()
            self._send_outbox()

    def _wake(self) -> None:
        self._outbox_waits.set()

    def _send_outbox(self) -> None:
        if not self._outbox:
            return
        events, self._outbox = self._outbox, []
        frame = encode(("events", events))
        start = self._framed
        self._framed += len(events)
        self._unacked.append((start, self._framed, frame))
        if self._stream is not None:
            self._stream.write(frame)

    def _send(self, message: tuple[Any, ...]) -> None:
        if self._stream is not None and not self._stream.is_closing():
            self._stream.write(encode(message))

    # -- the child's life --------------------------------------------------------------------

    async def _spawn(self) -> None:
        parent_end, child_end = socket.socketpair()
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                writer_child.__name__,
                str(child_end.fileno()),
                pass_fds=(child_end.fileno(),),
                stdin=asyncio.subprocess.DEVNULL,
                env=_child_environment(),
            )
        finally:
            child_end.close()
        reader, stream = await asyncio.open_connection(sock=parent_end)
        # The database URL (it may hold a password) goes over the socket, never on a command line.
        config = (
            "config",
            self.url,
            self.default_zone.key,
            self._max_delay,
            dict(self._timezones),
            logging.getLogger().getEffectiveLevel(),
            self._options | {"capacity": self.capacity},
        )
        stream.write(encode(config))
        hello = await read_message(reader)
        while hello is not None and hello[0] == "log":
            self._log(hello)
            hello = await read_message(reader)
        if hello != ("ready",):
            stream.close()
            code = await process.wait()
            raise WriterProcessError(f"the writer process did not start (exit code {code})")
        self._process, self._stream = process, stream
        # The new child counts from the first frame it is sent again.
        self._base = self._unacked[0][0] if self._unacked else self._acked
        self._current = dict.fromkeys(COUNTED, 0)
        for _, _, frame in self._unacked:
            stream.write(frame)
        if self._unacked:
            stream.write(encode(("flush",)))
        self._listener = asyncio.create_task(self._listen(reader), name="engagebot-writer-link")

    async def _listen(self, reader: asyncio.StreamReader) -> None:
        while (message := await read_message(reader)) is not None:
            kind = message[0]
            if kind == "progress":
                await self._progress(message[1], message[2])
            elif kind == "log":
                self._log(message)
        if self._closing:
            return
        process = self._process
        problem = f"exited (code {await process.wait() if process is not None else None})"
        self._before = {k: self._before[k] + self._current[k] for k in COUNTED}
        self._stream = None
        # A replacement that cannot start counts as dying too.
        while True:
            self._restarts += 1
            if self._restarts > RESTARTS:
                log.critical(
                    "the writer process keeps dying (last: %s); %d events were not written",
                    problem,
                    self.pending,
                )
                self._stopped()
                async with self._changed:
                    self._changed.notify_all()
                return
            log.error(
                "the writer process %s; starting another and sending it the %d events not "
                "yet written",
                problem,
                self.pending,
            )
            try:
                await self._spawn()
                return
            except (WriterProcessError, OSError) as exc:
                problem = f"did not start again ({type(exc).__name__}: {exc})"

    async def _progress(self, done: int, counts: tuple[int, ...]) -> None:
        if done:
            self._restarts = 0
        self._acked = max(self._acked, self._base + done)
        self._current = dict(zip(COUNTED, counts, strict=True))
        while self._unacked and self._unacked[0][1] <= self._acked:
            self._unacked.popleft()
        async with self._changed:
            self._changed.notify_all()

    @staticmethod
    def _log(message: tuple[Any, ...]) -> None:
        _, level, name, text = message
        logging.getLogger(name).log(level, "%s", text)

    def _stopped(self) -> None:
        if self._sender is not None:
            self._sender.cancel()
            self._sender = None
        if self._stream is not None:
            self._stream.close()
        self._stream = None
        self._process = None
        self._listener = None
