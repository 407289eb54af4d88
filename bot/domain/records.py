"""Plain records that flow from Discord (or an export file) into storage.

They are slotted, and nothing changes a record once it is built (``amended`` makes a new one).
Most are also frozen. The two built for every new message (``MessageRecord`` and
``QuestionAsked``) are not: a frozen dataclass sets each field through ``object.__setattr__``,
which makes its constructor about five times as slow, and a message's record is built in the
bot (again when the ingest policy amends it) and once more in the writer. Times are aware UTC
datetimes; snowflakes are ints.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, fields
from datetime import datetime
from enum import StrEnum

from bot.domain.questions import QuestionSource as QuestionSource


class ChannelKind(StrEnum):
    TEXT = "text"
    ANNOUNCEMENT = "announcement"
    FORUM = "forum"
    MEDIA = "media"
    VOICE = "voice"
    STAGE = "stage"
    CATEGORY = "category"
    PUBLIC_THREAD = "public_thread"
    PRIVATE_THREAD = "private_thread"
    ANNOUNCEMENT_THREAD = "announcement_thread"
    FORUM_POST = "forum_post"
    OTHER = "other"

    @property
    def is_thread(self) -> bool:
        return self in _THREAD_KINDS


_THREAD_KINDS = frozenset(
    {
        ChannelKind.PUBLIC_THREAD,
        ChannelKind.PRIVATE_THREAD,
        ChannelKind.ANNOUNCEMENT_THREAD,
        ChannelKind.FORUM_POST,
    }
)


class MemberEventKind(StrEnum):
    JOIN = "join"
    LEAVE = "leave"
    BAN = "ban"
    UNBAN = "unban"
    ROLES_CHANGED = "roles_changed"


class ContentPolicy(StrEnum):
    """What message text the database keeps (see the privacy section of the design)."""

    ALL = "all"
    QUESTIONS = "questions"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class GuildRecord:
    guild_id: int
    name: str
    seen_at: datetime
    left_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ChannelRecord:
    guild_id: int
    channel_id: int
    kind: ChannelKind
    name: str
    parent_id: int | None = None
    position: int | None = None
    created_at: datetime | None = None
    archived: bool = False
    owner_id: int | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ChannelDeleted:
    guild_id: int
    channel_id: int
    deleted_at: datetime


@dataclass(frozen=True, slots=True)
class MemberRecord:
    """The current state of a member, upserted whenever the bot learns it."""

    guild_id: int
    user_id: int
    is_bot: bool
    joined_at: datetime | None
    is_staff: bool = False


@dataclass(frozen=True, slots=True)
class MemberEvent:
    guild_id: int
    user_id: int
    kind: MemberEventKind
    at: datetime
    is_bot: bool = False


@dataclass(slots=True, unsafe_hash=True)
class MessageRecord:
    message_id: int
    guild_id: int
    channel_id: int
    """The top-level channel; for a thread message, the thread's parent."""
    author_id: int
    created_at: datetime
    thread_id: int | None = None
    is_bot: bool = False
    is_webhook: bool = False
    is_system: bool = False
    counted: bool = True
    """A human message in a watched channel: it counts as community activity."""
    reply_to_id: int | None = None
    is_forward: bool = False
    is_thread_starter: bool = False
    mention_user_ids: tuple[int, ...] = ()
    mention_role_ids: tuple[int, ...] = ()
    mentions_everyone: bool = False
    mentions_bot: bool = False
    edited_at: datetime | None = None
    content: str | None = None
    author_is_staff: bool = False
    """Manage Server or Manage Messages in the channel, or one of the guild's staff roles."""
    mentions_staff: bool = False
    """Mentions a staff member or a staff role (a request for help, with the right words)."""
    inferred_reply_to_id: int | None = None
    """The earlier message the answer linker says this one responds to (inferred channels)."""

    @property
    def is_reply(self) -> bool:
        """A reply in the METRICS.md sense: a reply reference, or a non-starter thread message."""
        return self.reply_to_id is not None or (
            self.thread_id is not None and not self.is_thread_starter
        )


_MESSAGE_FIELDS = operator.attrgetter(*(f.name for f in fields(MessageRecord)))
_COUNTED, _CONTENT, _INFERRED = (
    [f.name for f in fields(MessageRecord)].index(name)
    for name in ("counted", "content", "inferred_reply_to_id")
)


def amended(
    record: MessageRecord, *, counted: bool, content: str | None, inferred_reply_to_id: int | None
) -> MessageRecord:
    """``dataclasses.replace`` for the three fields the ingest policy decides, at half its cost
    (it runs on most new messages)."""
    values = list(_MESSAGE_FIELDS(record))
    values[_COUNTED] = counted
    values[_CONTENT] = content
    values[_INFERRED] = inferred_reply_to_id
    return MessageRecord(*values)


@dataclass(frozen=True, slots=True)
class MessageEdit:
    message_id: int
    guild_id: int
    edited_at: datetime
    content: str | None = None
    """The new text, only when the content policy keeps this message's text."""


@dataclass(frozen=True, slots=True)
class MessageDelete:
    message_id: int
    guild_id: int
    channel_id: int
    deleted_at: datetime


@dataclass(frozen=True, slots=True)
class ReactionAdd:
    message_id: int
    guild_id: int
    channel_id: int
    user_id: int
    emoji: str
    at: datetime
    user_is_bot: bool = False


@dataclass(frozen=True, slots=True)
class ReactionRemove:
    message_id: int
    guild_id: int
    user_id: int
    emoji: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ReactionClear:
    """All reactions on a message removed, or only those of one emoji."""

    message_id: int
    guild_id: int
    at: datetime
    emoji: str | None = None


@dataclass(frozen=True, slots=True)
class MemberForget:
    """Erase what is stored about a member (opt-out or a moderator's request)."""

    guild_id: int
    user_id: int
    at: datetime
    opt_out: bool = True


@dataclass(frozen=True, slots=True)
class ContentExpiry:
    """Erase stored message text older than ``before`` (the retention window)."""

    before: datetime


@dataclass(slots=True, unsafe_hash=True)
class QuestionAsked:
    """A counted message by a non-staff member is a question; stored with its message."""

    message_id: int
    guild_id: int
    channel_id: int
    thread_id: int | None
    asker_id: int
    asked_at: datetime
    source: QuestionSource
    target_minutes: int


class Resolution(StrEnum):
    MARKED = "marked"
    """Someone marked a message as the answer ("Mark as answer")."""
    REACTION = "reaction"
    """The asker reacted to a response with the guild's resolve emoji."""
    FORUM_TAG = "forum_tag"
    """The forum post was tagged solved or closed."""
    CARD = "card"
    """Staff pressed Resolved on the inbox card."""
    DISMISSED = "dismissed"
    """Staff dismissed the inbox card (not a question, or nothing to answer)."""


@dataclass(frozen=True, slots=True)
class QuestionResolved:
    """A question resolved: ``message_id`` is the question itself or a response to it.

    With ``asker_only`` the resolution counts only for questions ``user_id`` asked (a reaction:
    only the asker's resolve emoji resolves). The earliest resolution wins.
    """

    guild_id: int
    message_id: int
    user_id: int
    at: datetime
    how: Resolution
    asker_only: bool = False


Event = (
    GuildRecord
    | ChannelRecord
    | ChannelDeleted
    | MemberRecord
    | MemberEvent
    | MessageRecord
    | MessageEdit
    | MessageDelete
    | ReactionAdd
    | ReactionRemove
    | ReactionClear
    | MemberForget
    | ContentExpiry
    | QuestionAsked
    | QuestionResolved
)


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """What the database holds about a message, to reconcile with Discord after downtime."""

    message_id: int
    edited_at: datetime | None
    deleted: bool
    reactions: dict[str, frozenset[int]]
    """Emoji -> the users whose reaction is stored."""
