"""Discord objects to plain records: the facts only Discord knows, nothing decided yet."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import discord

from bot.domain.records import (
    ChannelKind,
    ChannelRecord,
    GuildRecord,
    MemberRecord,
    MessageRecord,
)
from bot.domain.snowflakes import snowflake_time

_KINDS: dict[discord.ChannelType, ChannelKind] = {
    discord.ChannelType.text: ChannelKind.TEXT,
    discord.ChannelType.news: ChannelKind.ANNOUNCEMENT,
    discord.ChannelType.forum: ChannelKind.FORUM,
    discord.ChannelType.media: ChannelKind.MEDIA,
    discord.ChannelType.voice: ChannelKind.VOICE,
    discord.ChannelType.stage_voice: ChannelKind.STAGE,
    discord.ChannelType.category: ChannelKind.CATEGORY,
    discord.ChannelType.public_thread: ChannelKind.PUBLIC_THREAD,
    discord.ChannelType.private_thread: ChannelKind.PRIVATE_THREAD,
    discord.ChannelType.news_thread: ChannelKind.ANNOUNCEMENT_THREAD,
}
_FORWARD = discord.MessageReferenceType.forward
_REPLY_TYPES = frozenset({discord.MessageType.default, discord.MessageType.reply})


def channel_kind(channel: discord.abc.GuildChannel | discord.Thread) -> ChannelKind:
    if isinstance(channel, discord.Thread):
        parent = channel.parent
        if isinstance(parent, discord.ForumChannel):
            return ChannelKind.FORUM_POST
    return _KINDS.get(channel.type, ChannelKind.OTHER)


def channel_record(channel: discord.abc.GuildChannel | discord.Thread) -> ChannelRecord:
    if isinstance(channel, discord.Thread):
        tags = tuple(tag.name for tag in channel.applied_tags)
        return ChannelRecord(
            guild_id=channel.guild.id,
            channel_id=channel.id,
            kind=channel_kind(channel),
            name=channel.name,
            parent_id=channel.parent_id,
            created_at=channel.created_at,
            archived=channel.archived,
            owner_id=channel.owner_id,
            tags=tags,
        )
    return ChannelRecord(
        guild_id=channel.guild.id,
        channel_id=channel.id,
        kind=channel_kind(channel),
        name=channel.name,
        parent_id=channel.category_id,
        position=channel.position,
        created_at=channel.created_at,
    )


def guild_record(guild: discord.Guild, now: datetime, *, left: bool = False) -> GuildRecord:
    return GuildRecord(guild.id, guild.name, now, left_at=now if left else None)


def has_mod_permission(member: discord.Member) -> bool:
    permissions = member.guild_permissions
    return permissions.manage_guild or permissions.manage_messages


def member_record(member: discord.Member, is_staff: bool) -> MemberRecord:
    return MemberRecord(
        guild_id=member.guild.id,
        user_id=member.id,
        is_bot=member.bot,
        joined_at=member.joined_at,
        is_staff=is_staff,
    )


def is_staff_member(
    member: discord.Member, channel: object, staff_role_ids: frozenset[int]
) -> bool:
    """Staff (METRICS.md): Manage Server or Manage Messages in the channel, or a staff role."""
    if any(member.get_role(role_id) is not None for role_id in staff_role_ids):
        return True
    permissions_for = getattr(channel, "permissions_for", None)
    permissions = (
        permissions_for(member) if permissions_for is not None else member.guild_permissions
    )
    return permissions.manage_guild or permissions.manage_messages


class StaffCheck:
    """``is_staff_member``, remembered per (channel, role set, staff roles).

    Computing a member's permissions in a channel is the costliest step of turning a message
    into a record, and it runs for the author and everyone mentioned. The answer depends only on
    the member's roles, a permission overwrite for the member in the channel, owning the guild
    and being timed out: members alike in all four share one entry, so a guild of thousands of
    members needs a few entries per channel. It changes only when roles, channels, the guild or
    a member change: ``forget`` is called on each of those.
    """

    LIMIT = 100_000

    def __init__(self) -> None:
        self._known: dict[tuple[object, ...], bool] = {}
        self._personal: dict[object, frozenset[int]] = {}
        """Per channel or thread, its ``_personal_ids``."""

    def __call__(
        self, member: discord.Member, channel: object, staff_role_ids: frozenset[int]
    ) -> bool:
        place = getattr(channel, "id", 0)
        personal = self._personal.get(place)
        if personal is None:
            if len(self._personal) >= self.LIMIT:
                self._personal.clear()
            personal = self._personal[place] = self._personal_ids(member, channel)
        member_id = member.id
        timed_out = member.timed_out_until is not None and member.is_timed_out()
        roles = getattr(member, "_roles", None)  # discord.py's sorted array of role ids
        key = (
            place,
            bytes(roles) if roles is not None else _role_ids(member),
            member_id if member_id in personal else 0,
            timed_out,
            staff_role_ids,
        )
        known = self._known.get(key)
        if known is None:
            if len(self._known) >= self.LIMIT:
                self._known.clear()
            known = self._known[key] = is_staff_member(member, channel, staff_role_ids)
        return known

    @staticmethod
    def _personal_ids(member: discord.Member, channel: object) -> frozenset[int]:
        """Who has an answer of their own in ``channel``: the guild's owner, and members with
        a permission overwrite of their own (a thread's are its parent's)."""
        source = channel.parent if isinstance(channel, discord.Thread) else channel
        overwrites = getattr(source, "overwrites", None) or {}
        ids = {target.id for target in overwrites if not isinstance(target, discord.Role)}
        if member.guild.owner_id is not None:
            ids.add(member.guild.owner_id)
        return frozenset(ids)

    def forget(self) -> None:
        self._known.clear()
        self._personal.clear()


def _role_ids(member: discord.Member) -> object:
    """The member's role ids when discord.py's array of them is not there (``Member.roles``
    builds and sorts Role objects: too slow for every message)."""
    return tuple(sorted(role.id for role in member.roles))


def roles_on_arrival(message: discord.Message) -> tuple[object, ...]:
    """The role arrays of a new message's author, then of each member it mentions, as the
    message finds them, for a record built later. discord.py replaces a member's array of role
    ids when the member changes, never changes it in place; a member's own next message replaces
    it too (from its copy of the member), before any event says the roles changed."""
    author = getattr(message.author, "_roles", None)
    mentions = message.mentions
    if not mentions:
        return (author,)
    if len(mentions) == 1:  # most messages that mention anyone
        return (author, getattr(mentions[0], "_roles", None))
    return (author, *[getattr(user, "_roles", None) for user in mentions])


def as_sent(
    message: discord.Message, roles: tuple[object, ...]
) -> tuple[discord.Member | discord.User, list[discord.Member | discord.User]]:
    """The message's author and mentioned members with the roles ``roles_on_arrival`` took
    (the cached members, unless their roles have been replaced since)."""
    author = _with_roles(message.author, roles[0])
    mentions: list[discord.Member | discord.User] = message.mentions
    replaced: list[discord.Member | discord.User] | None = None
    for i in range(1, len(roles)):
        user = mentions[i - 1]
        sent = _with_roles(user, roles[i])
        if sent is not user:
            if replaced is None:
                replaced = list(mentions)
            replaced[i - 1] = sent
    return author, mentions if replaced is None else replaced


def _with_roles(
    user: discord.Member | discord.User, roles: object
) -> discord.Member | discord.User:
    if roles is None or not isinstance(user, discord.Member):
        return user
    now = user._roles
    if now is roles or now == roles:  # replaced by each of their messages, mostly unchanged
        return user
    sent = discord.Member._copy(user)
    sent._roles = roles  # type: ignore[assignment]
    return sent


def own_id(client: discord.Client) -> int | None:
    """The bot's own user id, as ``message_record`` takes it (None before it has logged in)."""
    user = client.user
    return user.id if user is not None else None


def message_record(
    message: discord.Message,
    bot_user_id: int | None,
    *,
    keep_content: bool = True,
    staff_role_ids: frozenset[int] = frozenset(),
    is_staff: Callable[[discord.Member, object, frozenset[int]], bool] | None = None,
    sent: tuple[discord.Member | discord.User, list[discord.Member | discord.User]] | None = None,
) -> MessageRecord | None:
    """None for messages outside guilds. ``counted`` here only says human and not system.
    ``sent``: the author and mentioned members as the message was sent (``as_sent``), if not
    as cached."""
    guild = message.guild
    if guild is None:
        return None
    channel = message.channel
    thread_id: int | None = None
    channel_id = channel.id
    # Most messages are in text channels, which have no parent to look for.
    if type(channel) is not _TEXT_CHANNEL:
        parent_id = getattr(channel, "parent_id", None)
        if isinstance(channel, discord.Thread) or (
            parent_id is not None and channel.type in _THREAD_TYPES
        ):
            thread_id = channel.id
            if parent_id is not None:
                channel_id = parent_id
    if sent is None:
        author, users = message.author, message.mentions
    else:
        author, users = sent
    is_bot = author.bot
    is_webhook = message.webhook_id is not None
    is_system = _SYSTEM_TYPES.get(message.type)
    if is_system is None:
        is_system = _SYSTEM_TYPES[message.type] = message.is_system()
    reference = message.reference
    reply_to_id = None
    is_forward = False
    if reference is not None:
        if reference.type is _FORWARD:
            is_forward = True
        elif message.type in _REPLY_TYPES:
            reply_to_id = reference.message_id
    staff = is_staff or is_staff_member
    roles = message.role_mentions
    author_is_staff = isinstance(author, discord.Member) and staff(author, channel, staff_role_ids)
    mentions_staff = False
    for user in users:
        if (
            user.id != author.id
            and isinstance(user, discord.Member)
            and staff(user, channel, staff_role_ids)
        ):
            mentions_staff = True
            break
    if roles and not mentions_staff:
        mentions_staff = any(role.id in staff_role_ids for role in roles)
    mentioned = tuple([user.id for user in users]) if users else ()
    # Positional, in the fields' order: 21 keyword arguments cost five times as much (1.3 us).
    return MessageRecord(
        message.id,  # message_id
        guild.id,  # guild_id
        channel_id,
        author.id,  # author_id
        snowflake_time(message.id),  # created_at, as message.created_at
        thread_id,
        is_bot,
        is_webhook,
        is_system,
        not (is_bot or is_webhook or is_system),  # counted
        reply_to_id,
        is_forward,
        thread_id is not None and message.id == thread_id,  # is_thread_starter
        mentioned,  # mention_user_ids
        tuple([role.id for role in roles]) if roles else (),  # mention_role_ids
        message.mention_everyone,  # mentions_everyone
        bot_user_id is not None and bot_user_id in mentioned,  # mentions_bot
        message.edited_at,
        (message.content or None) if keep_content else None,
        author_is_staff,
        mentions_staff,
    )


_TEXT_CHANNEL = discord.TextChannel
_SYSTEM_TYPES: dict[discord.MessageType, bool] = {}
"""Whether messages of a type are system messages, as discord.py says (asked once a type)."""

_THREAD_TYPES = frozenset(
    {
        discord.ChannelType.public_thread,
        discord.ChannelType.private_thread,
        discord.ChannelType.news_thread,
    }
)


def emoji_key(emoji: discord.PartialEmoji | discord.Emoji | str) -> str:
    """Unicode emoji as themselves, custom emoji as ``name:id`` (as history exports write them)."""
    if isinstance(emoji, str):
        return emoji
    if emoji.id is None:
        return emoji.name or "?"
    return f"{emoji.name}:{emoji.id}"
