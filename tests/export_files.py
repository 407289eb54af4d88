"""The export fixtures under tests/data/exports, and small helpers to read them.

The files follow DiscordChatExporter's JsonMessageWriter: general.json (a text channel with
replies, system messages, a forward and reactions with their users), general-later.json (a later
export of the same channel that overlaps it by two messages), general-meetup-thread.json (a
thread started from a message in general), help-forum-post.json (a forum post, whose opening
message shares the thread's id) and random-2020.json (an older exporter: no exportedAt, no
reference, no reaction users, categoryId "0").
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.domain.exports import ChannelExport, load_export
from bot.domain.records import MessageRecord

EXPORTS = Path(__file__).parent / "data" / "exports"
GENERAL = EXPORTS / "general.json"
LATER = EXPORTS / "general-later.json"
THREAD = EXPORTS / "general-meetup-thread.json"
FORUM_POST = EXPORTS / "help-forum-post.json"
OLD = EXPORTS / "random-2020.json"

TEXTS = (
    "How do I reset my password?",
    "Settings, then Account, then Reset.",
    "Same here. Where do we meet?",
    "The bot crashes on start with an import error",
)


def data(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def parsed(path: Path) -> ChannelExport:
    return load_export(path.read_bytes())


def ids(path: Path) -> list[int]:
    return [int(m["id"]) for m in data(path)["messages"]]


def by_id(export: ChannelExport) -> dict[int, MessageRecord]:
    return {m.message_id: m for m in export.messages}
