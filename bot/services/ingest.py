"""IngestService: decides what of each event is kept, and hands it to the writer.

The cog turns discord objects into records with the facts only Discord knows (who, where, when,
bot or human). This service adds the community's rules: which channels are watched, whose
activity counts, which text is kept, and who opted out. It never touches the database itself:
reads come from repositories once per guild, writes go through the batching writer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from bot.domain.guilds import ChannelSettings, GuildSettings, is_watched
from bot.domain.privacy import kept_text
from bot.domain.questions import looks_like_question
from bot.domain.records import (
    ChannelDeleted,
    ChannelKind,
    ChannelRecord,
    ContentExpiry,
    Event,
    GuildRecord,
    MemberEvent,
    MemberForget,
    MemberRecord,
    MessageDelete,
    MessageEdit,
    MessageRecord,
    ReactionAdd,
    ReactionClear,
    ReactionRemove,
    StoredMessage,
)
from storage.repositories import (
    ChannelRepository,
    GuildRepository,
    MemberRepository,
    MessageRepository,
    SettingsStore,
)
from storage.writer import EventWriter

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


@dataclass
class GuildView:
    """What the service needs to know about one guild, kept in memory."""

    settings: GuildSettings
    channels: dict[int, ChannelSettings] = field(default_factory=dict)
    opted_out: set[int] = field(default_factory=set)

    @property
    def any_explicit(self) -> bool:
        return any(c.watched is True for c in self.channels.values())

    def channel_watched(self, channel_id: int, parent_id: int | None = None) -> bool:
        channel = self.channels.get(channel_id)
        if channel is None:
            # A channel the bot has not recorded yet follows its parent, or the guild default.
            if parent_id is not None and parent_id in self.channels:
                return self.channel_watched(parent_id)
            return not self.any_explicit
        parent = self.channels.get(channel.parent_id) if channel.parent_id else None
        return is_watched(channel, parent, self.any_explicit)

    def is_help(self, channel_id: int) -> bool:
        channel = self.channels.get(channel_id)
        return channel is not None and channel.is_help


class IngestService:
    def __init__(
        self,
        writer: EventWriter,
        guilds: GuildRepository,
        channels: ChannelRepository,
        members: MemberRepository,
        messages: MessageRepository,
        clock: Clock,
        *,
        settings_store: SettingsStore,
        content_retention: timedelta = timedelta(days=30),
    ) -> None:
        self.settings_store = settings_store
        self.content_retention = content_retention
        self.writer = writer
        self.guild_repo = guilds
        self.channel_repo = channels
        self.member_repo = members
        self.message_repo = messages
        self.clock = clock
        self._views: dict[int, GuildView] = {}

    # -- guild state -----------------------------------------------------------------------

    async def view(self, guild_id: int) -> GuildView:
        view = self._views.get(guild_id)
        if view is None:
            view = await self.reload(guild_id)
        return view

    def cached_view(self, guild_id: int) -> GuildView | None:
        return self._views.get(guild_id)

    async def reload(self, guild_id: int) -> GuildView:
        """Read a guild's settings again (after a moderator changed them)."""
        settings = await self.guild_repo.settings(guild_id)
        channels = {c.channel_id: c for c in await self.channel_repo.channels(guild_id)}
        opted_out = await self.member_repo.opted_out(guild_id)
        view = GuildView(settings, channels, opted_out)
        self._views[guild_id] = view
        return view

    def forget_view(self, guild_id: int) -> None:
        self._views.pop(guild_id, None)

    # -- events ------------------------------------------------------------------------------

    async def guild_seen(self, record: GuildRecord) -> None:
        await self.writer.put(record)

    async def channels_seen(self, records: Iterable[ChannelRecord]) -> None:
        for record in records:
            view = self._views.get(record.guild_id)
            if view is not None:
                known = view.channels.get(record.channel_id)
                view.channels[record.channel_id] = _channel_settings(record, known)
            await self.writer.put(record)

    async def channel_deleted(self, event: ChannelDeleted) -> None:
        view = self._views.get(event.guild_id)
        if view is not None and event.channel_id in view.channels:
            view.channels[event.channel_id] = replace(view.channels[event.channel_id], deleted=True)
        await self.writer.put(event)

    async def message(self, record: MessageRecord) -> None:
        """A message as Discord gave it; counted and content are decided here."""
        view = self._views.get(record.guild_id) or await self.view(record.guild_id)
        if record.author_id in view.opted_out:
            return
        counted = self._counted(view, record)
        content = self._kept_content(view, record, counted)
        if counted != record.counted or content is not record.content:
            record = replace(record, counted=counted, content=content)
        await self.writer.put(record)

    @staticmethod
    def _counted(view: GuildView, record: MessageRecord) -> bool:
        """Human and not system (Discord's facts) and in a watched place (the guild's rule)."""
        where = record.thread_id if record.thread_id is not None else record.channel_id
        return record.counted and view.channel_watched(where, record.channel_id)

    def _kept_content(self, view: GuildView, record: MessageRecord, counted: bool) -> str | None:
        return kept_text(
            record.content,
            view.settings.store_content,
            counted=counted,
            is_question=lambda text: self.is_question_text(view, record, text),
        )

    def is_question_text(self, view: GuildView, record: MessageRecord, text: str) -> bool:
        if record.is_thread_starter and record.thread_id is not None:
            thread = view.channels.get(record.thread_id)
            if thread is not None and thread.kind is ChannelKind.FORUM_POST:
                return True
        if view.is_help(record.channel_id):
            return True
        return looks_like_question(text)

    async def message_edited(self, record: MessageRecord) -> None:
        """An edit, given as the message as it now is; its text follows the same policy."""
        if record.edited_at is None:
            return
        view = self._views.get(record.guild_id) or await self.view(record.guild_id)
        if record.author_id in view.opted_out:
            return
        content = self._kept_content(view, record, self._counted(view, record))
        await self.writer.put(
            MessageEdit(record.message_id, record.guild_id, record.edited_at, content)
        )

    async def message_deleted(self, event: MessageDelete) -> None:
        await self.writer.put(event)

    async def reaction(self, event: ReactionAdd | ReactionRemove | ReactionClear) -> None:
        if not isinstance(event, ReactionClear):
            view = self._views.get(event.guild_id) or await self.view(event.guild_id)
            if event.user_id in view.opted_out:
                return
        await self.writer.put(event)

    async def member(self, record: MemberRecord) -> None:
        view = self._views.get(record.guild_id) or await self.view(record.guild_id)
        if record.user_id not in view.opted_out:
            await self.writer.put(record)

    async def member_event(self, event: MemberEvent) -> None:
        view = self._views.get(event.guild_id) or await self.view(event.guild_id)
        if event.user_id not in view.opted_out:
            await self.writer.put(event)

    def is_staff(self, guild_id: int, role_ids: Iterable[int], has_mod_permission: bool) -> bool:
        """Staff: Manage Server or Manage Messages, or one of the guild's staff roles."""
        if has_mod_permission:
            return True
        view = self._views.get(guild_id)
        return view is not None and not view.settings.staff_role_ids.isdisjoint(role_ids)

    async def set_watch(self, channel: ChannelRecord, watched: bool | None) -> GuildView:
        """Watch a channel explicitly (True), ignore it (False) or follow the default (None)."""
        await self.writer.put(channel)
        await self.writer.flush()
        await self.settings_store.set_channel_watch(channel.guild_id, channel.channel_id, watched)
        return await self.reload(channel.guild_id)

    # -- privacy -----------------------------------------------------------------------------

    async def forget_member(self, guild_id: int, user_id: int) -> None:
        """Erase what is stored about a member and stop logging them (opt-out or a moderator)."""
        view = await self.view(guild_id)
        view.opted_out.add(user_id)
        await self.writer.put(MemberForget(guild_id, user_id, self.clock()))
        await self.writer.flush()
        log.info("erased member %s of guild %s", user_id, guild_id)

    async def opt_in(self, guild_id: int, user_id: int) -> bool:
        view = await self.view(guild_id)
        if user_id not in view.opted_out:
            return False
        await self.member_repo.clear_opt_out(guild_id, user_id)
        view.opted_out.discard(user_id)
        return True

    async def expire_content(self) -> datetime:
        """Erase stored message text older than the retention window; returns the cutoff."""
        cutoff = self.clock() - self.content_retention
        await self.writer.put(ContentExpiry(cutoff))
        await self.writer.flush()
        log.info("message text from before %s erased", cutoff.isoformat())
        return cutoff

    # -- gap recovery ------------------------------------------------------------------------

    async def newest_ids(self, guild_id: int) -> dict[int, int]:
        """Each channel's and thread's newest stored message id (everything written first)."""
        await self.writer.flush()
        return await self.channel_repo.newest_message_ids(guild_id)

    async def stored_window(
        self, guild_id: int, where_id: int, low_id: int, high_id: int
    ) -> dict[int, StoredMessage]:
        return await self.message_repo.window(guild_id, where_id, low_id, high_id)

    async def put_all(self, events: Iterable[Event]) -> None:
        for event in events:
            await self.writer.put(event)


def _channel_settings(record: ChannelRecord, known: ChannelSettings | None) -> ChannelSettings:
    return ChannelSettings(
        channel_id=record.channel_id,
        guild_id=record.guild_id,
        kind=record.kind,
        name=record.name,
        parent_id=record.parent_id,
        watched=known.watched if known else None,
        is_help=known.is_help if known else False,
        response_target_minutes=known.response_target_minutes if known else None,
        inferred_linking=known.inferred_linking if known else False,
        newest_message_id=known.newest_message_id if known else None,
        archived=record.archived,
    )
