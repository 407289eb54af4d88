"""A guild's effective settings: its moderators' choices over the deployment's defaults."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from bot.domain.records import ChannelKind, ContentPolicy

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True, slots=True)
class GuildSettings:
    guild_id: int
    timezone: str
    week_start: int
    """0 is Monday, as in ``datetime.weekday()``."""
    summary_day: int
    summary_time: time
    response_target_minutes: int
    store_content: ContentPolicy
    inbox_channel_id: int | None = None
    public_summary_channel_id: int | None = None
    staff_summary_channel_id: int | None = None
    public_summary_enabled: bool = True
    staff_summary_enabled: bool = True
    escalation_role_id: int | None = None
    resolve_emoji: str = "✅"
    staff_role_ids: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class ChannelSettings:
    channel_id: int
    guild_id: int
    kind: ChannelKind
    name: str
    parent_id: int | None
    watched: bool | None
    """None: the guild's default; True: watched explicitly; False: ignored."""
    is_help: bool
    response_target_minutes: int | None
    inferred_linking: bool
    newest_message_id: int | None
    archived: bool = False
    deleted: bool = False


def is_watched(
    channel: ChannelSettings, parent: ChannelSettings | None, any_explicit: bool
) -> bool:
    """Whether a channel's messages count, following METRICS.md.

    Threads and forum posts follow their parent. An ignored channel never counts; when the guild
    watches some channels explicitly, only those count; otherwise everything readable counts.
    """
    source = parent if channel.kind.is_thread and parent is not None else channel
    if source.watched is False:
        return False
    if any_explicit:
        return source.watched is True
    return True
