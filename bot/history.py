"""Reading Discord history into the same pipeline as live events: gap recovery and backfill.

After a new gateway session (not a resume) every watched channel and thread is read after its
newest stored message, and the last few stored messages are reconciled with Discord (edits,
deletions and reactions that happened while the bot was away). Writes are idempotent, so the
database ends as if the bot had never stopped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import discord

from bot.convert import (
    channel_record,
    emoji_key,
    guild_record,
    has_mod_permission,
    member_record,
    own_id,
)
from bot.convert import message_record as to_record
from bot.domain.records import (
    MemberEvent,
    MemberEventKind,
    MessageDelete,
    ReactionAdd,
    ReactionClear,
    ReactionRemove,
)
from bot.domain.snowflakes import snowflake_at
from bot.services.ingest import IngestService

log = logging.getLogger(__name__)

RECONCILE_WINDOW = 100
"""How many of the newest stored messages per channel are checked again after downtime."""
PROGRESS_EVERY = 1000
RECHECK_REACTORS = timedelta(hours=24)
"""Reactions on messages younger than this are re-read user by user after downtime."""

Progress = Callable[["ReadReport"], Awaitable[None]]
Readable = discord.TextChannel | discord.Thread | discord.VoiceChannel | discord.StageChannel


@dataclass
class ReadReport:
    channels: int = 0
    channels_done: int = 0
    messages: int = 0
    skipped_channels: int = 0


class HistoryReader:
    def __init__(
        self,
        client: discord.Client,
        ingest: IngestService,
        *,
        backfill_days: int = 30,
        concurrency: int = 2,
        reconcile_window: int = RECONCILE_WINDOW,
    ) -> None:
        self.client = client
        self.ingest = ingest
        self.backfill_days = backfill_days
        self.reconcile_window = reconcile_window
        self._guild_locks: dict[int, asyncio.Lock] = {}
        self._reading = asyncio.Semaphore(concurrency)

    def _lock(self, guild_id: int) -> asyncio.Lock:
        return self._guild_locks.setdefault(guild_id, asyncio.Lock())

    # -- entry points ----------------------------------------------------------------------

    async def recover_guild(self, guild: discord.Guild) -> ReadReport:
        """Catch up on everything that happened in a guild while the bot was not connected."""
        async with self._lock(guild.id):
            await self.sync_structure(guild)
            newest = await self.ingest.newest_ids(guild.id)
            report = ReadReport()
            # A channel never read (or a guild new to the bot) gets the backfill window.
            since = self.ingest.clock() - timedelta(days=self.backfill_days)
            for channel in await self._readable(guild, report, newest=newest):
                after = newest.get(channel.id)
                await self._read_channel(channel, after, since, report, reconcile=True)
                report.channels_done += 1
            await self.ingest.writer.flush()
            log.info(
                "guild %s caught up: %d channels, %d messages read, %d channels not readable",
                guild.id,
                report.channels_done,
                report.messages,
                report.skipped_channels,
            )
            return report

    async def backfill(
        self, guild: discord.Guild, days: int, progress: Progress | None = None
    ) -> ReadReport:
        """Read ``days`` of history of every watched channel (idempotent)."""
        async with self._lock(guild.id):
            await self.sync_structure(guild)
            since = self.ingest.clock() - timedelta(days=days)
            report = ReadReport()
            channels = await self._readable(guild, report, since=since)
            for channel in channels:
                await self._read_channel(channel, None, since, report, progress=progress)
                report.channels_done += 1
                if progress is not None:
                    await progress(report)
            await self.ingest.writer.flush()
            log.info("guild %s backfilled %d days: %d messages", guild.id, days, report.messages)
            return report

    async def sync_structure(self, guild: discord.Guild) -> None:
        """Guild, channels, active threads and the member list, as they are now."""
        now = self.ingest.clock()
        await self.ingest.guild_seen(guild_record(guild, now))
        await self.ingest.view(guild.id)
        records = [channel_record(c) for c in guild.channels]
        records += [channel_record(t) for t in guild.threads]
        await self.ingest.channels_seen(records)
        if not guild.chunked and self.client.intents.members:
            try:
                await guild.chunk(cache=True)
            except (TimeoutError, discord.HTTPException) as exc:
                log.warning("could not load the member list of guild %s: %s", guild.id, exc)
        if guild.chunked:
            await self._sync_members(guild, now)

    async def _sync_members(self, guild: discord.Guild, now: datetime) -> None:
        stored = await self.ingest.member_repo.present_members(guild.id)
        present = {m.id: m for m in guild.members}
        for member in present.values():
            staff = self.ingest.is_staff(
                guild.id, (r.id for r in member.roles), has_mod_permission(member)
            )
            await self.ingest.member(member_record(member, staff))
            if member.id not in stored and member.joined_at is not None:
                await self.ingest.member_event(
                    MemberEvent(
                        guild.id,
                        member.id,
                        MemberEventKind.JOIN,
                        member.joined_at,
                        is_bot=member.bot,
                    )
                )
        for user_id in stored - present.keys():
            await self.ingest.member_event(
                MemberEvent(guild.id, user_id, MemberEventKind.LEAVE, now)
            )

    # -- reading -----------------------------------------------------------------------------

    async def _readable(
        self,
        guild: discord.Guild,
        report: ReadReport,
        *,
        since: datetime | None = None,
        newest: dict[int, int] | None = None,
    ) -> list[Readable]:
        """Watched channels and threads the bot may read; archived threads that changed."""
        view = await self.ingest.view(guild.id)
        me = guild.me
        found: list[Readable] = []
        for channel in guild.channels:
            if isinstance(channel, discord.ForumChannel | discord.TextChannel):
                if not view.channel_watched(channel.id):
                    continue
                permissions = channel.permissions_for(me)
                if not (permissions.view_channel and permissions.read_message_history):
                    report.skipped_channels += 1
                    log.info("cannot read history of channel %s in guild %s", channel.id, guild.id)
                    continue
                if isinstance(channel, discord.TextChannel):
                    found.append(channel)
                found.extend(await self._threads(channel, since, newest or {}))
        # Active threads whose parent is watched (their archived siblings came above).
        known = {c.id for c in found}
        for thread in guild.threads:
            if thread.id not in known and view.channel_watched(thread.id, thread.parent_id):
                found.append(thread)
        report.channels = len(found)
        return found

    async def _threads(
        self,
        channel: discord.ForumChannel | discord.TextChannel,
        since: datetime | None,
        newest: dict[int, int],
    ) -> list[discord.Thread]:
        threads = list(channel.threads)
        try:
            async for thread in channel.archived_threads(limit=None):
                archived_at = thread.archive_timestamp
                stored = newest.get(thread.id)
                if since is not None and archived_at < since:
                    break
                if since is None and stored is not None and (thread.last_message_id or 0) <= stored:
                    continue
                threads.append(thread)
        except discord.Forbidden:
            log.info("cannot list archived threads of channel %s", channel.id)
        await self.ingest.channels_seen(channel_record(t) for t in threads)
        return threads

    async def _read_channel(
        self,
        channel: Readable,
        after_id: int | None,
        since: datetime,
        report: ReadReport,
        *,
        reconcile: bool = False,
        progress: Progress | None = None,
    ) -> None:
        async with self._reading:
            try:
                if reconcile and after_id is not None:
                    await self._reconcile(channel, after_id)
                after = (
                    discord.Object(after_id) if after_id else discord.Object(snowflake_at(since))
                )
                async for message in _history(channel, after):
                    await self._ingest_message(message)
                    report.messages += 1
                    if report.messages % PROGRESS_EVERY == 0:
                        log.info(
                            "read %d messages so far in guild %s", report.messages, channel.guild.id
                        )
                        if progress is not None:
                            await progress(report)
            except discord.Forbidden:
                report.skipped_channels += 1
                log.info("history of channel %s is not readable", channel.id)
            except discord.HTTPException as exc:
                report.skipped_channels += 1
                log.warning("reading channel %s failed: %s %s", channel.id, exc.status, exc.code)

    async def _ingest_message(self, message: discord.Message) -> None:
        bot_id = own_id(self.client)
        guild = message.guild
        if guild is None:
            return
        view = await self.ingest.view(guild.id)
        record = to_record(message, bot_id, staff_role_ids=view.settings.staff_role_ids)
        if record is None:
            return
        await self.ingest.message(record)
        for reaction in message.reactions:
            await self._reaction_users(message, reaction, stored=frozenset())

    async def _reaction_users(
        self, message: discord.Message, reaction: discord.Reaction, stored: frozenset[int]
    ) -> None:
        guild = message.guild
        if guild is None:
            return
        key = emoji_key(reaction.emoji)
        now = self.ingest.clock()
        present: set[int] = set()
        async for user in reaction.users(limit=None):
            present.add(user.id)
            if user.id not in stored:
                await self.ingest.reaction(
                    ReactionAdd(
                        message.id,
                        guild.id,
                        message.channel.id,
                        user.id,
                        key,
                        now,
                        user_is_bot=user.bot,
                    )
                )
        for user_id in stored - present:
            await self.ingest.reaction(ReactionRemove(message.id, guild.id, user_id, key, now))

    async def _reconcile(self, channel: Readable, newest_id: int) -> None:
        """Edits, deletions and reactions on the newest stored messages, as Discord has them."""
        recent = [
            m
            async for m in channel.history(
                limit=self.reconcile_window, before=discord.Object(newest_id + 1)
            )
        ]
        if not recent:
            return
        low = min(m.id for m in recent)
        stored = await self.ingest.stored_window(channel.guild.id, channel.id, low, newest_id)
        now = self.ingest.clock()
        seen = {m.id for m in recent}
        guild_id = channel.guild.id
        for message_id, entry in stored.items():
            if message_id not in seen and not entry.deleted:
                await self.ingest.message_deleted(
                    MessageDelete(message_id, guild_id, channel.id, now)
                )
        for message in recent:
            known = stored.get(message.id)
            if known is None:
                await self._ingest_message(message)
                continue
            entry = known
            if message.edited_at and (
                entry.edited_at is None or message.edited_at > entry.edited_at
            ):
                view = await self.ingest.view(guild_id)
                edited = to_record(
                    message,
                    own_id(self.client),
                    staff_role_ids=view.settings.staff_role_ids,
                )
                if edited is not None:
                    await self.ingest.message_edited(edited)
            counts = {emoji_key(r.emoji): r for r in message.reactions}
            # On recent messages one member's reaction may replace another's with the same
            # count, so their reactors are read again; older ones are checked by count.
            recent_enough = message.created_at >= now - RECHECK_REACTORS
            for key, reaction in counts.items():
                stored_users = entry.reactions.get(key, frozenset())
                if recent_enough or reaction.count != len(stored_users):
                    await self._reaction_users(message, reaction, stored_users)
            for key in entry.reactions.keys() - counts.keys():
                await self.ingest.reaction(ReactionClear(message.id, guild_id, now, key))


async def _history(channel: Readable, after: discord.Object) -> AsyncIterator[discord.Message]:
    async for message in channel.history(limit=None, after=after, oldest_first=True):
        yield message
