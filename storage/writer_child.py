"""The writer process's own program, and the frames it and the bot exchange.

``python -m storage.writer_child FD`` serves the bot on the socket FD: it reads its settings
from the first frame (the database URL never appears on a command line), runs an ordinary
:class:`EventWriter` on its own engine, writes the events it is sent, and reports progress and
its log records back. A frame is a 4-byte length and a pickle; records travel as their class
and field values.
"""

from __future__ import annotations

import asyncio
import copyreg
import functools
import io
import logging
import operator
import pickle
import signal
import socket
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import fields, is_dataclass
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain import records
from bot.domain.heap import settle_heap
from storage.engine import create_engine
from storage.writer import EventWriter, WriterStats

_HEADER = 4


# -- frames ------------------------------------------------------------------------------------


def _record_reducer(kind: type) -> Callable[[Any], tuple[Any, ...]]:
    """Records travel as their class and field values (the constructor rebuilds them), which is
    several times faster than dataclass pickling's per-field state."""
    names = [f.name for f in fields(kind)]
    values = (
        functools.partial(_one_field, names[0]) if len(names) == 1 else operator.attrgetter(*names)
    )

    def reduce(record: Any) -> tuple[Any, ...]:
        return kind, values(record)

    return reduce


def _one_field(name: str, obj: Any) -> tuple[Any, ...]:
    return (getattr(obj, name),)


class _Pickler(pickle.Pickler):
    # A table looked up by type, rather than ``reducer_override``, which pickle calls for every
    # object of a type it does not know, each record's times included.
    dispatch_table = copyreg.dispatch_table | {
        kind: _record_reducer(kind)
        for kind in vars(records).values()
        if isinstance(kind, type) and is_dataclass(kind) and kind.__module__ == records.__name__
    }


def encode(message: tuple[Any, ...]) -> bytes:
    buffer = io.BytesIO()
    buffer.write(bytes(_HEADER))
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(message)
    data = buffer.getbuffer()
    data[:_HEADER] = (len(data) - _HEADER).to_bytes(_HEADER, "big")
    return bytes(data)


async def read_message(reader: asyncio.StreamReader) -> tuple[Any, ...] | None:
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
    """``python -m storage.writer_child FD``: serve the parent on the socket FD."""
    # The parent decides when to stop (Ctrl+C and SIGTERM reach the whole process group): it
    # asks for what is queued to be written first, and if it dies, its socket closes.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    args = sys.argv[1:] if argv is None else argv
    sock = socket.socket(fileno=int(args[0]))
    asyncio.run(_serve(sock))


async def _serve(sock: socket.socket) -> None:
    reader, stream = await asyncio.open_connection(sock=sock)
    config = await read_message(reader)
    if config is None or config[0] != "config":
        return
    _, url, zone, max_delay, timezones, level, options = config

    def send(message: tuple[Any, ...]) -> None:
        if not stream.is_closing():
            stream.write(encode(message))

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
            # What is alive now (the libraries, the engine) stays out of later collections.
            settle_heap()
            send(("ready",))
            while (message := await read_message(reader)) is not None:
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


COUNTED = ("written", "batches", "retries", "failed", "messages_new", "reactions_new")
"""The writer's counts that progress reports carry, in this order."""


def _stats_tuple(stats: WriterStats) -> tuple[int, ...]:
    return tuple(getattr(stats, name) for name in COUNTED)


if __name__ == "__main__":
    main()
