"""The schema. ORM rows here are storage's own; the rest of the program sees domain records.

Design points, each measured or required:
- Snowflakes are 64-bit ints. On SQLite a message's id *is* the rowid
  (``BigInteger().with_variant(Integer, "sqlite")``), so a time range over messages is a rowid
  range (snowflakes encode their creation time) and needs no extra index.
- Times are integer milliseconds since the Unix epoch (``UtcMillis``): cheap to compare and index
  on both databases, and the program still sees aware UTC datetimes.
- Rollups (``guild_days``, ``member_days``, ``channel_days``, ``guild_hours`` and the
  first-response fields of ``questions``) are updated in the same transaction as the events, so a
  summary reads rows proportional to the period, never to the history.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

TRUE = text("true")
FALSE = text("false")

RowId = BigInteger().with_variant(Integer, "sqlite")
"""A 64-bit key that is the rowid on SQLite (snowflake keys and autoincrement ids)."""


class UtcMillis(TypeDecorator[datetime]):
    """An aware datetime stored as integer milliseconds since the Unix epoch."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> int | None:
        return millis_or_none(value)

    def process_result_value(self, value: int | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return datetime.fromtimestamp(value / 1000, tz=UTC)


def millis_or_none(value: datetime | None) -> int | None:
    """How ``UtcMillis`` stores a value."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetimes are not stored; use an aware UTC datetime")
    return to_millis(value)


def to_millis(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def _where_not_null(column: str) -> dict[str, Any]:
    """A partial index's condition on both databases; ``column = x`` and ``column IN (...)``
    imply it, so queries by value use the index."""
    condition = text(f"{column} IS NOT NULL")
    return {"sqlite_where": condition, "postgresql_where": condition}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: dict[Any, Any] = {  # noqa: RUF012 - SQLAlchemy reads it as a class attribute
        int: BigInteger,
        datetime: UtcMillis,
        date: Date,
        str: String(100),
        bool: Boolean,
    }


class Guild(Base):
    """A guild and its moderators' settings; a NULL setting means the deployment default."""

    __tablename__ = "guilds"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    name: Mapped[str]
    first_seen_at: Mapped[datetime]
    left_at: Mapped[datetime | None]
    timezone: Mapped[str | None] = mapped_column(String(64))
    week_start: Mapped[str | None] = mapped_column(String(10))
    summary_day: Mapped[str | None] = mapped_column(String(10))
    summary_time: Mapped[str | None] = mapped_column(String(5))
    response_target_minutes: Mapped[int | None] = mapped_column(Integer)
    store_content: Mapped[str | None] = mapped_column(String(10))
    inbox_channel_id: Mapped[int | None]
    public_summary_channel_id: Mapped[int | None]
    staff_summary_channel_id: Mapped[int | None]
    public_summary_enabled: Mapped[bool] = mapped_column(default=True, server_default=TRUE)
    staff_summary_enabled: Mapped[bool] = mapped_column(default=True, server_default=TRUE)
    escalation_role_id: Mapped[int | None]
    resolve_emoji: Mapped[str] = mapped_column(String(64), default="✅", server_default="✅")
    history_backfilled_at: Mapped[datetime | None]


class StaffRole(Base):
    __tablename__ = "staff_roles"

    guild_id: Mapped[int] = mapped_column(
        ForeignKey("guilds.id", ondelete="CASCADE"), primary_key=True
    )
    role_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)


class Channel(Base):
    """Channels, threads and forum posts; ``watched`` is NULL (default), true or false (ignored)."""

    __tablename__ = "channels"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    guild_id: Mapped[int] = mapped_column(index=True)
    parent_id: Mapped[int | None]
    kind: Mapped[str] = mapped_column(String(24))
    name: Mapped[str]
    position: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    archived: Mapped[bool] = mapped_column(default=False, server_default=FALSE)
    owner_id: Mapped[int | None]
    tags: Mapped[str | None] = mapped_column(Text)
    watched: Mapped[bool | None]
    is_help: Mapped[bool] = mapped_column(default=False, server_default=FALSE)
    response_target_minutes: Mapped[int | None] = mapped_column(Integer)
    inferred_linking: Mapped[bool] = mapped_column(default=False, server_default=FALSE)
    newest_message_id: Mapped[int | None]
    """The newest stored message id: gap recovery reads history after it."""


class Member(Base):
    __tablename__ = "members"

    guild_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    is_bot: Mapped[bool] = mapped_column(default=False, server_default=FALSE)
    is_staff: Mapped[bool] = mapped_column(default=False, server_default=FALSE)
    joined_at: Mapped[datetime | None]
    left_at: Mapped[datetime | None]
    opted_out_at: Mapped[datetime | None]

    __table_args__ = (Index(None, "guild_id", "joined_at"),)


class MemberEventRow(Base):
    __tablename__ = "member_events"

    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    guild_id: Mapped[int]
    user_id: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("guild_id", "user_id", "kind", "at"),
        Index(None, "guild_id", "at"),
    )


class Message(Base):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=False)
    guild_id: Mapped[int]
    channel_id: Mapped[int]
    thread_id: Mapped[int | None]
    author_id: Mapped[int]
    created_at: Mapped[datetime]
    edited_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    reply_to_id: Mapped[int | None]
    is_bot: Mapped[bool]
    is_webhook: Mapped[bool]
    is_system: Mapped[bool]
    counted: Mapped[bool]
    is_forward: Mapped[bool]
    is_thread_starter: Mapped[bool]
    mention_users: Mapped[int] = mapped_column(SmallInteger)
    mention_roles: Mapped[int] = mapped_column(SmallInteger)
    mentions_everyone: Mapped[bool]
    mentions_bot: Mapped[bool]
    content: Mapped[str | None] = mapped_column(Text)
    author_is_staff: Mapped[bool] = mapped_column(default=False, server_default=FALSE)

    __table_args__ = (
        Index(None, "guild_id", "author_id"),
        Index(None, "channel_id", "id"),
        # Most messages are in no thread and reply to nothing: those are left out of these two,
        # which keeps them small and spares each such insert an index entry.
        Index(None, "thread_id", **_where_not_null("thread_id")),
        Index(None, "reply_to_id", **_where_not_null("reply_to_id")),
    )


class DeletedMessage(Base):
    """A tombstone: a deleted message stays deleted even if its creation is replayed later."""

    __tablename__ = "deleted_messages"

    message_id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=False)
    guild_id: Mapped[int]
    deleted_at: Mapped[datetime]


class EarlyEdit(Base):
    """An edit whose message is not stored yet (replayed out of order); applied on creation."""

    __tablename__ = "early_edits"

    message_id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=False)
    guild_id: Mapped[int]
    edited_at: Mapped[datetime]
    content: Mapped[str | None] = mapped_column(Text)


class MentionRow(Base):
    """Who or what a message mentioned: kind is user, role, everyone or bot."""

    __tablename__ = "mentions"

    message_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    target_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    guild_id: Mapped[int]

    __table_args__ = (Index(None, "guild_id", "target_id"),)


class ReactionRow(Base):
    """One row per (message, user, emoji): applause counts each once."""

    __tablename__ = "reactions"

    message_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    emoji: Mapped[str] = mapped_column(String(64), primary_key=True)
    guild_id: Mapped[int]
    channel_id: Mapped[int]
    is_bot: Mapped[bool]
    created_at: Mapped[datetime]

    __table_args__ = (Index(None, "guild_id", "user_id"),)


class Question(Base):
    """A question and its response fields: the rollup that keeps response-time figures flat."""

    __tablename__ = "questions"

    message_id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=False)
    guild_id: Mapped[int]
    channel_id: Mapped[int]
    thread_id: Mapped[int | None]
    asker_id: Mapped[int]
    asked_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(12))
    state: Mapped[str] = mapped_column(String(12))
    target_minutes: Mapped[int] = mapped_column(Integer)
    first_response_id: Mapped[int | None]
    first_response_at: Mapped[datetime | None]
    first_responder_id: Mapped[int | None]
    first_response_by_staff: Mapped[bool | None]
    first_staff_response_id: Mapped[int | None]
    first_staff_response_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[int | None]
    resolution: Mapped[str | None] = mapped_column(String(16))
    withdrawn_at: Mapped[datetime | None]

    __table_args__ = (
        Index(None, "guild_id", "asked_at"),
        Index(None, "guild_id", "state"),
    )


class ResponseRow(Base):
    """A message linked to a question it responds to (by which rule of METRICS.md)."""

    __tablename__ = "responses"

    question_id: Mapped[int] = mapped_column(
        ForeignKey("questions.message_id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    )
    message_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    guild_id: Mapped[int]
    responder_id: Mapped[int]
    responded_at: Mapped[datetime]
    by_staff: Mapped[bool]
    rule: Mapped[str] = mapped_column(String(12))

    __table_args__ = (Index(None, "message_id"),)


class InboxItem(Base):
    __tablename__ = "inbox_items"

    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    guild_id: Mapped[int]
    question_id: Mapped[int] = mapped_column(
        ForeignKey("questions.message_id", ondelete="CASCADE"), unique=True
    )
    state: Mapped[str] = mapped_column(String(12))
    opened_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    card_channel_id: Mapped[int | None]
    card_message_id: Mapped[int | None]
    card_version: Mapped[int | None]
    """The item version the posted card shows; behind ``version`` means the card needs editing."""
    claimed_by: Mapped[int | None]
    claimed_at: Mapped[datetime | None]
    snoozed_until: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]
    closed_by: Mapped[int | None]
    closed_at: Mapped[datetime | None]

    __table_args__ = (Index(None, "guild_id", "state"),)


class SummaryRun(Base):
    """The claim that makes a summary post exactly once: unique on (guild, kind, period start)."""

    __tablename__ = "summary_runs"

    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    guild_id: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(12))
    claimed_at: Mapped[datetime]
    claimed_by: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    posted_at: Mapped[datetime | None]
    channel_id: Mapped[int | None]
    message_id: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("guild_id", "kind", "period_start"),)


class GuildDay(Base):
    """Counted-message totals per guild and local day (in the guild's time zone)."""

    __tablename__ = "guild_days"

    guild_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(primary_key=True)
    messages: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    top_level: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    replies: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    threads_started: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    forwards: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reactions_received: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class MemberDay(Base):
    """Counted messages per member and local day: active members, cohorts, at-risk."""

    __tablename__ = "member_days"

    guild_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    messages: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __table_args__ = (Index(None, "guild_id", "user_id", "day"),)


class ChannelDay(Base):
    __tablename__ = "channel_days"

    guild_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    messages: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class GuildHour(Base):
    """Counted messages per UTC hour: peak hours in any time zone with whole-hour offsets."""

    __tablename__ = "guild_hours"

    guild_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    hour: Mapped[datetime] = mapped_column(primary_key=True, autoincrement=False)
    messages: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


metadata = Base.metadata
