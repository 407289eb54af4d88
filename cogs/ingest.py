"""Listeners: every community event becomes a record and goes to the IngestService.

Raw events are used where the cached ones miss things (edits, deletions and reactions on
messages that are not in discord.py's cache, members who left while uncached).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands

from bot.convert import (
    channel_record,
    emoji_key,
    guild_record,
    has_mod_permission,
    member_record,
    message_record,
)
from bot.domain.records import (
    ChannelDeleted,
    MemberEvent,
    MemberEventKind,
    MemberRecord,
    MessageDelete,
    ReactionAdd,
    ReactionClear,
    ReactionRemove,
)
from bot.history import ReadReport

if TYPE_CHECKING:
    from bot.app import EngageBot

log = logging.getLogger(__name__)


class Ingest(commands.Cog):
    def __init__(self, bot: EngageBot) -> None:
        self.bot = bot
        self.ingest = bot.services.ingest
        self.history = bot.history
        self._tasks: set[asyncio.Task[object]] = set()
        self._recovering: dict[int, asyncio.Task[object]] = {}

    async def cog_unload(self) -> None:
        for task in self._tasks:
            task.cancel()

    def _background(self, coro: Coroutine[Any, Any, object], name: str) -> asyncio.Task[object]:
        task: asyncio.Task[object] = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    async def caught_up(self) -> None:
        """Wait until every catch-up started so far has finished (for operators and tests)."""
        running = [t for t in self._recovering.values() if not t.done()]
        if running:
            await asyncio.gather(*running, return_exceptions=True)

    def _finished(self, task: asyncio.Task[object]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s failed", task.get_name(), exc_info=task.exception())

    # -- messages ----------------------------------------------------------------------------

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        guild = message.guild
        if guild is None:
            return
        view = self.ingest.cached_view(guild.id) or await self.ingest.view(guild.id)
        user = self.bot.user
        record = message_record(
            message, user.id if user else None, staff_role_ids=view.settings.staff_role_ids
        )
        if record is not None:
            await self.ingest.message(record)

    @commands.Cog.listener()
    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        if payload.guild_id is None:
            return
        # No edited_at: an embed resolving, not an edit by the author (the service skips it).
        view = self.ingest.cached_view(payload.guild_id) or await self.ingest.view(payload.guild_id)
        user = self.bot.user
        record = message_record(
            payload.message, user.id if user else None, staff_role_ids=view.settings.staff_role_ids
        )
        if record is not None:
            await self.ingest.message_edited(record)

    @commands.Cog.listener()
    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        if payload.guild_id is not None:
            await self.ingest.message_deleted(
                MessageDelete(
                    payload.message_id, payload.guild_id, payload.channel_id, discord.utils.utcnow()
                )
            )

    @commands.Cog.listener()
    async def on_raw_bulk_message_delete(self, payload: discord.RawBulkMessageDeleteEvent) -> None:
        if payload.guild_id is None:
            return
        now = discord.utils.utcnow()
        for message_id in sorted(payload.message_ids):
            await self.ingest.message_deleted(
                MessageDelete(message_id, payload.guild_id, payload.channel_id, now)
            )

    # -- reactions ---------------------------------------------------------------------------

    @commands.Cog.listener()
    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        if payload.guild_id is None:
            return
        member = payload.member
        is_bot = member.bot if member is not None else False
        await self.ingest.reaction(
            ReactionAdd(
                payload.message_id,
                payload.guild_id,
                payload.channel_id,
                payload.user_id,
                emoji_key(payload.emoji),
                discord.utils.utcnow(),
                user_is_bot=is_bot,
            )
        )

    @commands.Cog.listener()
    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        if payload.guild_id is not None:
            await self.ingest.reaction(
                ReactionRemove(
                    payload.message_id,
                    payload.guild_id,
                    payload.user_id,
                    emoji_key(payload.emoji),
                    discord.utils.utcnow(),
                )
            )

    @commands.Cog.listener()
    async def on_raw_reaction_clear(self, payload: discord.RawReactionClearEvent) -> None:
        if payload.guild_id is not None:
            await self.ingest.reaction(
                ReactionClear(payload.message_id, payload.guild_id, discord.utils.utcnow())
            )

    @commands.Cog.listener()
    async def on_raw_reaction_clear_emoji(
        self, payload: discord.RawReactionClearEmojiEvent
    ) -> None:
        if payload.guild_id is not None:
            await self.ingest.reaction(
                ReactionClear(
                    payload.message_id,
                    payload.guild_id,
                    discord.utils.utcnow(),
                    emoji_key(payload.emoji),
                )
            )

    # -- members -----------------------------------------------------------------------------

    def _member(self, member: discord.Member) -> MemberRecord:
        staff = self.ingest.is_staff(
            member.guild.id, (r.id for r in member.roles), has_mod_permission(member)
        )
        return member_record(member, staff)

    @commands.Cog.listener()
    async def on_member_join(self, member: discord.Member) -> None:
        await self.ingest.view(member.guild.id)
        await self.ingest.member(self._member(member))
        await self.ingest.member_event(
            MemberEvent(
                member.guild.id,
                member.id,
                MemberEventKind.JOIN,
                member.joined_at or discord.utils.utcnow(),
                is_bot=member.bot,
            )
        )

    @commands.Cog.listener()
    async def on_raw_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        await self.ingest.member_event(
            MemberEvent(
                payload.guild_id,
                payload.user.id,
                MemberEventKind.LEAVE,
                discord.utils.utcnow(),
                is_bot=payload.user.bot,
            )
        )

    @commands.Cog.listener()
    async def on_member_ban(self, guild: discord.Guild, user: discord.User) -> None:
        await self.ingest.member_event(
            MemberEvent(
                guild.id, user.id, MemberEventKind.BAN, discord.utils.utcnow(), is_bot=user.bot
            )
        )

    @commands.Cog.listener()
    async def on_member_unban(self, guild: discord.Guild, user: discord.User) -> None:
        await self.ingest.member_event(
            MemberEvent(
                guild.id, user.id, MemberEventKind.UNBAN, discord.utils.utcnow(), is_bot=user.bot
            )
        )

    @commands.Cog.listener()
    async def on_member_update(self, before: discord.Member, after: discord.Member) -> None:
        if before.roles == after.roles:
            return
        await self.ingest.view(after.guild.id)
        await self.ingest.member(self._member(after))
        await self.ingest.member_event(
            MemberEvent(
                after.guild.id,
                after.id,
                MemberEventKind.ROLES_CHANGED,
                discord.utils.utcnow(),
                is_bot=after.bot,
            )
        )

    # -- channels and threads ----------------------------------------------------------------

    @commands.Cog.listener()
    async def on_guild_channel_create(self, channel: discord.abc.GuildChannel) -> None:
        await self.ingest.channels_seen([channel_record(channel)])

    @commands.Cog.listener()
    async def on_guild_channel_update(
        self, _before: discord.abc.GuildChannel, after: discord.abc.GuildChannel
    ) -> None:
        await self.ingest.channels_seen([channel_record(after)])

    @commands.Cog.listener()
    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        await self.ingest.channel_deleted(
            ChannelDeleted(channel.guild.id, channel.id, discord.utils.utcnow())
        )

    @commands.Cog.listener()
    async def on_thread_create(self, thread: discord.Thread) -> None:
        await self.ingest.channels_seen([channel_record(thread)])

    @commands.Cog.listener()
    async def on_thread_update(self, _before: discord.Thread, after: discord.Thread) -> None:
        await self.ingest.channels_seen([channel_record(after)])

    @commands.Cog.listener()
    async def on_raw_thread_delete(self, payload: discord.RawThreadDeleteEvent) -> None:
        await self.ingest.channel_deleted(
            ChannelDeleted(payload.guild_id, payload.thread_id, discord.utils.utcnow())
        )

    # -- guilds and sessions -----------------------------------------------------------------

    def _recover(self, guild: discord.Guild) -> None:
        """Catch up on a guild after a new gateway session (a resume needs no catching up).

        Several events can announce the same session (shard ready, guild available); a catch-up
        already running for the guild covers them all, and a second one would only re-read.
        """
        running = self._recovering.get(guild.id)
        if running is not None and not running.done():
            return
        self._recovering[guild.id] = self._background(self._catch_up(guild), f"recover-{guild.id}")

    async def _catch_up(self, guild: discord.Guild) -> ReadReport:
        report = await self.history.recover_guild(guild)
        # Others (the inbox, the summaries) act on what happened while the bot was away only now,
        # inside the catch-up: caught_up() waits for them, and one failing never stops another.
        for cog in list(self.bot.cogs.values()):
            after = getattr(cog, "after_catch_up", None)
            if after is None:
                continue
            try:
                await after(guild)
            except Exception:
                log.exception(
                    "%s after catching up on guild %s failed", cog.qualified_name, guild.id
                )
        return report

    @commands.Cog.listener()
    async def on_shard_ready(self, shard_id: int) -> None:
        for guild in self.bot.guilds:
            if guild.shard_id == shard_id:
                self._recover(guild)

    @commands.Cog.listener()
    async def on_guild_available(self, guild: discord.Guild) -> None:
        self._recover(guild)

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        """A guild new to the bot: the same catch-up reads its backfill window."""
        log.info(
            "joined guild %s; reading %d days of history", guild.id, self.history.backfill_days
        )
        self._recover(guild)

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        await self.ingest.guild_seen(guild_record(guild, discord.utils.utcnow(), left=True))
        self.ingest.forget_view(guild.id)

    @commands.Cog.listener()
    async def on_guild_update(self, _before: discord.Guild, after: discord.Guild) -> None:
        await self.ingest.guild_seen(guild_record(after, discord.utils.utcnow()))


async def setup(bot: EngageBot) -> None:
    await bot.add_cog(Ingest(bot))
