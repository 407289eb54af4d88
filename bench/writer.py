"""The batching EventWriter's sustained rows/s against baselines measured in the same run.

raw: stdlib sqlite3 executemany of the same message rows into the same schema and PRAGMAs, one
commit per 500 rows (the physical limit). writer: EventWriter (batch 500, rollups on) fed
realistic MessageRecords through put(), from the first put until close() returns. naive: the same
work done the obvious way, ORM objects for each message, its mentions and its rollups, and one
commit per message. Shared machines are noisy, so the ratios are what count.

    python -m bench.writer [--messages N] [--naive N] [--repeat K] [--postgres URL] [--check]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
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
CHANNELS = [GUILD + 1000 + i for i in range(20)]
COLUMNS = [c.name for c in t.Message.__table__.columns]
RAW_INSERT = f"INSERT INTO messages ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"


def make_messages(n: int, *, seed: int = 7) -> list[MessageRecord]:
    """One guild, 20 channels, 2000 authors with Zipf-like activity, a third replies."""
    rng = random.Random(seed)
    channel_weights = [1 / (i + 1) for i in range(len(CHANNELS))]
    authors = [GUILD + 10_000 + i for i in range(2000)]
    author_cum = list(itertools.accumulate(1 / rank**1.1 for rank in range(1, len(authors) + 1)))
    bots = set(rng.sample(authors[50:], 8))
    roles = [GUILD + 500 + i for i in range(10)]
    span_ms = int(SPAN.total_seconds() * 1000)
    offsets = sorted(rng.randrange(span_ms) for _ in range(n))
    picked_authors = rng.choices(authors, cum_weights=author_cum, k=n)
    picked_channels = rng.choices(CHANNELS, weights=channel_weights, k=n)
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
    return [
        tuple(t.to_millis(v) if isinstance(v, datetime) else v for v in map(row.get, COLUMNS))
        for row in map(_message_row, records)
    ]


def seed_events() -> list[Any]:
    channels = [ChannelRecord(GUILD, c, ChannelKind.TEXT, f"channel-{c}") for c in CHANNELS]
    return [GuildRecord(GUILD, "Bench guild", START - timedelta(days=1)), *channels]


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
        started = time.perf_counter()
        for i in range(0, len(rows), RAW_COMMIT_EVERY):
            conn.execute("BEGIN")
            conn.executemany(RAW_INSERT, rows[i : i + RAW_COMMIT_EVERY])
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
    """What a bot without a writer does: per message, ORM rows for the message, its mentions
    and the same rollups (read, increment, write), then a commit."""
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            started = time.perf_counter()
            for r in records:
                session.add(t.Message(**_message_row(r)))
                for uid in set(r.mention_user_ids):
                    session.add(
                        t.MentionRow(
                            message_id=r.message_id, kind="user", target_id=uid, guild_id=r.guild_id
                        )
                    )
                if r.counted:
                    await _naive_rollups(session, r)
                await session.commit()
            elapsed = time.perf_counter() - started
    finally:
        await engine.dispose()
    return len(records) / elapsed


async def _naive_rollups(session: Any, r: MessageRecord) -> None:
    day = r.created_at.astimezone(ZONE).date()
    hour = r.created_at.replace(minute=0, second=0, microsecond=0)
    reply = r.reply_to_id is not None or (r.thread_id is not None and not r.is_thread_starter)
    for model, key, counters in (
        (
            t.GuildDay,
            (r.guild_id, day),
            {
                "messages": 1,
                "replies": int(reply),
                "top_level": int(not reply),
                "forwards": int(r.is_forward),
            },
        ),
        (t.MemberDay, (r.guild_id, day, r.author_id), {"messages": 1}),
        (t.ChannelDay, (r.guild_id, day, r.channel_id), {"messages": 1}),
        (t.GuildHour, (r.guild_id, hour), {"messages": 1}),
    ):
        row = await session.get(model, key)
        if row is None:
            names = [c.name for c in model.__table__.primary_key.columns]
            row = model(**dict(zip(names, key, strict=True)))
            for name in [c.name for c in model.__table__.columns]:
                if name not in names:
                    setattr(row, name, 0)
            session.add(row)
        for name, n in counters.items():
            setattr(row, name, getattr(row, name) + n)


async def run_postgres(url: str, records: list[MessageRecord]) -> float:
    """The writer on PostgreSQL, in a throwaway schema that is dropped afterwards."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    full_url, schema = parsed.render_as_string(hide_password=False), f"bench_{uuid.uuid4().hex}"
    admin = create_engine(full_url)
    try:
        async with admin.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        scoped = {"connect_args": {"server_settings": {"search_path": schema}}}
        engine = create_engine(full_url, **scoped)
        try:
            await migrate.upgrade(engine)
        finally:
            await engine.dispose()
        return await run_writer(full_url, records, **scoped)
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="EventWriter throughput against baselines")
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

    vs_raw, vs_naive = best["writer"] / best["raw"], best["writer"] / best["naive"]
    print(f"messages={args.messages} naive={args.naive} best of {args.repeat}")
    names = {"raw": "raw sqlite3", "writer": "EventWriter", "naive": "naive ORM commit/row"}
    table = [(names[key], rate) for key, rate in best.items()]
    if pg_rate is not None:
        table.append(("EventWriter (pg)", pg_rate))
    print(f"{'run':<22}{'rows/s':>12}")
    for name, rate in table:
        print(f"{name:<22}{rate:>12,.0f}")
    for name, ratio, target in (
        ("writer/raw", vs_raw, TARGET_VS_RAW),
        ("writer/naive", vs_naive, TARGET_VS_NAIVE),
    ):
        mark = "PASS" if ratio >= target else "FAIL"
        print(f"{name:<13}{ratio:8.2f}x  target >= {target:g}x  {mark}")
    print(f"memory: peak RSS grew by {rss_growth / 1024:.1f} MiB during the writer run")
    missed = vs_raw < TARGET_VS_RAW or vs_naive < TARGET_VS_NAIVE
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
