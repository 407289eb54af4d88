"""Read models: queries that return domain records. Every query is scoped by guild id."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.domain.guilds import WEEKDAYS, ChannelSettings, GuildSettings
from bot.domain.records import ChannelKind, ContentPolicy, StoredMessage
from bot.domain.snowflakes import snowflake_at
from storage import tables as t


class Defaults:
    """The deployment's defaults that a guild inherits (from settings, kept storage-agnostic)."""

    def __init__(
        self,
        *,
        timezone: str = "UTC",
        week_start: int = 0,
        summary_day: int = 0,
        summary_time: time = time(9, 0),
        response_target_minutes: int = 60,
        store_content: ContentPolicy = ContentPolicy.QUESTIONS,
    ) -> None:
        ZoneInfo(timezone)
        self.timezone = timezone
        self.week_start = week_start
        self.summary_day = summary_day
        self.summary_time = summary_time
        self.response_target_minutes = response_target_minutes
        self.store_content = store_content


class GuildRepository:
    def __init__(self, engine: AsyncEngine, defaults: Defaults | None = None) -> None:
        self.engine = engine
        self.defaults = defaults or Defaults()

    async def known_guild_ids(self) -> list[int]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(t.Guild.id).where(t.Guild.left_at.is_(None)))
            return [row[0] for row in rows]

    async def settings(self, guild_id: int) -> GuildSettings:
        """The guild's effective settings; a guild never seen gets the defaults."""
        d = self.defaults
        async with AsyncSession(self.engine) as session:
            row = await session.get(t.Guild, guild_id)
            roles = await session.scalars(
                select(t.StaffRole.role_id).where(t.StaffRole.guild_id == guild_id)
            )
            staff_roles = frozenset(roles)
        if row is None:
            return GuildSettings(
                guild_id=guild_id,
                timezone=d.timezone,
                week_start=d.week_start,
                summary_day=d.summary_day,
                summary_time=d.summary_time,
                response_target_minutes=d.response_target_minutes,
                store_content=d.store_content,
                staff_role_ids=staff_roles,
            )
        return GuildSettings(
            guild_id=guild_id,
            timezone=row.timezone or d.timezone,
            week_start=_weekday(row.week_start, d.week_start),
            summary_day=_weekday(row.summary_day, d.summary_day),
            summary_time=time.fromisoformat(row.summary_time)
            if row.summary_time
            else d.summary_time,
            response_target_minutes=row.response_target_minutes or d.response_target_minutes,
            store_content=ContentPolicy(row.store_content)
            if row.store_content
            else d.store_content,
            inbox_channel_id=row.inbox_channel_id,
            public_summary_channel_id=row.public_summary_channel_id,
            staff_summary_channel_id=row.staff_summary_channel_id,
            public_summary_enabled=row.public_summary_enabled,
            staff_summary_enabled=row.staff_summary_enabled,
            escalation_role_id=row.escalation_role_id,
            resolve_emoji=row.resolve_emoji,
            staff_role_ids=staff_roles,
        )


class ChannelRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def channels(self, guild_id: int) -> list[ChannelSettings]:
        async with AsyncSession(self.engine) as session:
            rows = await session.scalars(
                select(t.Channel).where(t.Channel.guild_id == guild_id).order_by(t.Channel.id)
            )
            return [_channel(row) for row in rows]

    async def newest_message_ids(self, guild_id: int) -> dict[int, int]:
        """For gap recovery: each channel's and thread's newest stored message id."""
        m = t.Message
        async with self.engine.connect() as conn:
            remembered = await conn.execute(
                select(t.Channel.id, t.Channel.newest_message_id).where(
                    t.Channel.guild_id == guild_id, t.Channel.newest_message_id.is_not(None)
                )
            )
            newest = {cid: int(mid) for cid, mid in remembered if mid is not None}
            # Messages whose channel row arrived later still count as stored.
            in_channels = await conn.execute(
                select(m.channel_id, func.max(m.id))
                .where(m.guild_id == guild_id, m.thread_id.is_(None))
                .group_by(m.channel_id)
            )
            in_threads = await conn.execute(
                select(m.thread_id, func.max(m.id))
                .where(m.guild_id == guild_id, m.thread_id.is_not(None))
                .group_by(m.thread_id)
            )
            for where, mid in [*in_channels, *in_threads]:
                if where is not None and mid is not None and newest.get(where, 0) < mid:
                    newest[where] = int(mid)
        return newest


class SettingsStore:
    """Moderators' per-guild and per-channel choices (rare writes, outside the event writer)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    GUILD_KEYS = frozenset(
        {
            "inbox_channel_id",
            "response_target_minutes",
            "escalation_role_id",
            "timezone",
            "week_start",
            "summary_day",
            "summary_time",
            "public_summary_channel_id",
            "staff_summary_channel_id",
            "public_summary_enabled",
            "staff_summary_enabled",
            "resolve_emoji",
        }
    )
    CHANNEL_KEYS = frozenset({"watched", "is_help", "response_target_minutes", "inferred_linking"})

    async def set_channel_watch(self, guild_id: int, channel_id: int, watched: bool | None) -> bool:
        """True if the channel was known (the caller records channels before configuring them)."""
        return await self.set_channel(guild_id, channel_id, watched=watched)

    async def set_channel(self, guild_id: int, channel_id: int, **values: object) -> bool:
        """Change a known channel's settings; True if the channel was known."""
        unknown = values.keys() - self.CHANNEL_KEYS
        if unknown:
            raise ValueError(f"not channel settings: {sorted(unknown)}")
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(t.Channel)
                .where(t.Channel.guild_id == guild_id, t.Channel.id == channel_id)
                .values(**values)
            )
        return bool(result.rowcount)

    async def set_guild(self, guild_id: int, **values: object) -> bool:
        """Change a known guild's settings (None: back to the default); True if it was known."""
        unknown = values.keys() - self.GUILD_KEYS
        if unknown:
            raise ValueError(f"not guild settings: {sorted(unknown)}")
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(t.Guild).where(t.Guild.id == guild_id).values(**values)
            )
        return bool(result.rowcount)

    async def set_staff_role(self, guild_id: int, role_id: int, staff: bool) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                delete(t.StaffRole).where(
                    t.StaffRole.guild_id == guild_id, t.StaffRole.role_id == role_id
                )
            )
            if staff:
                await conn.execute(insert(t.StaffRole).values(guild_id=guild_id, role_id=role_id))


class MessageRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def count_counted(self, guild_id: int, start: datetime, end: datetime) -> int:
        """Counted messages created in [start, end), bounded by snowflake range."""
        m = t.Message
        async with self.engine.connect() as conn:
            value = await conn.scalar(
                select(func.count())
                .select_from(m)
                .where(
                    m.id >= snowflake_at(start),
                    m.id < snowflake_at(end),
                    m.guild_id == guild_id,
                    m.counted.is_(True),
                )
            )
        return int(value or 0)

    async def window(
        self, guild_id: int, where_id: int, low_id: int, high_id: int
    ) -> dict[int, StoredMessage]:
        """Stored messages of a channel or thread with ids in [low_id, high_id], with reactions."""
        m, r = t.Message, t.ReactionRow
        in_place = (m.thread_id == where_id) | ((m.channel_id == where_id) & m.thread_id.is_(None))
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(m.id, m.edited_at, m.deleted_at).where(
                    m.guild_id == guild_id, m.id >= low_id, m.id <= high_id, in_place
                )
            )
            found = {mid: (edited, deleted) for mid, edited, deleted in rows}
            reactions: dict[int, dict[str, set[int]]] = {}
            if found:
                stored = await conn.execute(
                    select(r.message_id, r.emoji, r.user_id).where(
                        r.guild_id == guild_id, r.message_id.in_(found)
                    )
                )
                for mid, emoji, uid in stored:
                    reactions.setdefault(mid, {}).setdefault(emoji, set()).add(uid)
        return {
            mid: StoredMessage(
                message_id=mid,
                edited_at=edited,
                deleted=deleted is not None,
                reactions={e: frozenset(u) for e, u in reactions.get(mid, {}).items()},
            )
            for mid, (edited, deleted) in found.items()
        }


class MemberRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def opted_out(self, guild_id: int) -> set[int]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(t.Member.user_id).where(
                    t.Member.guild_id == guild_id, t.Member.opted_out_at.is_not(None)
                )
            )
            return {row[0] for row in rows}

    async def clear_opt_out(self, guild_id: int, user_id: int) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(t.Member)
                .where(t.Member.guild_id == guild_id, t.Member.user_id == user_id)
                .values(opted_out_at=None)
            )

    async def present_members(self, guild_id: int) -> set[int]:
        """Members the database believes are in the guild (joined, not left)."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(t.Member.user_id).where(
                    t.Member.guild_id == guild_id,
                    t.Member.left_at.is_(None),
                    t.Member.opted_out_at.is_(None),
                )
            )
            return {row[0] for row in rows}


def _weekday(value: str | None, default: int) -> int:
    return WEEKDAYS.index(value) if value in WEEKDAYS else default


def _channel(row: t.Channel) -> ChannelSettings:
    try:
        kind = ChannelKind(row.kind)
    except ValueError:
        kind = ChannelKind.OTHER
    return ChannelSettings(
        channel_id=row.id,
        guild_id=row.guild_id,
        kind=kind,
        name=row.name,
        parent_id=row.parent_id,
        watched=row.watched,
        is_help=row.is_help,
        response_target_minutes=row.response_target_minutes,
        inferred_linking=row.inferred_linking,
        newest_message_id=row.newest_message_id,
        archived=row.archived,
        deleted=row.deleted_at is not None,
    )
