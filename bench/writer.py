"""Sustained throughput of the batching EventWriter against baselines measured in the same run.

The machine may be shared and noisy, so the figures that matter are ratios:

- raw: stdlib ``sqlite3`` ``executemany`` of the same message rows into the same schema with the
  same PRAGMAs, one commit per 500 rows (the physical limit on this disk and CPU);
- writer: ``EventWriter`` (batch size 500, rollups on) fed realistic ``MessageRecord``s through
  ``put``, timed from the first ``put`` until ``close`` returns;
- naive: one ORM insert and one commit per message (a smaller sample).

Run with ``python -m bench.writer [--messages N] [--naive N] [--repeat K] [--check]``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.domain.records import ChannelKind, ChannelRecord, GuildRecord, MessageRecord
from bot.domain.snowflakes import snowflake_at
from storage import migrate
from storage import tables as t
from storage.apply import _message_row
from storage.engine import create_engine, session_factory
from storage.writer import EventWriter

RAW_COMMIT_EVERY = 500
TARGET_VS_RAW = 0.4
TARGET_VS_NAIVE = 50.0
GUILD = 900_000_000_000_000_001
START = datetime(2026, 1, 5, tzinfo=UTC)
SPAN = timedelta(days=21)
ZONE = ZoneInfo("Europe/Berlin")
COLUMNS = [c.name for c in t.Message.__table__.columns]


def make_messages(n: int, *, seed: int = 7) -> list[MessageRecord]:
    """One guild, 20 channels, 2000 authors with Zipf-like activity, a third replies."""
    rng = random.Random(seed)
    channels = [GUILD + 1000 + i for i in range(20)]
    channel_weights = [1 / (i + 1) for i in range(len(channels))]
    authors = [GUILD + 10_000 + i for i in range(2000)]
    author_cum = []
    total = 0.0
    for rank in range(len(authors)):
        total += 1 / (rank + 1) ** 1.1
        author_cum.append(total)
    bots = set(rng.sample(authors[50:], 8))
    roles = [GUILD + 500 + i for i in range(10)]
    span_ms = int(SPAN.total_seconds() * 1000)
    offsets = sorted(rng.randrange(span_ms) for _ in range(n))
    picked_authors = rng.choices(authors, cum_weights=author_cum, k=n)
    picked_channels = rng.choices(channels, weights=channel_weights, k=n)
    recent: list[int] = []
    records = []
    for i, (offset, author, channel) in enumerate(
        zip(offsets, picked_authors, picked_channels, strict=True)
    ):
        at = START + timedelta(milliseconds=offset)
        mid = snowflake_at(at) + (i & 0x3FFFFF)
        is_bot = author in bots
        reply_to = rng.choice(recent) if recent and rng.random() < 1 / 3 else None
        roll = rng.random()
        mention_users = tuple(rng.sample(authors[:300], rng.randint(1, 3))) if roll < 0.1 else ()
        mention_roles = (rng.choice(roles),) if roll > 0.99 else ()
        question = not is_bot and rng.random() < 0.05
        records.append(
            MessageRecord(
                message_id=mid,
                guild_id=GUILD,
                channel_id=channel,
                author_id=author,
                created_at=at,
                is_bot=is_bot,
                counted=not is_bot and rng.random() < 0.97,
                reply_to_id=reply_to,
                mention_user_ids=mention_users,
                mention_role_ids=mention_roles,
                mentions_everyone=roll > 0.998,
                content="How do I get the role for the event next week?" if question else None,
            )
        )
        recent.append(mid)
        if len(recent) > 200:
            del recent[:100]
    return records


def raw_rows(records: Sequence[MessageRecord]) -> list[tuple[Any, ...]]:
    """The writer's ``messages`` rows as plain tuples, times as integer milliseconds."""
    rows = []
    for r in records:
        row = _message_row(r)
        rows.append(tuple(_plain(row[c]) for c in COLUMNS))
    return rows


def _plain(value: Any) -> Any:
    return t.to_millis(value) if isinstance(value, datetime) else value


def seed_events() -> list[Any]:
    now = START - timedelta(days=1)
    events: list[Any] = [GuildRecord(guild_id=GUILD, name="Bench guild", seen_at=now)]
    for i in range(20):
        events.append(
            ChannelRecord(GUILD, GUILD + 1000 + i, ChannelKind.TEXT, f"channel-{i}", position=i)
        )
    return events


async def make_template(path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()


def run_raw(db: Path, rows: list[tuple[Any, ...]]) -> float:
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        sql = (
            f"INSERT INTO messages ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
        )
        started = time.perf_counter()
        for i in range(0, len(rows), RAW_COMMIT_EVERY):
            conn.execute("BEGIN")
            conn.executemany(sql, rows[i : i + RAW_COMMIT_EVERY])
            conn.execute("COMMIT")
        elapsed = time.perf_counter() - started
        assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] == len(rows)
    finally:
        conn.close()
    return len(rows) / elapsed


async def run_writer(url: str, records: list[MessageRecord], **engine_args: Any) -> float:
    engine = create_engine(url, **engine_args)
    try:
        writer = EventWriter(engine)
        await writer.write_transaction(seed_events())
        await writer.start()
        writer.set_timezone(GUILD, ZONE)
        started = time.perf_counter()
        for record in records:
            await writer.put(record)
        await writer.close()
        elapsed = time.perf_counter() - started
        assert writer.stats.messages_new == len(records), writer.stats
        assert writer.stats.failed == 0, writer.stats
    finally:
        await engine.dispose()
    return len(records) / elapsed


async def run_naive(url: str, records: list[MessageRecord]) -> float:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            started = time.perf_counter()
            for r in records:
                session.add(t.Message(**_message_row(r)))
                await session.commit()
            elapsed = time.perf_counter() - started
    finally:
        await engine.dispose()
    return len(records) / elapsed


async def run_postgres(url: str, records: list[MessageRecord]) -> float:
    """The writer on PostgreSQL, in a throwaway schema that is dropped afterwards."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(parsed.render_as_string(hide_password=False))
    try:
        async with admin.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        scoped = {"connect_args": {"server_settings": {"search_path": schema}}}
        engine = create_engine(parsed.render_as_string(hide_password=False), **scoped)
        try:
            await migrate.upgrade(engine)
        finally:
            await engine.dispose()
        return await run_writer(parsed.render_as_string(hide_password=False), records, **scoped)
    finally:
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await admin.dispose()


def fresh_copy(template: Path, folder: Path, name: str) -> Path:
    target = folder / f"{name}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(template, target)
    return target


def peak_rss_kib() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak


def verdict(ratio: float, target: float) -> str:
    return "PASS" if ratio >= target else "FAIL"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000, help="raw and writer rows")
    parser.add_argument("--naive", type=int, default=2_000, help="rows for the naive baseline")
    parser.add_argument("--repeat", type=int, default=1, help="best of K runs of each")
    parser.add_argument("--postgres", metavar="URL", help="also run the writer on PostgreSQL")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)

    records = make_messages(args.messages)
    rows = raw_rows(records)
    naive_records = records[: args.naive]
    best = {"raw": 0.0, "writer": 0.0, "naive": 0.0}
    rss_growth = 0
    with tempfile.TemporaryDirectory(prefix="engagebot-bench-") as tmp:
        folder = Path(tmp)
        template = folder / "template.db"
        asyncio.run(make_template(template))
        for _ in range(max(args.repeat, 1)):
            db = fresh_copy(template, folder, "raw")
            best["raw"] = max(best["raw"], run_raw(db, rows))
            db = fresh_copy(template, folder, "writer")
            before = peak_rss_kib()
            rate = asyncio.run(run_writer(f"sqlite+aiosqlite:///{db}", records))
            rss_growth = max(rss_growth, peak_rss_kib() - before)
            best["writer"] = max(best["writer"], rate)
            db = fresh_copy(template, folder, "naive")
            rate = asyncio.run(run_naive(f"sqlite+aiosqlite:///{db}", naive_records))
            best["naive"] = max(best["naive"], rate)
        pg_rate = asyncio.run(run_postgres(args.postgres, records)) if args.postgres else None

    vs_raw = best["writer"] / best["raw"]
    vs_naive = best["writer"] / best["naive"]
    print(f"messages={args.messages} naive={args.naive} repeat={args.repeat} (best of runs)")
    print(f"{'run':<22}{'rows/s':>12}")
    print(f"{'raw sqlite3':<22}{best['raw']:>12,.0f}")
    print(f"{'EventWriter':<22}{best['writer']:>12,.0f}")
    print(f"{'naive ORM commit/row':<22}{best['naive']:>12,.0f}")
    if pg_rate is not None:
        print(f"{'EventWriter (pg)':<22}{pg_rate:>12,.0f}")
    print(
        f"writer/raw   {vs_raw:8.2f}x  target >= {TARGET_VS_RAW}x  {verdict(vs_raw, TARGET_VS_RAW)}"
    )
    print(
        f"writer/naive {vs_naive:8.1f}x  target >= {TARGET_VS_NAIVE:.0f}x  "
        f"{verdict(vs_naive, TARGET_VS_NAIVE)}"
    )
    print(f"memory: peak RSS grew by {rss_growth / 1024:.1f} MiB during the writer run")
    missed = vs_raw < TARGET_VS_RAW or vs_naive < TARGET_VS_NAIVE
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
