"""DiscordChatExporter JSON exports to plain records: history from before the bot joined.

The format is what DiscordChatExporter's ``JsonMessageWriter`` writes: a ``guild`` {id, name},
a ``channel`` {id, type, categoryId, category, name, topic}, an optional ``exportedAt``, and
``messages``, each with {id, type, timestamp, timestampEdited, content, author {id, isBot, ...},
reactions [{emoji {id, name}, count, users?}], mentions [{id, ...}], reference? {messageId,
channelId, guildId, type?}}. Ids are strings of digits; times are ISO 8601 with an offset.
Older exporters omit ``exportedAt``, ``reference`` and reaction ``users``; those are optional.

The exporter writes an enum's name where it knows one (``Default``, ``Reply``,
``GuildPublicThread``) and the number otherwise (``"21"`` for a thread's starter message), so both
are accepted.

For a thread export, ``channel`` is the thread and ``categoryId`` its parent channel (the schema
predates threads, so "category" means "parent" there). Messages are recorded the way live ingest
records them: ``channel_id`` is the parent and ``thread_id`` the thread.

Two steps, both pure: :func:`parse_export` validates a whole export and maps it to records (any
problem raises :class:`ExportFormatError` with the JSON path), then :func:`plan_import` applies
the guild's rules (content policy, opt-outs, watched channels) and returns the events to write.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from bot.domain.json_reader import ExportFormatError as ExportFormatError
from bot.domain.json_reader import JsonObject
from bot.domain.privacy import kept_text
from bot.domain.questions import looks_like_question
from bot.domain.records import (
    ChannelKind,
    ChannelRecord,
    ContentPolicy,
    Event,
    GuildRecord,
    MessageRecord,
    ReactionAdd,
)
from bot.domain.snowflakes import snowflake_time

SKIPPED_NO_REACTION_USERS = "reaction users not in export"
"""A reaction whose users the export does not list (older exporters): nothing can be recorded."""
SKIPPED_AUTHOR_OPTED_OUT = "author opted out"
"""A message by a member who opted out: their events are not logged (DESIGN.md, Privacy)."""
SKIPPED_REACTOR_OPTED_OUT = "reacting member opted out"


# Channel types by the exporter's enum names (old and new spellings) and by Discord's numbers.
_CHANNEL_KINDS: dict[str, ChannelKind] = {
    "GuildTextChat": ChannelKind.TEXT,
    "GuildNews": ChannelKind.ANNOUNCEMENT,
    "GuildAnnouncement": ChannelKind.ANNOUNCEMENT,
    "GuildForum": ChannelKind.FORUM,
    "GuildMedia": ChannelKind.MEDIA,
    "GuildVoiceChat": ChannelKind.VOICE,
    "GuildStageVoice": ChannelKind.STAGE,
    "GuildCategory": ChannelKind.CATEGORY,
    "GuildPublicThread": ChannelKind.PUBLIC_THREAD,
    "GuildPrivateThread": ChannelKind.PRIVATE_THREAD,
    "GuildNewsThread": ChannelKind.ANNOUNCEMENT_THREAD,
    "GuildAnnouncementThread": ChannelKind.ANNOUNCEMENT_THREAD,
    "0": ChannelKind.TEXT,
    "2": ChannelKind.VOICE,
    "4": ChannelKind.CATEGORY,
    "5": ChannelKind.ANNOUNCEMENT,
    "10": ChannelKind.ANNOUNCEMENT_THREAD,
    "11": ChannelKind.PUBLIC_THREAD,
    "12": ChannelKind.PRIVATE_THREAD,
    "13": ChannelKind.STAGE,
    "15": ChannelKind.FORUM,
    "16": ChannelKind.MEDIA,
}
_DIRECT_MESSAGES = frozenset({"DirectTextChat", "DirectGroupTextChat", "1", "3"})

# discord.py's Message.is_system(): everything but these is a system message (joins, pins,
# boosts, "started a thread", ...). The live ingest uses that, so the import does too.
_NOT_SYSTEM = frozenset(
    {
        "Default",
        "Reply",
        "ChatInputCommand",
        "ContextMenuCommand",
        "ThreadStarterMessage",
        "0",
        "19",
        "20",
        "21",
        "23",
    }
)
_THREAD_STARTER_MESSAGE = frozenset({"ThreadStarterMessage", "21"})
_REPLY_TYPES = frozenset({"Default", "Reply", "0", "19"})
_DEFAULT_REFERENCE = frozenset({"Default", "0"})
_FORWARD = frozenset({"Forward", "1"})


@dataclass(frozen=True, slots=True)
class ChannelExport:
    """One export file as records; message text is as exported (:func:`plan_import` filters it)."""

    guild: GuildRecord
    channel: ChannelRecord
    """The exported channel; for a thread export, the thread (with ``parent_id``)."""
    parent: ChannelRecord | None
    """For a thread export, the parent channel as far as the export tells (its kind is inferred)."""
    messages: tuple[MessageRecord, ...]
    reactions: tuple[ReactionAdd, ...]
    reactions_without_users: int = 0

    @property
    def thread_id(self) -> int | None:
        return self.channel.channel_id if self.parent is not None else None

    @property
    def top_channel_id(self) -> int:
        """Where the messages count: the channel, or a thread's parent."""
        return self.parent.channel_id if self.parent is not None else self.channel.channel_id


@dataclass(frozen=True, slots=True)
class ImportContext:
    """What the database already holds and the guild's rules, for one export."""

    store_content: ContentPolicy = ContentPolicy.QUESTIONS
    opted_out: frozenset[int] = frozenset()
    watched: bool = True
    """Whether the export's channel (or thread) is watched: if not, nothing in it is counted."""
    help_channel: bool = False
    """In a help channel every counted message is a question (for the content policy)."""
    keep_content_since: datetime | None = None
    """Text older than this is past the retention window and is not stored."""
    guild_known: bool = False
    known_channel_ids: frozenset[int] = frozenset()
    """Channels already stored: their rows are kept as they are (the live state wins)."""


@dataclass(frozen=True, slots=True)
class ImportPlan:
    events: tuple[Event, ...]
    messages: int
    reactions: int
    skipped: Mapping[str, int] = field(default_factory=dict)


def load_export(raw: bytes | str) -> ChannelExport:
    """Parse the text of an export file (see :func:`parse_export`)."""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ExportFormatError(
            "$", f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    except UnicodeDecodeError:
        raise ExportFormatError("$", "not UTF-8 text") from None
    return parse_export(data)


def parse_export(data: object) -> ChannelExport:
    """Validate a whole export and map it to records; raises :class:`ExportFormatError`."""
    root = JsonObject(data, "$")
    guild_node = root.child("guild")
    if guild_node.data.get("id") == "0":
        raise ExportFormatError(
            "$.guild.id", "an export of direct messages; only server channels can be imported"
        )
    guild_id = guild_node.snowflake("id")
    channel_node = root.child("channel")
    channel_id = channel_node.snowflake("id")
    channel_type = channel_node.string("type")
    if channel_type in _DIRECT_MESSAGES:
        raise ExportFormatError(
            "$.channel.type",
            f"{channel_type} is a direct-message channel; only server channels can be imported",
        )
    kind = _CHANNEL_KINDS.get(channel_type, ChannelKind.OTHER)
    category_id = channel_node.optional_snowflake("categoryId")
    if kind.is_thread and category_id is None:
        raise ExportFormatError(
            "$.channel.categoryId", "a thread export must name the thread's parent channel"
        )
    thread_id = channel_id if kind.is_thread else None
    top_channel_id = category_id if kind.is_thread and category_id is not None else channel_id
    exported_at = root.optional_moment("exportedAt")

    messages: list[MessageRecord] = []
    reactions: list[ReactionAdd] = []
    without_users = 0
    opens_forum_post = False
    for path, item in root.array("messages"):
        parsed = _message(
            JsonObject(item, path),
            guild_id=guild_id,
            channel_id=top_channel_id,
            thread_id=thread_id,
        )
        messages.append(parsed.record)
        reactions.extend(parsed.reactions)
        without_users += parsed.reactions_without_users
        # Only a forum (or media) post's opening message shares the thread's id inside the
        # thread; a thread started from a message has its starter in the parent channel.
        if thread_id is not None and parsed.record.message_id == thread_id:
            opens_forum_post = True

    name = channel_node.optional_string("name") or str(channel_id)
    parent: ChannelRecord | None = None
    if thread_id is not None and category_id is not None:
        if opens_forum_post and kind is ChannelKind.PUBLIC_THREAD:
            kind = ChannelKind.FORUM_POST
        parent = ChannelRecord(
            guild_id=guild_id,
            channel_id=category_id,
            kind=_parent_kind(kind),
            name=channel_node.optional_string("category") or str(category_id),
            created_at=snowflake_time(category_id),
        )
    channel = ChannelRecord(
        guild_id=guild_id,
        channel_id=channel_id,
        kind=kind,
        name=name,
        parent_id=category_id,
        created_at=snowflake_time(channel_id),
    )
    newest = max((m.created_at for m in messages), default=None)
    guild = GuildRecord(
        guild_id=guild_id,
        name=guild_node.optional_string("name") or str(guild_id),
        seen_at=exported_at or newest or snowflake_time(guild_id),
    )
    return ChannelExport(
        guild=guild,
        channel=channel,
        parent=parent,
        messages=tuple(messages),
        reactions=tuple(reactions),
        reactions_without_users=without_users,
    )


def _parent_kind(thread_kind: ChannelKind) -> ChannelKind:
    if thread_kind is ChannelKind.FORUM_POST:
        return ChannelKind.FORUM
    if thread_kind is ChannelKind.ANNOUNCEMENT_THREAD:
        return ChannelKind.ANNOUNCEMENT
    return ChannelKind.TEXT


@dataclass(frozen=True, slots=True)
class _ParsedMessage:
    record: MessageRecord
    reactions: tuple[ReactionAdd, ...]
    reactions_without_users: int


def _message(
    node: JsonObject, *, guild_id: int, channel_id: int, thread_id: int | None
) -> _ParsedMessage:
    message_id = node.snowflake("id")
    message_type = node.string("type")
    created_at = node.moment("timestamp")
    edited_at = node.optional_moment("timestampEdited")
    content = node.optional_string("content")
    author = node.child("author")
    author_id = author.snowflake("id")
    is_bot = author.flag("isBot")
    mentioned: dict[int, None] = {}
    for path, item in node.optional_array("mentions"):
        mentioned[JsonObject(item, path).snowflake("id")] = None
    reply_to_id: int | None = None
    is_forward = False
    reference = node.optional_child("reference")
    if reference is not None:
        referenced_id = reference.optional_snowflake("messageId")
        reference_type = reference.optional_string("type") or "Default"
        if reference_type in _FORWARD:
            is_forward = True
        elif reference_type in _DEFAULT_REFERENCE and message_type in _REPLY_TYPES:
            # Pins and "started a thread" notices carry references too; they are not replies.
            reply_to_id = referenced_id
    is_system = message_type not in _NOT_SYSTEM
    record = MessageRecord(
        message_id=message_id,
        guild_id=guild_id,
        channel_id=channel_id,
        author_id=author_id,
        created_at=created_at,
        thread_id=thread_id,
        is_bot=is_bot,
        is_system=is_system,
        counted=not (is_bot or is_system),
        reply_to_id=reply_to_id,
        is_forward=is_forward,
        is_thread_starter=thread_id is not None
        and message_id == thread_id
        and message_type not in _THREAD_STARTER_MESSAGE,
        mention_user_ids=tuple(mentioned),
        edited_at=edited_at,
        content=content or None,
    )
    reactions: list[ReactionAdd] = []
    without_users = 0
    for path, item in node.optional_array("reactions"):
        reaction = JsonObject(item, path)
        emoji = _emoji_key(reaction.child("emoji"))
        users = reaction.array_or_none("users")
        if users is None:
            without_users += 1
            continue
        for user_path, user_item in users:
            user = JsonObject(user_item, user_path)
            reactions.append(
                ReactionAdd(
                    message_id=message_id,
                    guild_id=guild_id,
                    channel_id=channel_id,
                    user_id=user.snowflake("id"),
                    emoji=emoji,
                    at=created_at,
                    user_is_bot=user.flag("isBot"),
                )
            )
    return _ParsedMessage(record, tuple(reactions), without_users)


def _emoji_key(node: JsonObject) -> str:
    """Unicode emoji as themselves, custom emoji as ``name:id`` (as live ingest stores them)."""
    emoji_id = node.optional_snowflake("id")
    name = node.optional_string("name") or "?"
    return name if emoji_id is None else f"{name}:{emoji_id}"


def plan_import(export: ChannelExport, context: ImportContext) -> ImportPlan:
    """The events to write for one export under the guild's rules, and what was skipped why."""
    skipped: Counter[str] = Counter()
    if export.reactions_without_users:
        skipped[SKIPPED_NO_REACTION_USERS] += export.reactions_without_users
    events: list[Event] = []
    if not context.guild_known:
        events.append(export.guild)
    channels = [export.channel] if export.parent is None else [export.parent, export.channel]
    events.extend(c for c in channels if c.channel_id not in context.known_channel_ids)
    opens_forum_post = export.channel.kind is ChannelKind.FORUM_POST
    messages = 0
    for record in export.messages:
        if record.author_id in context.opted_out:
            skipped[SKIPPED_AUTHOR_OPTED_OUT] += 1
            continue
        counted = record.counted and context.watched
        content = kept_content(
            record,
            counted=counted,
            policy=context.store_content,
            is_question=context.help_channel or (opens_forum_post and record.is_thread_starter),
            keep_since=context.keep_content_since,
        )
        if counted != record.counted or content != record.content:
            record = replace(record, counted=counted, content=content)
        events.append(record)
        messages += 1
    reactions = 0
    for reaction in export.reactions:
        if reaction.user_id in context.opted_out:
            skipped[SKIPPED_REACTOR_OPTED_OUT] += 1
            continue
        events.append(reaction)
        reactions += 1
    return ImportPlan(tuple(events), messages, reactions, dict(skipped))


def kept_content(
    record: MessageRecord,
    *,
    counted: bool,
    policy: ContentPolicy,
    is_question: bool = False,
    keep_since: datetime | None = None,
) -> str | None:
    """The text the database keeps for an imported message, under the content policy.

    ``all`` keeps any author's text, ``none`` nothing, ``questions`` only a counted message that
    is a question (``is_question`` for help channels and forum posts, else the detector). System
    messages keep nothing: their exported text is the exporter's wording, not a member's.
    """
    text = record.content
    if not text or record.is_system:
        return None
    if keep_since is not None and record.created_at < keep_since:
        return None
    return kept_text(
        text,
        policy,
        counted=counted,
        is_question=lambda words: is_question or looks_like_question(words),
    )
