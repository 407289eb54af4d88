"""StatsService on real databases gives the pure functions' figures, one guild at a time.

Two small communities (different time zones and week starts, the same member ids) are fed
through the EventWriter; questions are inserted as rows. The expected figures come from the pure
functions on the rollup rows read back table by table, and on the generated events themselves
(joins, leaves and first-week messages), so the SQL that counts in the database is checked
against the definitions.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.metrics import channel_report, member_report, overview_from_rows
from bot.domain.metrics_activity import ChannelDayRow, GuildDayRow, HourRow, MemberDayRow
from bot.domain.metrics_activity import peak_hours as pure_peak_hours
from bot.domain.metrics_members import (
    Joiner,
    MemberEventRow,
    MemberSpan,
    came_back,
    cohort_table,
    member_count_at,
    recent_activity,
    return_candidates,
    went_quiet,
)
from bot.domain.metrics_questions import QuestionRow, responses_report, top_helpers
from bot.domain.periods import last_full_weeks, local_today, parse_period, previous, this_week
from bot.domain.records import (
    ChannelKind,
    ChannelRecord,
    Event,
    MemberEvent,
    MemberEventKind,
    MemberRecord,
    MessageRecord,
    ReactionAdd,
)
from bot.domain.snowflakes import snowflake_at
from bot.services.stats import StatsService
from storage import tables as t
from storage.writer import EventWriter

NOW = datetime(2026, 4, 1, 10, tzinfo=UTC)  # a Wednesday; Berlin moved to summer time 03-29
START = datetime(2026, 1, 12, tzinfo=UTC)
STAFF = {1, 2}
BOT = 99
QUIET, RETURNER = 5, 6


@dataclass
class World:
    guild_id: int
    timezone: str
    week_start: str
    channels: list[int]
    events: list[Event] = field(default_factory=list)
    messages: list[MessageRecord] = field(default_factory=list)
    moves: list[MemberEventRow] = field(default_factory=list)
    """Humans' joins and leaves."""
    questions: list[QuestionRow] = field(default_factory=list)


def build_world(guild_id: int, timezone: str, week_start: str, seed: int) -> World:
    """Members 1-20 joined in December (1 and 2 are staff), 21-40 join during the ten weeks
    and some leave; 5 posts every Monday until mid-March then falls silent; 6 posts in January
    and again this week; the bot posts and reacts but never counts."""
    rng = random.Random(seed)
    w = World(guild_id, timezone, week_start, [guild_id * 100 + i for i in range(3)])
    w.events += [ChannelRecord(guild_id, c, ChannelKind.TEXT, f"c{c}") for c in w.channels]
    present: dict[int, tuple[datetime, datetime | None]] = {}
    for user in range(1, 41):
        joined = datetime(2025, 12, 1, 9, tzinfo=UTC)
        if user > 20:
            joined = START + timedelta(seconds=rng.randrange(75 * 86400))
        left = None
        if user > 20 and rng.random() < 0.35:
            left = joined + timedelta(days=rng.choice([1, 3, 6, 7, 12, 30]))
            left = left if left < NOW else None
        present[user] = (joined, left)
        w.events.append(MemberRecord(guild_id, user, False, joined, is_staff=user in STAFF))
        w.events.append(MemberEvent(guild_id, user, MemberEventKind.JOIN, joined))
        w.moves.append(MemberEventRow(user, "join", joined))
        if left is not None:
            w.events.append(MemberEvent(guild_id, user, MemberEventKind.LEAVE, left))
            w.moves.append(MemberEventRow(user, "leave", left))
    w.events.append(MemberRecord(guild_id, BOT, True, START))
    w.events.append(MemberEvent(guild_id, BOT, MemberEventKind.JOIN, START, is_bot=True))
    weights = {u: rng.random() ** 2 * 0.6 for u in present}
    n = 0
    day = START
    while day < NOW:
        for user, (joined, left) in present.items():
            posts = 0
            if user == QUIET:
                posts = 2 if day.weekday() == 0 and day < datetime(2026, 3, 17, tzinfo=UTC) else 0
            elif user == RETURNER:
                posts = 1 if day.month == 1 or day.date() == NOW.date() - timedelta(days=1) else 0
            elif rng.random() < weights[user]:
                posts = rng.randint(1, 4)
            for _ in range(posts):
                at = day + timedelta(seconds=rng.randrange(86400))
                if joined <= at < (left or NOW) and at < NOW:
                    n += 1
                    post(w, rng, n, user, at)
        if rng.random() < 0.5:
            n += 1
            post(w, rng, n, BOT, day + timedelta(hours=12))
        day += timedelta(days=1)
    add_questions(w, rng)
    return w


def post(w: World, rng: random.Random, n: int, user: int, at: datetime) -> None:
    earlier = w.messages[-1] if w.messages else None
    thread = None
    if earlier is not None and earlier.thread_id is None and rng.random() < 0.05:
        thread = earlier.message_id  # a thread started from the previous message
        w.events.append(
            ChannelRecord(
                w.guild_id, thread, ChannelKind.PUBLIC_THREAD, "t", parent_id=earlier.channel_id
            )
        )
    record = MessageRecord(
        message_id=snowflake_at(at) + n,
        guild_id=w.guild_id,
        channel_id=earlier.channel_id if thread else rng.choice(w.channels),
        author_id=user,
        created_at=at,
        thread_id=thread,
        is_bot=user == BOT,
        counted=user != BOT,
        reply_to_id=earlier.message_id if earlier and not thread and rng.random() < 0.3 else None,
        is_forward=rng.random() < 0.05,
    )
    w.messages.append(record)
    w.events.append(record)
    for reactor in rng.sample([1, 2, 3, 7, 21, user, BOT], rng.randint(0, 3)):
        emoji = rng.choice(["👍", "🎉"])
        w.events.append(
            ReactionAdd(
                record.message_id, w.guild_id, record.channel_id, reactor, emoji, at,
                user_is_bot=reactor == BOT,
            )
        )  # fmt: skip


def add_questions(w: World, rng: random.Random) -> None:
    askable = [m for m in w.messages if m.counted and m.author_id not in STAFF]
    for m in sorted(rng.sample(askable, 70), key=lambda m: m.message_id):
        first = by = staff_at = resolved = withdrawn = None
        staff = None
        roll = rng.random()
        if roll < 0.8:
            first = m.created_at + timedelta(minutes=int(rng.lognormvariate(4, 1.5)) + 1)
            by = rng.choice([1, 2, 3, 7, 21, m.author_id])
            staff = by in STAFF
            staff_at = first if staff else None
            if not staff and rng.random() < 0.4:
                staff_at = first + timedelta(minutes=rng.randrange(1, 3000))
            if rng.random() < 0.4:
                resolved = first + timedelta(minutes=rng.randrange(1, 600))
        elif roll < 0.88:
            withdrawn = m.created_at + timedelta(minutes=5)
        state = (
            "resolved"
            if resolved
            else "answered"
            if first
            else "withdrawn"
            if withdrawn
            else "open"
        )
        w.questions.append(
            QuestionRow(
                m.message_id, m.channel_id, m.author_id, m.created_at, state,
                rng.choice([60, 120]), first, by, staff, staff_at, resolved, withdrawn,
            )
        )  # fmt: skip


async def fill(engine: AsyncEngine, worlds: list[World]) -> None:
    async with engine.begin() as conn:
        for w in worlds:
            await conn.execute(
                insert(t.Guild).values(
                    id=w.guild_id,
                    name=f"g{w.guild_id}",
                    first_seen_at=START,
                    timezone=w.timezone,
                    week_start=w.week_start,
                )
            )
    async with EventWriter(engine) as writer:
        for w in worlds:
            await writer.put_many(w.events)
    async with engine.begin() as conn:
        for w in worlds:
            await conn.execute(
                insert(t.Question),
                [
                    {
                        "message_id": q.message_id, "guild_id": w.guild_id,
                        "channel_id": q.channel_id, "thread_id": None, "asker_id": q.asker_id,
                        "asked_at": q.asked_at, "source": "detected", "state": q.state,
                        "target_minutes": q.target_minutes,
                        "first_response_at": q.first_response_at,
                        "first_responder_id": q.first_responder_id,
                        "first_response_by_staff": q.first_response_by_staff,
                        "first_staff_response_at": q.first_staff_response_at,
                        "resolved_at": q.resolved_at, "withdrawn_at": q.withdrawn_at,
                    }
                    for q in w.questions
                ],
            )  # fmt: skip


@dataclass
class Rows:
    guild_days: list[GuildDayRow]
    member_days: list[MemberDayRow]
    channel_days: list[ChannelDayRow]
    hours: list[HourRow]
    spans: list[MemberSpan]


async def read_rows(engine: AsyncEngine, guild_id: int) -> Rows:
    """Every rollup row of one guild, read table by table."""

    async def rows(table: Any, *columns: Any) -> list[Any]:
        async with engine.connect() as conn:
            found = await conn.execute(select(*columns).where(table.guild_id == guild_id))
            return [tuple(r) for r in found]

    g, d, c, h, m = t.GuildDay, t.MemberDay, t.ChannelDay, t.GuildHour, t.Member
    return Rows(
        [GuildDayRow(*r) for r in await rows(g, g.day, g.messages, g.top_level, g.replies,
                                                g.threads_started, g.forwards,
                                                g.reactions_received)],
        [MemberDayRow(*r) for r in await rows(d, d.day, d.user_id, d.messages)],
        [ChannelDayRow(*r) for r in await rows(c, c.day, c.channel_id, c.messages)],
        [HourRow(*r) for r in await rows(h, h.hour, h.messages)],
        [MemberSpan(*r) for r in await rows(m, m.user_id, m.joined_at, m.left_at, m.is_bot)],
    )  # fmt: skip


def joiners(w: World) -> list[Joiner]:
    """From the generated events: each human join, its first leave, first-week messages."""
    out = []
    for e in w.moves:
        if e.kind != "join":
            continue
        leaves = [x.at for x in w.moves if x.user_id == e.user_id and x.kind == "leave"]
        left = min((at for at in leaves if at >= e.at), default=None)
        first_week = sum(
            1
            for m in w.messages
            if m.author_id == e.user_id
            and m.counted
            and e.at <= m.created_at < e.at + timedelta(days=7)
        )
        out.append(Joiner(e.user_id, e.at, left, first_week))
    return out


WORLDS = [("Europe/Berlin", "monday", 11), ("America/New_York", "sunday", 12)]


@pytest.fixture
async def worlds(engine: AsyncEngine) -> list[World]:
    built = [build_world(i + 1, zone, start, seed) for i, (zone, start, seed) in enumerate(WORLDS)]
    await fill(engine, built)
    return built


def service(engine: AsyncEngine) -> StatsService:
    return StatsService(engine, lambda: NOW)


@pytest.mark.parametrize("guild", [0, 1])
async def test_overview_is_the_pure_overview(
    engine: AsyncEngine, worlds: list[World], guild: int
) -> None:
    w = worlds[guild]
    rows = await read_rows(engine, w.guild_id)
    # The writer's rollups hold every counted message the world posted, and nothing else.
    assert sum(r.messages for r in rows.guild_days) == sum(m.counted for m in w.messages)
    week_start = 0 if w.week_start == "monday" else 6
    for text in (None, "this week", "last 28 days", "2026-03-02..2026-03-29"):
        period = parse_period(text or "last week", NOW, w.timezone, week_start)
        before = previous(period)
        expected = overview_from_rows(
            period,
            before,
            NOW,
            guild_days=rows.guild_days,
            member_days=rows.member_days,
            channel_days=rows.channel_days,
            questions=w.questions,
            member_events=w.moves,
            joiners=joiners(w),
            member_counts=(
                member_count_at(rows.spans, before.start),
                member_count_at(rows.spans, period.start),
                member_count_at(rows.spans, period.end),
            ),
        )
        assert await service(engine).overview(w.guild_id, text) == expected, text
        assert expected.messages.current and expected.mau.current, text


async def test_reports_are_the_pure_reports(engine: AsyncEngine, worlds: list[World]) -> None:
    w = worlds[0]
    stats = service(engine)
    rows = await read_rows(engine, w.guild_id)
    period = parse_period("last 28 days", NOW, w.timezone, 0)
    before = previous(period)
    channel = w.channels[1]
    assert await stats.channel(w.guild_id, channel, period) == channel_report(
        channel,
        period,
        before,
        NOW,
        channel_days=rows.channel_days,
        guild_days=rows.guild_days,
        questions=w.questions,
    )
    assert await stats.member(w.guild_id, 3, "28d") == member_report(
        3, period, before, member_days=rows.member_days, questions=w.questions
    )
    responses = await stats.responses(w.guild_id, period)
    assert responses == responses_report(w.questions, period, NOW)
    assert responses.overall.questions > 10
    assert await stats.helpers(w.guild_id, period) == top_helpers(w.questions, period, n=10)
    retention = await stats.retention(w.guild_id)
    assert retention == cohort_table(w.moves, rows.member_days, NOW, w.timezone, 0)
    assert sum(c.size for c in retention.cohorts) > 0
    peak = await stats.peak_hours(w.guild_id)
    four_weeks = last_full_weeks(NOW, w.timezone, 0, 4)
    assert peak == pure_peak_hours(rows.hours, four_weeks)
    assert peak.busiest


async def test_at_risk_members(engine: AsyncEngine, worlds: list[World]) -> None:
    w = worlds[0]
    rows = await read_rows(engine, w.guild_id)
    report = await service(engine).at_risk(w.guild_id)
    today = local_today(NOW, w.timezone)
    week = this_week(NOW, w.timezone, 0)
    # Members who have left are gone, not at risk.
    gone = {s.user_id for s in rows.spans if s.left_at is not None}
    quiet = tuple(
        q for q in went_quiet(recent_activity(rows.member_days, today)) if q.user_id not in gone
    )
    assert report.went_quiet == quiet
    assert QUIET in {q.user_id for q in quiet}
    assert report.came_back == came_back(return_candidates(rows.member_days, week), week)
    assert RETURNER in {r.user_id for r in report.came_back}


async def test_a_guild_never_sees_another_guilds_data(
    engine: AsyncEngine, worlds: list[World]
) -> None:
    """Guild 3 shares nothing with the filled guilds but the member ids of their members."""
    stats = service(engine)
    empty = await stats.overview(3, "28d")
    for name in ("messages", "active_members", "mau", "questions", "joins", "member_count"):
        assert getattr(empty, name).current == 0, name
    assert empty.top_members == () and empty.top_channels == ()
    assert (await stats.responses(3, "28d")).by_channel == ()
    assert (await stats.member(3, 3, "28d")).messages.current == 0
    assert (await stats.peak_hours(3)).busiest == ()
    assert sum(c.size for c in (await stats.retention(3)).cohorts) == 0
    assert (await stats.at_risk(3)).went_quiet == ()
    # The same member id in two guilds: each guild counts only its own messages.
    first = await stats.member(1, 3, "28d")
    second = await stats.member(2, 3, "28d")
    assert first.messages.current != second.messages.current
