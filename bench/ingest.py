"""Messages/s of the bot's real ingest path against a bare discord.py client, in the same run.

Both clients get the same READY and GUILD_CREATE (one guild, 20 text channels, N members, all
cached) through discord.py's own parsers, then the same MESSAGE_CREATE payloads (replies with
author, member object, referenced message and the replied-to member as a user mention) through
``parse_message_create``, yielding to the event loop after each one as the gateway does.
bare: a discord.Client with the bot's intents and no listener (``on_message`` is dispatched to
nobody), timed from the first payload until the last is parsed and dispatched. bot: EngageBot
over open_resources() on SQLite, timed from the first payload until the writer has stored the
last message (then counted in the database). cogs.ingest is loaded once the guild is ready, so
the start-up catch-up (history over HTTP) does not run; the guild and channels it would record
are stored first. CPU is the bot's process's per message (its database thread included); by
default the bot writes in a second process (``[database] writer = "process"``), whose CPU per
message is reported apart ("writer proc"); ``--writer inline`` measures the writer as a task in
the bot's own process instead. Every run is a fresh process, so its resident memory is its own:
the member cache's cost (RSS before and after GUILD_CREATE, payload gone) and the growth while
ingesting (sampled every 10%). The default run offers more messages than the writer's buffer
holds: memory is bounded only if the back-pressure never leaves listener tasks waiting (each
holds a parsed message).

    python -m bench.ingest [--messages N] [--members N [N ...]] [--repeat K]
                           [--writer process|inline] [--check]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import logging
import logging.handlers
import multiprocessing
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import discord
from sqlalchemy import func, select

from bot.app import EngageBot, open_resources, required_intents
from bot.convert import channel_record, guild_record
from bot.domain.snowflakes import snowflake_at
from bot.settings import DatabaseSettings, DiscordSettings, Settings
from cogs.ingest import WAITING_FOR_WRITER
from storage import tables as t
from storage.writer import QUEUE_CAPACITY

TARGET_RATIO = 0.6
TARGET_MEMBER_EXTRA = 0.20
GUILD = 900_000_000_000_000_001
BOT_ID = 910_000_000_000_000_000
START = datetime(2026, 1, 5, 12, tzinfo=UTC)
CHANNELS = [GUILD + 1000 + i for i in range(20)]
ROLES = [GUILD + 500 + i for i in range(10)]
READY_TIMEOUT = 0.05
SAMPLES = 10
LISTENERS = frozenset({"discord.py: on_message", WAITING_FOR_WRITER})
FORMATS = (",.0f", ".1f", ".1f", ".2f", ".1f", ".1f")
LINES = [
    *("yeah that makes sense", "lol", "thanks! that worked", "same here", "nice one 🎉"),
    *("check the pinned messages, it's all there", "Is the server going to be down tonight?"),
    *("Does anyone know how to get the event role?", "restarting fixed it for me last week"),
    "I think it depends on which version you are running, the newer one changed the config",
]
MEMBER: dict[str, Any] = {"nick": None, "avatar": None, "premium_since": None, "deaf": False}
MEMBER |= {"mute": False, "pending": False, "flags": 0, "communication_disabled_until": None}
MESSAGE: dict[str, Any] = {"tts": False, "mention_everyone": False, "mention_roles": []}
MESSAGE |= {"attachments": [], "embeds": [], "pinned": False, "components": []}
MESSAGE |= {"edited_timestamp": None, "flags": 0}
GUILD_DATA: dict[str, Any] = {"id": str(GUILD), "name": "Bench guild", "large": True}
GUILD_DATA |= {"unavailable": False, "premium_tier": 1, "preferred_locale": "en-US"}
GUILD_DATA |= {"emojis": [], "stickers": [], "features": ["COMMUNITY"], "threads": []}
GUILD_DATA |= {"presences": [], "voice_states": [], "system_channel_flags": 0}


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def user(uid: int) -> dict[str, Any]:
    name = f"member_{uid % 10_000_000}"
    names = {"id": str(uid), "username": name, "global_name": name.title(), "discriminator": "0"}
    return names | {"avatar": f"{uid:032x}"[-32:], "public_flags": 0}


def member_fields(uid: int) -> dict[str, Any]:
    """A member object without its user, as a message's ``member`` carries it."""
    joined = iso(START - timedelta(days=30 + uid % 900))
    return {"roles": [str(r) for r in ROLES[: uid % 4]], "joined_at": joined} | MEMBER


def member_ids(n: int) -> list[int]:
    return [GUILD + 100_000 + i for i in range(n)]


def ready_payload() -> dict[str, Any]:
    me = user(BOT_ID) | {"bot": True, "verified": True, "mfa_enabled": False, "flags": 0}
    session = {"session_id": "bench", "resume_gateway_url": "wss://gateway.invalid"}
    guilds = [{"id": str(GUILD), "unavailable": True}]
    app = {"id": str(BOT_ID), "flags": 0}
    return session | {"v": 10, "user": me, "guilds": guilds, "shard": [0, 1], "application": app}


def guild_payload(n_members: int) -> dict[str, Any]:
    roles = [{"id": str(GUILD), "name": "@everyone", "permissions": "1071698660929"}] + [
        {"id": str(r), "name": f"role-{i}", "permissions": "0", "position": i + 1}
        for i, r in enumerate(ROLES)
    ]
    members = [{"user": user(uid)} | member_fields(uid) for uid in member_ids(n_members)]
    members.append({"user": user(BOT_ID) | {"bot": True}} | member_fields(BOT_ID))
    channels = [
        {"id": str(c), "type": 0, "name": f"channel-{i}", "position": i, "parent_id": None}
        | {"permission_overwrites": [], "nsfw": False, "topic": None, "rate_limit_per_user": 0}
        for i, c in enumerate(CHANNELS)
    ]
    extra = {"channels": channels, "joined_at": iso(START - timedelta(days=400))}
    extra |= {"roles": roles, "owner_id": str(member_ids(1)[0])}
    return GUILD_DATA | extra | {"members": members, "member_count": len(members)}


def message_payloads(n: int, n_members: int, *, seed: int = 7) -> list[dict[str, Any]]:
    """Replies to the channel's previous message, pinging its author; Zipf-like authors."""
    rng = random.Random(seed)
    ids = member_ids(n_members)
    users = {uid: user(uid) for uid in ids}
    fields = {uid: member_fields(uid) for uid in ids}
    cum = list(itertools.accumulate(1 / rank**1.1 for rank in range(1, n_members + 1)))
    authors = rng.choices(ids, cum_weights=cum, k=n)
    channels = rng.choices(CHANNELS, weights=[1 / (i + 1) for i in range(len(CHANNELS))], k=n)
    last: dict[int, dict[str, Any]] = {}
    payloads = []
    for i, (author, channel) in enumerate(zip(authors, channels, strict=True)):
        at = START + timedelta(milliseconds=i * 250)
        mid = snowflake_at(at) + i % 4096
        where = {"channel_id": str(channel), "guild_id": str(GUILD)}
        first = {"type": 0, "id": str(mid - 5000), "author": users[ids[i % 7]], "mentions": []}
        first |= {"content": "hello", "timestamp": iso(at - timedelta(seconds=1))}
        parent: dict[str, Any] = last.get(channel) or MESSAGE | where | first
        parent_author = int(parent["author"]["id"])
        reply = MESSAGE | where | {"type": 19, "id": str(mid), "author": users[author]}
        reply |= {"member": fields[author], "content": rng.choice(LINES), "timestamp": iso(at)}
        reply |= {"nonce": str(mid + 1), "referenced_message": parent}
        reply |= {"mentions": [users[parent_author] | {"member": fields[parent_author]}]}
        reply |= {"message_reference": {"type": 0, "message_id": parent["id"]} | where}
        payloads.append(reply)
        drop = ("referenced_message", "member", "nonce")
        last[channel] = {k: v for k, v in reply.items() if k not in drop} | {"mentions": []}
    return payloads


def process_cpu(pid: int | None) -> float:
    """CPU seconds (user + system) a process has used so far; 0 when there is none."""
    if pid is None:
        return 0.0
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib() -> int:
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * resource.getpagesize() // 1024
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


async def connect(client: discord.Client, guild: str, ready: str) -> float:
    """READY, then GUILD_CREATE decoded from JSON and parsed: the member cache's KiB per member
    once the payload is gone, as the gateway leaves it."""
    parsers = client._connection.parsers
    waiter = asyncio.ensure_future(client.wait_for(ready, timeout=30))
    await asyncio.sleep(0)
    parsers["READY"](ready_payload())
    gc.collect()
    before = rss_kib()
    parsers["GUILD_CREATE"](json.loads(guild))
    await waiter
    gc.collect()
    cached = client.get_guild(GUILD)
    assert cached is not None and cached.chunked, "the guild's members are not all cached"
    return (rss_kib() - before) / len(cached.members)


async def feed(
    client: discord.Client, payloads: list[dict[str, Any]], writer: Any = None
) -> dict[str, float]:
    parse: Any = client._connection.parse_message_create
    every = max(len(payloads) // SAMPLES, 1)
    gc.collect()
    rss = [rss_kib()]
    buffered = tasks = 0
    pid = getattr(writer, "pid", None)
    writer_cpu = process_cpu(pid)
    started, cpu = time.perf_counter(), time.process_time()
    for i, payload in enumerate(payloads, 1):
        parse(payload)
        await asyncio.sleep(0)
        if i % every == 0:
            rss.append(rss_kib())
            buffered = max(buffered, writer.pending if writer is not None else 0)
            tasks = max(tasks, sum(1 for t in asyncio.all_tasks() if t.get_name() in LISTENERS))
    while writer is not None:
        # A flush first queues the messages the bot holds, which may leave tasks waiting.
        await writer.flush()
        waiting = [t for t in asyncio.all_tasks() if t.get_name() in LISTENERS]
        if not waiting:
            break
        await asyncio.gather(*waiting)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    writer_cpu = process_cpu(pid) - writer_cpu
    rss.append(rss_kib())
    half, n = len(rss) // 2, len(payloads)
    growth, late = (max(rss) - rss[0]) / 1024, (max(rss[half:]) - rss[half]) / 1024
    result = {"rate": n / elapsed, "cpu_us": cpu / n * 1e6, "growth": growth, "late": late}
    result["writer_us"] = writer_cpu / n * 1e6
    return result | {"buffered": buffered, "tasks": tasks}


async def run_bare(guild: str, payloads: list[dict[str, Any]]) -> dict[str, float]:
    client = discord.Client(intents=required_intents(), guild_ready_timeout=READY_TIMEOUT)
    async with client:
        per_member = await connect(client, guild, "ready")
        result = await feed(client, payloads)
        last = client.cached_messages[-1]
        assert last.id == int(payloads[-1]["id"]) and last.reference is not None
    return result | {"member_kib": per_member}


async def run_bot(
    guild: str, payloads: list[dict[str, Any]], folder: Path, writer: str = "process"
) -> dict[str, float]:
    url = f"sqlite+aiosqlite:///{folder}/bench.db"
    database = DatabaseSettings(url=url, writer=writer)  # type: ignore[arg-type]
    settings = Settings(database=database, discord=DiscordSettings(shard_count=1))
    async with open_resources(settings) as resources:
        bot = EngageBot(resources, guild_ready_timeout=READY_TIMEOUT)
        async with bot:
            per_member = await connect(bot, guild, "shard_ready")
            await bot.load_extension("cogs.ingest")
            cached = bot.get_guild(GUILD)
            assert cached is not None and bot.get_cog("Ingest") is not None
            ingest = resources.services.ingest
            await ingest.guild_seen(guild_record(cached, discord.utils.utcnow()))
            await ingest.channels_seen([channel_record(c) for c in cached.channels])
            await ingest.view(GUILD)
            await resources.writer.flush()
            result = await feed(bot, payloads, resources.writer)
        async with resources.engine.connect() as conn:
            stored = await conn.scalar(select(func.count()).select_from(t.Message))
            mentions = await conn.scalar(select(func.count()).select_from(t.MentionRow))
        stats = resources.writer.stats
        assert stored == mentions == len(payloads), (stored, mentions, len(payloads))
        assert stats.failed == 0 and stats.messages_new == len(payloads), stats
    return result | {"member_kib": per_member}


def run_one(
    kind: str, n_members: int, n_messages: int, folder: str, writer: str
) -> dict[str, float]:
    """One measured run, in its own process."""
    errors = logging.handlers.BufferingHandler(capacity=1_000_000)
    errors.setLevel(logging.ERROR)
    logging.getLogger().addHandler(errors)
    guild = json.dumps(guild_payload(n_members))
    payloads = message_payloads(n_messages, n_members)
    if kind == "bare":
        result = asyncio.run(run_bare(guild, payloads))
    else:
        result = asyncio.run(run_bot(guild, payloads, Path(folder), writer))
    assert not errors.buffer, [errors.format(r) for r in errors.buffer]
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="bot ingest path against a bare discord.py")
    parser.add_argument("--messages", type=int, default=30_000, help="MESSAGE_CREATE per run")
    parser.add_argument("--members", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--repeat", type=int, default=1, help="best of K runs of each")
    parser.add_argument("--writer", choices=("process", "inline"), default="process")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)

    runs: dict[tuple[str, int], list[dict[str, float]]] = {}
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="engagebot-bench-") as tmp:
        plan = itertools.product(range(max(args.repeat, 1)), args.members, ("bare", "bot"))
        for repeat, members, kind in plan:
            folder = Path(tmp, f"{kind}-{members}-{repeat}")
            folder.mkdir()
            with ProcessPoolExecutor(1, mp_context=context) as pool:
                job = pool.submit(run_one, kind, members, args.messages, str(folder), args.writer)
                runs.setdefault((kind, members), []).append(job.result())

    print(
        f"messages={args.messages}, writer={args.writer}; "
        f"msgs/s best of {args.repeat}, the rest medians"
    )
    columns = ("msgs/s", "CPU us/msg", "writer proc", "KiB/member", "RSS +MiB", "2nd half")
    print(f"{'run':<12}" + "".join(f"{c:>12}" for c in columns))
    missed = False
    for members in args.members:
        size, got = f"{members / 1000:g}k", {}
        for kind in ("bare", "bot"):
            results = runs[(kind, members)]
            got[kind] = {key: statistics.median(r[key] for r in results) for key in results[0]}
            got[kind]["rate"] = max(r["rate"] for r in results)
            keys = ("rate", "cpu_us", "writer_us", "member_kib", "growth", "late")
            row = zip(keys, FORMATS, strict=True)
            print(f"{kind + ' ' + size:<12}" + "".join(f"{got[kind][k]:>12{f}}" for k, f in row))
        bare, bot = got["bare"], got["bot"]
        ratio, extra = bot["rate"] / bare["rate"], bot["member_kib"] / bare["member_kib"] - 1
        ok_ratio, ok_extra = ratio >= TARGET_RATIO, extra < TARGET_MEMBER_EXTRA
        missed |= not (ok_ratio and ok_extra)
        print(
            f"  {size} bot/bare {ratio:.2f}x (by CPU {bare['cpu_us'] / bot['cpu_us']:.2f}x), "
            f"target >= {TARGET_RATIO:g}x: {'PASS' if ok_ratio else 'FAIL'}"
        )
        print(
            f"  {size} member cache {extra:+.1%} over discord.py's own, "
            f"target < {TARGET_MEMBER_EXTRA:.0%}: {'PASS' if ok_extra else 'FAIL'}"
        )
        bot_runs = runs[("bot", members)]
        buffered, tasks = max(r["buffered"] for r in bot_runs), max(r["tasks"] for r in bot_runs)
        missed |= tasks > 0
        print(
            f"  {size} peaks: writer buffer {buffered:,.0f} of {QUEUE_CAPACITY:,} events, "
            f"listener tasks waiting {tasks:,.0f} (must be 0): {'FAIL' if tasks else 'PASS'}"
        )
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
