"""The weekly overview from rollups on a 1M- and a 10M-message history, against a message scan.

Each history is one guild (Europe/Berlin, weeks from Monday) over a year, written straight into
a migrated SQLite file: the ``messages`` rows and, consistent with them, the rollups
(``guild_days``, ``member_days``, ``channel_days``, ``guild_hours``), plus ``members``,
``member_events`` (135,000 identities: 80,000 members from before the year, about 150 joins and
100 leaves a day, about 100,000 members at the end) and ``questions`` with first responses.

The community: a quarter of the members ever post, with a long-tailed daily propensity (rank
to the power -0.6, about 1,500 active a day), chattiness that is long-tailed too (lognormal),
a diurnal rhythm, 40 channels (Zipf), replies, threads and forwards; 4% of active member-days
ask a question, 85% of questions get a first response (lognormal delay), some by staff.
Reactions are not generated (applause reads the same ``guild_days`` row either way).

By default the two histories are the same community (who is active on which day, questions,
joins and leaves are identical) and the bigger one is 10 times chattier (more messages per
active member-day): so the comparison isolates the size of the history, which the overview
must not depend on. With ``--growth participation`` the extra messages come from more active
members instead, which a period's figures must read (distinct members are counted, exactly).

Timed, warm, best of K: ``StatsService.overview`` for last week (with its previous week), and
the same activity figures computed by straightforward SQL aggregation over ``messages`` (counts
by kind, DAU per day, active members and communicators, WAU and MAU over 28 days, top channels
and members, for both weeks) through the same driver. The scan's figures must equal the
overview's. Printed as ratios: overview 10M/1M (target <= 1.3) and scan/overview at the
largest size (target >= 20).

    python bench/stats.py [--sizes 1000000,10000000] [--repeat K] [--growth G] [--check]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bot.domain import periods  # noqa: E402
from bot.domain.metrics import Overview  # noqa: E402
from bot.domain.periods import Period  # noqa: E402
from bot.domain.snowflakes import DISCORD_EPOCH_MS, snowflake_at  # noqa: E402
from bot.services.stats import StatsService  # noqa: E402
from storage import migrate  # noqa: E402
from storage import tables as t  # noqa: E402
from storage.engine import create_engine  # noqa: E402

TARGET_SIZE_RATIO = 1.3
TARGET_SCAN_RATIO = 20.0
GUILD = 900_000_000_000_000_001
ZONE = "Europe/Berlin"
FIRST_DAY = date(2025, 3, 31)  # a Monday, a year before NOW
NOW = datetime(2026, 4, 1, 10, tzinfo=UTC)  # a Wednesday: last week is 2026-03-23..29
USER_BASE = 1_000_000_000_000
PRIOR, JOINERS, PRIOR_LEAVES, JOINER_LEAVES = 80_000, 55_000, 18_000, 18_000
POSTER_SHARE, ALPHA, DAILY_ACTIVE = 0.25, 0.6, 1_500
CHANNELS, STAFF, QUESTION_SHARE = 40, 25, 0.04
HOURS = np.array(
    [1, .6, .4, .3, .3, .4, .7, 1.2, 1.8, 2.2, 2.4, 2.5, 2.6, 2.6, 2.6, 2.7, 2.9, 3.2, 3.5,
     3.7, 3.6, 3.1, 2.4, 1.6]
)  # fmt: skip
DAY_MS, HOUR_MS, WEEK_MS = 86_400_000, 3_600_000, 604_800_000
NEVER = np.iinfo(np.int64).max
MESSAGE_COLUMNS = [c.name for c in t.Message.__table__.columns]
MESSAGE_DEFAULTS = {c.name: None if c.nullable else 0 for c in t.Message.__table__.columns}
MESSAGE_DEFAULTS["counted"] = 1


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@dataclass
class Community:
    """Who is in the guild when, who posts how much: the same for every history size."""

    joined: Any  # int64 ms per identity
    left: Any  # int64 ms per identity, NEVER if still here
    posters: Any  # identity indexes
    propensity: Any  # daily probability of being active, per poster
    chattiness: Any  # relative messages per active day, per poster
    staff: Any  # identity indexes


def community(seed: int = 1) -> Community:
    rng = np.random.default_rng(seed)
    first, now = ms(periods.local_midnight(FIRST_DAY, ZONE)), ms(NOW)
    joined = np.concatenate(
        [
            rng.integers(ms(datetime(2021, 1, 1, tzinfo=UTC)), first, PRIOR),
            np.sort(rng.integers(first, now, JOINERS)),
        ]
    )
    left = np.full(PRIOR + JOINERS, NEVER, dtype=np.int64)
    gone = rng.choice(PRIOR, PRIOR_LEAVES, replace=False)
    left[gone] = rng.integers(first, now, PRIOR_LEAVES)
    gone = PRIOR + rng.choice(JOINERS, JOINER_LEAVES, replace=False)
    stay = np.where(rng.random(JOINER_LEAVES) < 0.3, rng.random(JOINER_LEAVES) * 7,
                    rng.exponential(60, JOINER_LEAVES))  # fmt: skip
    leave_at = joined[gone] + (stay * DAY_MS).astype(np.int64)
    left[gone] = np.where(leave_at < now, leave_at, NEVER)
    posters = rng.choice(PRIOR + JOINERS, int((PRIOR + JOINERS) * POSTER_SHARE), replace=False)
    rank = np.arange(1, len(posters) + 1, dtype=np.float64)
    weight = rank**-ALPHA
    propensity = np.minimum(0.95, weight * DAILY_ACTIVE / weight.sum())
    chattiness = np.sqrt(propensity) * rng.lognormal(0, 1.0, len(posters))
    return Community(joined, left, posters, propensity, chattiness, posters[:STAFF])


def days() -> list[date]:
    """The year's local days, up to and including NOW's (cut at NOW)."""
    today = periods.local_today(NOW, ZONE)
    return [FIRST_DAY + timedelta(days=i) for i in range((today - FIRST_DAY).days + 1)]


def day_bounds(day: date) -> tuple[int, int]:
    start = ms(periods.local_midnight(day, ZONE))
    return start, min(ms(periods.local_midnight(day + timedelta(days=1), ZONE)), ms(NOW))


def present(c: Community, start: int, end: int) -> Any:
    """Posters who are members for the whole of a day (joiners post from their second day)."""
    return (c.joined[c.posters] <= start) & (c.left[c.posters] >= end)


def expected_days(c: Community, participation: float) -> tuple[float, float]:
    """Expected active member-days over the year, and the same weighted by chattiness."""
    member_days = weighted = 0.0
    for day in days():
        p = np.minimum(0.95, c.propensity * participation) * present(c, *day_bounds(day))
        member_days += p.sum()
        weighted += (p * c.chattiness).sum()
    return member_days, weighted


def build(path: Path, c: Community, messages: int, participation: float) -> int:
    """Write one history of about ``messages`` messages; returns how many were written."""
    asyncio.run(migrate_file(path))
    member_days, weighted = expected_days(c, participation)
    scale = max(messages - member_days, 0.0) / weighted
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-1000000")
    indexes = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages' "
        "AND sql IS NOT NULL"
    ).fetchall()
    for name, _ in indexes:
        db.execute(f"DROP INDEX {name}")
    db.execute("BEGIN")
    db.execute(
        "INSERT INTO guilds (id, name, first_seen_at, timezone) VALUES (?, 'bench', ?, ?)",
        (GUILD, ms(datetime(2021, 1, 1, tzinfo=UTC)), ZONE),
    )
    _members(db, c)
    db.execute("COMMIT")
    part_rng, talk_rng, ask_rng = (np.random.default_rng(s) for s in (2, 3, 4))
    insert = (
        f"INSERT INTO messages ({', '.join(MESSAGE_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(MESSAGE_COLUMNS))})"
    )
    channel_p = 1 / np.arange(1, CHANNELS + 1)
    channel_p /= channel_p.sum()
    total, seq = 0, 0
    for day in days():
        start, end = day_bounds(day)
        p = np.minimum(0.95, c.propensity * participation)
        active = np.flatnonzero((part_rng.random(len(p)) < p) & present(c, start, end))
        asks = part_rng.random(len(active)) < QUESTION_SHARE
        k = 1 + talk_rng.poisson(c.chattiness[active] * scale)
        m = int(k.sum())
        hour = talk_rng.choice(24, m, p=HOURS / HOURS.sum())
        at = start + np.minimum(hour * HOUR_MS + talk_rng.integers(0, HOUR_MS, m), end - start - 1)
        order = np.argsort(at, kind="stable")
        at = at[order]
        authors = (USER_BASE + c.posters[active]).repeat(k)[order]
        ids = ((at - DISCORD_EPOCH_MS) << 22) + ((seq + np.arange(m)) & 0x3FFFFF)
        seq += m
        channel = talk_rng.choice(CHANNELS, m, p=channel_p)
        i = np.arange(m)
        reply = (talk_rng.random(m) < 0.3) & (i >= 20)
        reply_to = np.where(reply, ids[np.maximum(i - talk_rng.integers(1, 21, m), 0)], 0)
        threaded = (talk_rng.random(m) < 0.08) & (i >= 50) & ~reply
        parent = np.maximum(i - talk_rng.integers(1, 51, m), 0)
        thread = np.where(threaded, ids[parent], 0)
        channel = np.where(threaded, channel[parent], channel) + GUILD + 1000
        forward = (talk_rng.random(m) < 0.02) & ~threaded
        staff = np.isin(authors, USER_BASE + c.staff)
        values = {
            "id": ids.tolist(), "guild_id": [GUILD] * m, "channel_id": channel.tolist(),
            "thread_id": [v or None for v in thread.tolist()], "author_id": authors.tolist(),
            "created_at": at.tolist(), "reply_to_id": [v or None for v in reply_to.tolist()],
            "is_forward": forward.tolist(), "author_is_staff": staff.tolist(),
        }  # fmt: skip
        rows = zip(
            *(values.get(n, [MESSAGE_DEFAULTS[n]] * m) for n in MESSAGE_COLUMNS), strict=True
        )
        db.execute("BEGIN")
        db.executemany(insert, rows)
        _rollups(db, day, active, k, c, channel, at, threaded, reply, forward, thread)
        _questions(db, ask_rng, c, active[asks], authors, ids, at, channel)
        db.execute("COMMIT")
        total += m
    for _, sql in indexes:
        db.execute(sql)
    db.close()
    return total


async def migrate_file(path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    await migrate.upgrade(engine)
    await engine.dispose()


def _members(db: sqlite3.Connection, c: Community) -> None:
    staff = set(c.staff.tolist())
    left = [None if v == NEVER else v for v in c.left.tolist()]
    db.executemany(
        "INSERT INTO members (guild_id, user_id, is_bot, is_staff, joined_at, left_at) "
        "VALUES (?, ?, 0, ?, ?, ?)",
        (
            (GUILD, USER_BASE + i, i in staff, j, lv)
            for i, (j, lv) in enumerate(zip(c.joined.tolist(), left, strict=True))
        ),
    )
    events = [(GUILD, USER_BASE + i, "join", j) for i, j in enumerate(c.joined.tolist())]
    events += [(GUILD, USER_BASE + i, "leave", lv) for i, lv in enumerate(left) if lv is not None]
    db.executemany(
        "INSERT INTO member_events (guild_id, user_id, kind, at) VALUES (?, ?, ?, ?)",
        sorted(events, key=lambda e: e[3]),
    )


def _rollups(db: sqlite3.Connection, day: date, active: Any, k: Any, c: Community,
             channel: Any, at: Any, threaded: Any, reply: Any, forward: Any,
             thread: Any) -> None:  # fmt: skip
    iso, m = day.isoformat(), len(at)
    replies = int((reply | threaded).sum())
    threads = len(np.unique(thread[threaded]))
    db.execute(
        "INSERT INTO guild_days (guild_id, day, messages, top_level, replies, threads_started, "
        "forwards, reactions_received) VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
        (GUILD, iso, m, m - replies, replies, threads, int(forward.sum())),
    )
    users = USER_BASE + c.posters[active]
    order = np.argsort(users)
    db.executemany(
        "INSERT INTO member_days (guild_id, day, user_id, messages) VALUES (?, ?, ?, ?)",
        ((GUILD, iso, u, n) for u, n in zip(users[order].tolist(), k[order].tolist(), strict=True)),
    )
    ids, counts = np.unique(channel, return_counts=True)
    db.executemany(
        "INSERT INTO channel_days (guild_id, day, channel_id, messages) VALUES (?, ?, ?, ?)",
        ((GUILD, iso, i, n) for i, n in zip(ids.tolist(), counts.tolist(), strict=True)),
    )
    hours, counts = np.unique(at // HOUR_MS, return_counts=True)
    db.executemany(
        "INSERT INTO guild_hours (guild_id, hour, messages) VALUES (?, ?, ?) "
        "ON CONFLICT (guild_id, hour) DO UPDATE "
        "SET messages = messages + excluded.messages",
        ((GUILD, h * HOUR_MS, n) for h, n in zip(hours.tolist(), counts.tolist(), strict=True)),
    )


QUESTION_COLUMNS = (
    "message_id, guild_id, channel_id, asker_id, asked_at, source, target_minutes, state, "
    "first_response_at, first_responder_id, first_response_by_staff, first_staff_response_at, "
    "resolved_at, withdrawn_at"
)


def _questions(db: sqlite3.Connection, rng: Any, c: Community, askers: Any, authors: Any,
               ids: Any, at: Any, channel: Any) -> None:  # fmt: skip
    """Each asking member-day's first message is a question."""
    first_of, first_at = np.unique(authors, return_index=True)
    rows = []
    for j in first_at[np.isin(first_of, USER_BASE + c.posters[askers])].tolist():
        asked, roll = int(at[j]), rng.random()
        state, first, who, staff, staff_at, resolved, withdrawn = ("open", *[None] * 6)
        if roll < 0.85:
            first = asked + int(rng.lognormal(3.5, 1.6) * 60_000) + 30_000
            staff = bool(rng.random() < 0.4)
            who = USER_BASE + int(rng.choice(c.staff if staff else c.posters[:2000]))
            state, staff_at = "answered", first if staff else None
            if not staff and rng.random() < 0.3:
                staff_at = first + int(rng.exponential(4 * HOUR_MS))
            if rng.random() < 0.4:
                state, resolved = "resolved", first + int(rng.exponential(HOUR_MS))
        elif roll < 0.88:
            state, withdrawn = "withdrawn", asked + 60_000
        rows.append(
            (int(ids[j]), GUILD, int(channel[j]), int(authors[j]), asked, "detected", 60, state,
             first, who, staff, staff_at, resolved, withdrawn)
        )  # fmt: skip
    db.executemany(
        f"INSERT INTO questions ({QUESTION_COLUMNS}) VALUES ({', '.join('?' * 14)})", rows
    )


async def time_overview(url: str, repeat: int) -> tuple[float, Overview]:
    engine = create_engine(url)
    service = StatsService(engine, lambda: NOW)
    overview = await service.overview(GUILD)  # warm: caches, statements, pages
    best = float("inf")
    for _ in range(repeat):
        began = time.perf_counter()
        overview = await service.overview(GUILD)
        best = min(best, time.perf_counter() - began)
    await engine.dispose()
    return best, overview


SCAN_WHERE = "guild_id = :g AND counted AND id >= :lo AND id < :hi"


async def scan_period(conn: Any, period: Period) -> dict[str, Any]:
    """The activity figures of a period straight from ``messages`` (rowid = snowflake range)."""
    lo, hi = snowflake_at(period.start), snowflake_at(period.end)
    mau_lo = snowflake_at(periods.local_midnight(period.end_day - timedelta(days=28), ZONE))
    wau_lo = snowflake_at(periods.local_midnight(period.end_day - timedelta(days=7), ZONE))
    args = {"g": GUILD, "lo": lo, "hi": hi}
    run = conn.execute
    counts = (await run(text(
        "SELECT count(*), coalesce(sum(reply_to_id IS NULL AND (thread_id IS NULL OR "
        f"is_thread_starter)), 0), coalesce(sum(is_forward), 0) FROM messages WHERE {SCAN_WHERE}"
    ), args)).one()  # fmt: skip
    day_bounds_sql = " ".join(
        f"WHEN id < {snowflake_at(periods.local_midnight(d + timedelta(days=1), ZONE))} THEN {i}"
        for i, d in enumerate(periods.local_days(period))
    )
    per_day = {d: n for d, n in await run(text(
        f"SELECT CASE {day_bounds_sql} END AS d, count(DISTINCT author_id) FROM messages "
        f"WHERE {SCAN_WHERE} GROUP BY d"
    ), args)}  # fmt: skip
    active = (await run(text(
        "SELECT count(*), coalesce(sum(n >= 3), 0) FROM (SELECT author_id, count(*) AS n "
        f"FROM messages WHERE {SCAN_WHERE} GROUP BY author_id)"
    ), args)).one()  # fmt: skip
    wau_mau = (await run(text(
        "SELECT count(DISTINCT CASE WHEN id >= :w THEN author_id END), count(DISTINCT author_id) "
        "FROM messages WHERE guild_id = :g AND counted AND id >= :m AND id < :hi"
    ), {**args, "w": wau_lo, "m": mau_lo})).one()  # fmt: skip
    tops = []
    for key in ("channel_id", "author_id"):
        tops.append(tuple(tuple(r) for r in await run(text(
            f"SELECT {key}, count(*) AS n FROM messages WHERE {SCAN_WHERE} GROUP BY {key} "
            f"ORDER BY n DESC, {key} LIMIT 5"
        ), args)))  # fmt: skip
    return {
        "messages": counts[0], "top_level": counts[1], "replies": counts[0] - counts[1],
        "forwards": counts[2],
        "daily_active": tuple(per_day.get(i, 0) for i in range(period.day_count)),
        "active_members": active[0], "communicators": active[1], "wau": wau_mau[0],
        "mau": wau_mau[1], "top_channels": tops[0], "top_members": tops[1],
    }  # fmt: skip


async def time_scan(url: str, repeat: int) -> tuple[float, list[dict[str, Any]]]:
    engine = create_engine(url)
    week = periods.last_week(NOW, ZONE, 0)
    figures: list[dict[str, Any]] = []
    best = float("inf")
    async with engine.connect() as conn:
        for attempt in range(repeat + 1):  # the first run warms up
            began = time.perf_counter()
            figures = [await scan_period(conn, p) for p in (week, periods.previous(week))]
            if attempt:
                best = min(best, time.perf_counter() - began)
    await engine.dispose()
    return best, figures


def same_figures(overview: Overview, scanned: list[dict[str, Any]]) -> None:
    for figures, raw in ((overview.current, scanned[0]), (overview.previous, scanned[1])):
        e, a = figures.engagement, figures.activity
        mine = {
            "messages": e.messages, "top_level": e.top_level, "replies": e.replies,
            "forwards": e.forwards, "daily_active": a.daily_active,
            "active_members": a.active_members, "communicators": a.communicators,
            "wau": a.wau, "mau": a.mau,
        }  # fmt: skip
        for name, value in mine.items():
            assert raw[name] == value, (name, raw[name], value)
    assert scanned[0]["top_channels"] == tuple((r.id, r.messages) for r in overview.top_channels)
    assert scanned[0]["top_members"] == tuple((r.id, r.messages) for r in overview.top_members)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Overview from rollups against a message scan")
    parser.add_argument("--sizes", default="1000000,10000000", help="comma-separated")
    parser.add_argument("--repeat", type=int, default=5, help="best of K warm runs")
    parser.add_argument("--growth", choices=["intensity", "participation"], default="intensity")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    c = community()
    # The smallest history averages 2.5 messages per active member-day.
    base = min(1.0, 0.4 * sizes[0] / expected_days(c, 1.0)[0])
    results = []
    with tempfile.TemporaryDirectory(prefix="engagebot-bench-stats-") as tmp:
        for size in sizes:
            path = Path(tmp) / f"history-{size}.db"
            participation = base * (size / sizes[0] if args.growth == "participation" else 1)
            began = time.perf_counter()
            stored = build(path, c, size, participation)
            built = time.perf_counter() - began
            url = f"sqlite+aiosqlite:///{path}"
            rollup, overview = asyncio.run(time_overview(url, args.repeat))
            scan, scanned = asyncio.run(time_scan(url, args.repeat))
            same_figures(overview, scanned)
            results.append((size, stored, built, rollup, scan, overview))
            path.unlink()
    print(f"one guild, a year, growth by {args.growth}; warm, best of {args.repeat}")
    print(f"{'history':>12}{'build s':>9}{'overview ms':>13}{'scan ms':>10}{'scan/overview':>15}"
          f"{'DAU':>7}{'MAU':>7}{'questions':>11}")  # fmt: skip
    for _size, stored, built, rollup, scan, o in results:
        print(f"{stored:>12,}{built:>9.1f}{rollup * 1000:>13.1f}{scan * 1000:>10.1f}"
              f"{scan / rollup:>14.1f}x{o.dau.current:>7.0f}{o.mau.current:>7,}"
              f"{o.questions.current:>11,}")  # fmt: skip
    size_ratio = results[-1][3] / results[0][3]
    scan_ratio = results[-1][4] / results[-1][3]
    missed = False
    checks = [("scan/overview", scan_ratio, TARGET_SCAN_RATIO, scan_ratio >= TARGET_SCAN_RATIO)]
    if len(results) > 1:
        name = f"overview {results[-1][1]:,}/{results[0][1]:,}"
        checks.insert(0, (name, size_ratio, TARGET_SIZE_RATIO, size_ratio <= TARGET_SIZE_RATIO))
    for name, value, target, ok in checks:
        sign = "<=" if name.startswith("overview") else ">="
        print(f"{name:<34}{value:8.2f}x  target {sign} {target:g}x  {'PASS' if ok else 'FAIL'}")
        missed |= not ok
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
