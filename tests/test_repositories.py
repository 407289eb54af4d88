"""Read models return domain records, scoped to one guild, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.guilds import ChannelSettings
from bot.domain.records import (
    ChannelKind,
    ChannelRecord,
    ContentPolicy,
    GuildRecord,
    MemberForget,
    MessageRecord,
)
from bot.domain.snowflakes import snowflake_at
from storage import tables as t
from storage.repositories import (
    ChannelRepository,
    Defaults,
    GuildRepository,
    MemberRepository,
    MessageRepository,
)
from storage.writer import EventWriter

T0 = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


def message(
    n: int,
    guild: int,
    channel: int,
    *,
    thread: int | None = None,
    at: datetime = T0,
    counted: bool = True,
) -> MessageRecord:
    return MessageRecord(
        message_id=snowflake_at(at) + n,
        guild_id=guild,
        channel_id=channel,
        author_id=7,
        created_at=at,
        thread_id=thread,
        counted=counted,
    )


async def test_an_unknown_guild_gets_the_defaults(engine: AsyncEngine) -> None:
    defaults = Defaults(
        timezone="Europe/Paris",
        week_start=6,
        summary_time=time(18, 30),
        response_target_minutes=15,
        store_content=ContentPolicy.NONE,
    )
    settings = await GuildRepository(engine, defaults).settings(123)
    assert (settings.timezone, settings.week_start, settings.summary_time) == (
        "Europe/Paris",
        6,
        time(18, 30),
    )
    assert settings.response_target_minutes == 15
    assert settings.store_content is ContentPolicy.NONE
    assert settings.staff_role_ids == frozenset()


async def test_a_guild_overrides_only_what_it_set(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            insert(t.Guild).values(
                id=1,
                name="g",
                first_seen_at=T0,
                timezone="Asia/Tokyo",
                summary_day="friday",
                inbox_channel_id=55,
            )
        )
        await conn.execute(insert(t.StaffRole).values(guild_id=1, role_id=9))
    settings = await GuildRepository(engine).settings(1)
    assert settings.timezone == "Asia/Tokyo"
    assert settings.summary_day == 4
    assert settings.week_start == 0
    assert settings.response_target_minutes == 60
    assert settings.inbox_channel_id == 55
    assert settings.staff_role_ids == frozenset({9})
    assert await GuildRepository(engine).known_guild_ids() == [1]


async def test_newest_message_ids_cover_channels_and_threads(engine: AsyncEngine) -> None:
    later = T0 + timedelta(hours=3)
    async with EventWriter(engine) as writer:
        await writer.put_many(
            [
                GuildRecord(1, "g", T0),
                ChannelRecord(1, 10, ChannelKind.TEXT, "general"),
                message(1, 1, 10),
                message(2, 1, 10, at=later),
                message(3, 1, 10, thread=11),  # thread row not known yet
                message(4, 2, 20, at=later),  # another guild
            ]
        )
    newest = await ChannelRepository(engine).newest_message_ids(1)
    assert newest == {10: snowflake_at(later) + 2, 11: snowflake_at(T0) + 3}
    channels = await ChannelRepository(engine).channels(1)
    assert channels == [
        ChannelSettings(
            channel_id=10,
            guild_id=1,
            kind=ChannelKind.TEXT,
            name="general",
            parent_id=None,
            watched=None,
            is_help=False,
            response_target_minutes=None,
            inferred_linking=False,
            newest_message_id=snowflake_at(later) + 2,
        )
    ]


async def test_counting_messages_is_bounded_by_time_and_guild(engine: AsyncEngine) -> None:
    async with EventWriter(engine) as writer:
        await writer.put_many(
            [
                message(1, 1, 10, at=T0 - timedelta(days=1)),
                message(2, 1, 10),
                message(3, 1, 10, counted=False),
                message(4, 1, 10, at=T0 + timedelta(days=1)),
                message(5, 2, 20),
            ]
        )
    count = await MessageRepository(engine).count_counted(1, T0, T0 + timedelta(days=1))
    assert count == 1


async def test_opted_out_members_are_known(engine: AsyncEngine) -> None:
    async with EventWriter(engine) as writer:
        await writer.put(MemberForget(1, 7, T0))
    assert await MemberRepository(engine).opted_out(1) == {7}
    assert await MemberRepository(engine).opted_out(2) == set()
