"""The writer in a process of its own, so that the gateway's process only turns events into records.

``ProcessWriter`` has the :class:`EventWriter`'s interface (``offer``, ``put``, ``put_many``,
``flush``, ``close``, ``stats``, ``pending``). Events are pickled in frames of up to
``FRAME_EVENTS`` and sent over a socket to a child process that runs an ordinary ``EventWriter``
on its own engine. Batching, rollups, question bookkeeping, answer linking and SQLite itself then
use a second core instead of competing with discord.py's parsers for the first.

Nothing is lost when the child dies: the parent keeps every frame until the child reports it
written, starts a new child and sends it the frames again. Writes are idempotent, so a frame
applied twice stores nothing twice. Back-pressure is the ``EventWriter``'s: at most ``capacity``
events are on their way to the database at any time.
"""

from __future__ import annotations

import asyncio
import functools
import io
import logging
import operator
import os
import pickle
import signal
import socket
import sys
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain import records
from bot.domain.records import Event
from storage.engine import create_engine
from storage.rollups import UTC_ZONE
from storage.writer import (
    BATCH_SIZE,
    MAX_DELAY_SECONDS,
    QUEUE_CAPACITY,
    RETRY_DELAYS,
    EventWriter,
    WriterStats,
)

log = logging.getLogger(__name__)

FRAME_EVENTS = 256
"""Events per frame: a frame is sent once this many are waiting ..."""
FRAME_DELAY_SECONDS = 0.01
"""... or when the oldest has waited this long."""
RESTARTS = 5
"""Child processes started in a row without one of them writing anything: then the writer stops."""
_HEADER = 4


class WriterProcessError(RuntimeError):
    """The writer process could not be started, or kept dying."""


# -- frames ------------------------------------------------------------------------------------


_FIELDS: dict[type, Callable[[Any], tuple[Any, ...]] | None] = {}


def _record_fields(kind: type) -> Callable[[Any], tuple[Any, ...]] | None:
    """Records travel as their class and field values (the constructor rebuilds them), which is
    several times faster than dataclass pickling's per-field state."""
    if kind in _FIELDS:
        return _FIELDS[kind]
    values: Callable[[Any], tuple[Any, ...]] | None = None
    if is_dataclass(kind) and kind.__module__ == records.__name__:
        names = [f.name for f in fields(kind)]
        if len(names) == 1:
            values = functools.partial(_one_field, names[0])
        else:
            values = operator.attrgetter(*names)
    _FIELDS[kind] = values
    return values


def _one_field(name: str, obj: Any) -> tuple[Any, ...]:
    return (getattr(obj, name),)


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        values = _record_fields(type(obj))
        if values is None:
            return NotImplemented
        return type(obj), values(obj)


def _frame(message: tuple[Any, ...]) -> bytes:
    buffer = io.BytesIO()
    buffer.write(bytes(_HEADER))
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(message)
    data = buffer.getbuffer()
    data[:_HEADER] = (len(data) - _HEADER).to_bytes(_HEADER, "big")
    return bytes(data)


async def _read(reader: asyncio.StreamReader) -> tuple[Any, ...] | None:
    """The next message, or None once the other side has gone."""
    try:
        header = await reader.readexactly(_HEADER)
        body = await reader.readexactly(int.from_bytes(header, "big"))
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    # Only ever from our own parent or child, over a private socket pair.
    message: tuple[Any, ...] = pickle.loads(body)  # noqa: S301
    return message


# -- the child ---------------------------------------------------------------------------------


class _ForwardLogs(logging.Handler):
    """The child's log records, sent to the parent, which logs them with its own handlers."""

    def __init__(self, send: Callable[[tuple[Any, ...]], None], loop: asyncio.AbstractEventLoop):
        super().__init__()
        self._send = send
        self._loop = loop
        self._thread = threading.get_ident()

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text = f"{text}\n{logging.Formatter().formatException(record.exc_info)}"
        message = ("log", record.levelno, record.name, text)
        if threading.get_ident() == self._thread:
            self._send(message)
        else:
            self._loop.call_soon_threadsafe(self._send, message)


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m storage.writer_process FD``: serve the parent on the socket FD."""
    # The parent decides when to stop (Ctrl+C and SIGTERM reach the whole process group): it
    # asks for what is queued to be written first, and if it dies, its socket closes.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    args = sys.argv[1:] if argv is None else argv
    sock = socket.socket(fileno=int(args[0]))
    asyncio.run(_serve(sock))


async def _serve(sock: socket.socket) -> None:
    reader, stream = await asyncio.open_connection(sock=sock)
    config = await _read(reader)
    if config is None or config[0] != "config":
        return
    _, url, zone, max_delay, timezones, level, options = config

    def send(message: tuple[Any, ...]) -> None:
        if not stream.is_closing():
            stream.write(_frame(message))

    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(_ForwardLogs(send, asyncio.get_running_loop()))
    root.setLevel(level)

    engine = create_engine(url)
    writer = EventWriter(engine, default_zone=ZoneInfo(zone), max_delay=max_delay, **options)

    def progress() -> None:
        stats = writer.stats
        send(("progress", stats.written + stats.failed, _stats_tuple(stats)))

    writer.on_progress = progress
    flushes: set[asyncio.Task[None]] = set()
    try:
        for guild_id, key in timezones.items():
            writer.set_timezone(guild_id, ZoneInfo(key))
        async with writer:
            send(("ready",))
            while (message := await _read(reader)) is not None:
                kind = message[0]
                if kind == "events":
                    await writer.put_many(message[1])
                elif kind == "flush":
                    task = asyncio.create_task(writer.flush())
                    flushes.add(task)
                    task.add_done_callback(flushes.discard)
                elif kind == "timezone":
                    writer.set_timezone(message[1], ZoneInfo(message[2]))
                elif kind == "delay":
                    writer.max_delay = message[1]
                elif kind == "close":
                    break
        # Closing wrote everything queued (or reported it failed).
        progress()
        send(("closed",))
        await stream.drain()
    finally:
        stream.close()
        await engine.dispose()


def _stats_tuple(stats: WriterStats) -> tuple[int, ...]:
    return (
        stats.written,
        stats.batches,
        stats.retries,
        stats.failed,
        stats.messages_new,
        stats.reactions_new,
    )


_COUNTED = ("written", "batches", "retries", "failed", "messages_new", "reactions_new")


def _child_environment() -> dict[str, str]:
    """The parent's environment, with this package importable however the parent found it."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (root, env.get("PYTHONPATH"))))
    return env


# -- the parent --------------------------------------------------------------------------------


class ProcessWriter:
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
        self._queued = 0
        self._framed = 0
        self._acked = 0
        self._base = 0
        """The sequence number at which the running child started counting."""
        self._before = dict.fromkeys(_COUNTED, 0)
        """Counts reported by earlier children (after a restart)."""
        self._current = dict.fromkeys(_COUNTED, 0)
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
    def pending(self) -> int:
        """Events accepted and not yet written."""
        return self._queued - self._acked

    @property
    def stats(self) -> WriterStats:
        counts = {name: self._before[name] + self._current[name] for name in _COUNTED}
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
        self._queued += len(events)
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
            self._send_outbox()

    def _send_outbox(self) -> None:
        if not self._outbox:
            return
        events, self._outbox = self._outbox, []
        frame = _frame(("events", events))
        start = self._framed
        self._framed += len(events)
        self._unacked.append((start, self._framed, frame))
        if self._stream is not None:
            self._stream.write(frame)

    def _send(self, message: tuple[Any, ...]) -> None:
        if self._stream is not None and not self._stream.is_closing():
            self._stream.write(_frame(message))

    # -- the child's life --------------------------------------------------------------------

    async def _spawn(self) -> None:
        parent_end, child_end = socket.socketpair()
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                __name__,
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
        stream.write(_frame(config))
        hello = await _read(reader)
        while hello is not None and hello[0] == "log":
            self._log(hello)
            hello = await _read(reader)
        if hello != ("ready",):
            stream.close()
            code = await process.wait()
            raise WriterProcessError(f"the writer process did not start (exit code {code})")
        self._process, self._stream = process, stream
        # The new child counts from the first frame it is sent again.
        self._base = self._unacked[0][0] if self._unacked else self._acked
        self._current = dict.fromkeys(_COUNTED, 0)
        for _, _, frame in self._unacked:
            stream.write(frame)
        if self._unacked:
            stream.write(_frame(("flush",)))
        self._listener = asyncio.create_task(self._listen(reader), name="engagebot-writer-link")

    async def _listen(self, reader: asyncio.StreamReader) -> None:
        while (message := await _read(reader)) is not None:
            kind = message[0]
            if kind == "progress":
                await self._progress(message[1], message[2])
            elif kind == "log":
                self._log(message)
        if self._closing:
            return
        process = self._process
        code = await process.wait() if process is not None else None
        self._restarts += 1
        if self._restarts > RESTARTS:
            log.critical(
                "the writer process keeps dying (exit code %s); %d events were not written",
                code,
                self.pending,
            )
            self._stopped()
            async with self._changed:
                self._changed.notify_all()
            return
        log.error(
            "the writer process exited (code %s); starting another and sending it the %d "
            "events not yet written",
            code,
            self.pending,
        )
        self._before = {k: self._before[k] + self._current[k] for k in _COUNTED}
        self._stream = None
        await self._spawn()

    async def _progress(self, done: int, counts: tuple[int, ...]) -> None:
        if done:
            self._restarts = 0
        self._acked = max(self._acked, self._base + done)
        self._current = dict(zip(_COUNTED, counts, strict=True))
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


if __name__ == "__main__":
    main()
