"""Listeners: every community event becomes a record and goes to the IngestService.

Raw events are used where the cached ones miss things (edits, deletions and reactions on
messages that are not in discord.py's cache, members who left while uncached).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Sequence
from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands

from bot.convert import (
    StaffCheck,
    as_sent,
    channel_record,
    emoji_key,
    guild_record,
    has_mod_permission,
    member_record,
    message_record,
    own_id,
    roles_on_arrival,
)
from bot.domain.records import (
    ChannelDeleted,
    Event,
    MemberEvent,
    MemberEventKind,
    MemberRecord,
    MessageDelete,
    MessageRecord,
    ReactionAdd,
    ReactionClear,
    ReactionRemove,
)
from bot.history import ReadReport

if TYPE_CHECKING:
    from bot.app import EngageBot
    from bot.services.ingest import GuildView

log = logging.getLogger(__name__)

STAFF_CHANGES = (
    *("member_update", "guild_update", "guild_role_create", "guild_role_update"),
    *("guild_role_delete", "guild_channel_update", "guild_channel_delete", "thread_update"),
)
"""Events after which who is staff where may differ (roles, permissions, overwrites, owner)."""

CHANNEL_CHANGES = ("guild_channel_create", "guild_channel_update", "thread_create", "thread_update")

ARRIVALS_BATCH = 256
"""New messages held to be turned into records together (see ``Ingest.message_created``)."""

WAITING_FOR_WRITER = "engagebot: message waiting for the writer"
"""The name of a task holding a message until the writer has room (the bench counts them)."""


class Ingest(commands.Cog):
    def __init__(self, bot: EngageBot) -> None:
        self.bot = bot
        self.ingest = bot.services.ingest
        self.history = bot.history
        self._tasks: set[asyncio.Task[object]] = set()
        self._recovering: dict[int, asyncio.Task[object]] = {}
        self.staff = StaffCheck()
        self._arrived: list[tuple[discord.Message, tuple[object, ...]]] = []
        """New messages held, each with its author's and mentioned members' roles."""

    def _sync_handlers(self) -> list[tuple[str, Any]]:
        forget = self._forget_staff
        return [
            ("message", self.message_created),
            *((name, self.channel_changed) for name in CHANNEL_CHANGES),
            ("guild_channel_delete", self.channel_gone),
            ("raw_thread_delete", self.thread_gone),
            *((name, forget) for name in STAFF_CHANGES),
        ]

    async def cog_load(self) -> None:
        for name, handler in self._sync_handlers():
            self.bot.add_sync_handler(name, handler)
        self.ingest.writer.add_source(self.take_arrivals)
        self.bot.add_event_barrier(self.take_arrivals)

    async def cog_unload(self) -> None:
        for name, handler in self._sync_handlers():
            self.bot.remove_sync_handler(name, handler)
        self.take_arrivals()
        self.ingest.writer.remove_source(self.take_arrivals)
        self.bot.remove_event_barrier(self.take_arrivals)
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

    def message_created(self, message: discord.Message) -> None:
        """A new message, called by the bot's dispatch as it arrives.

        It is held, and its record built later together with the messages that arrive after
        it: once ``ARRIVALS_BATCH`` are held, when the writer next writes (within its usual
        delay), flushes or closes, and before discord.py parses any other gateway event (the
        bot's event barrier). Until then only new messages (and reactions, which a record does
        not read) change discord.py's caches, so the record reads the message, its channel and
        who is staff as they were when it was sent; only the roles of its author and of the
        members it mentions, which each one's own next message replaces, are taken now.
        Building records in one pass over a batch costs about half of building each between
        gateway events, whose parsing leaves the processor's caches cold for this code
        (``bench/ingest.py``).
        """
        if message.guild is None:
            return
        arrived = self._arrived
        arrived.append((message, roles_on_arrival(message)))
        if len(arrived) >= ARRIVALS_BATCH:
            self.take_arrivals()
        elif len(arrived) == 1:
            self.ingest.writer.holding()

    def take_arrivals(self) -> None:
        """Queue the held messages' records now, all in one go. With the guild's settings at
        hand and room in the writer's buffer, nothing is awaited and no task made; otherwise a
        task waits for both (a guild's first messages wait for its settings to be read).

        Two passes, each over the whole batch: the records first (reading discord.py's
        objects), then the content and question policy (the detector's patterns). Keeping each
        pass's code and data warm cost 2 us a message less than both steps per message."""
        if not self._arrived:
            return
        arrived, self._arrived = self._arrived, []
        built: list[tuple[GuildView, MessageRecord, str | None]] = []
        bot_id = own_id(self.bot)
        for message, roles in arrived:
            try:
                guild_id = message.guild.id if message.guild is not None else 0
                view = self.ingest.cached_view(guild_id)
                if view is None:
                    self._background(self._message_later(guild_id, message), WAITING_FOR_WRITER)
                    continue
                # Built without its text: the content policy adds it back where it is kept.
                record = message_record(
                    message,
                    bot_id,
                    keep_content=False,
                    staff_role_ids=view.settings.staff_role_ids,
                    is_staff=self.staff,
                    sent=as_sent(message, roles),
                )
                if record is not None:
                    built.append((view, record, message.content or None))
            except Exception:
                log.exception("handling message %s failed", message.id)
        events: list[Event] = []
        accept = self.ingest.accept_message
        for view, record, text in built:
            try:
                events.extend(accept(view, record, text))
            except Exception:
                log.exception("handling message %s failed", record.message_id)
        self._queue(events)

    def _forget_staff(self, *_: object) -> None:
        self.staff.forget()

    async def _message_later(self, guild_id: int, message: discord.Message) -> None:
        view = await self.ingest.view(guild_id)
        record = self._record(message, view.settings.staff_role_ids)
        if record is not None:
            await self.ingest.message(record)

    def _record(
        self, message: discord.Message, staff_role_ids: frozenset[int]
    ) -> MessageRecord | None:
        return message_record(
            message, own_id(self.bot), staff_role_ids=staff_role_ids, is_staff=self.staff
        )

    @commands.Cog.listener()
    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        if payload.guild_id is None:
            return
        # No edited_at: an embed resolving, not an edit by the author (the service skips it).
        view = self.ingest.cached_view(payload.guild_id) or await self.ingest.view(payload.guild_id)
        record = self._record(payload.message, view.settings.staff_role_ids)
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

    # Called synchronously as the events arrive (see ``cog_load``): the next message in a new
    # thread or forum post must already find it in the guild's settings.

    def channel_changed(self, *channels: discord.abc.GuildChannel | discord.Thread) -> None:
        """A channel or thread created (one argument) or updated (before, after)."""
        self._queue(self.ingest.accept_channels([channel_record(channels[-1])]))

    def channel_gone(self, channel: discord.abc.GuildChannel) -> None:
        event = ChannelDeleted(channel.guild.id, channel.id, discord.utils.utcnow())
        self._queue(self.ingest.accept_channel_deleted(event))

    def thread_gone(self, payload: discord.RawThreadDeleteEvent) -> None:
        event = ChannelDeleted(payload.guild_id, payload.thread_id, discord.utils.utcnow())
        self._queue(self.ingest.accept_channel_deleted(event))

    def _queue(self, events: Sequence[Event]) -> None:
        """Into the writer's buffer now, or, while it is full, from a task that waits."""
        if events and not self.ingest.writer.offer(events):
            self._background(self.ingest.writer.put_many(events), WAITING_FOR_WRITER)

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
