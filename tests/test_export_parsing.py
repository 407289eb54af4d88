"""Parsing DiscordChatExporter exports and planning their import: tables, no database."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.domain.exports import (
    SKIPPED_AUTHOR_OPTED_OUT,
    SKIPPED_NO_REACTION_USERS,
    SKIPPED_REACTOR_OPTED_OUT,
    ExportFormatError,
    ImportContext,
    kept_content,
    load_export,
    parse_export,
    plan_import,
)
from bot.domain.records import (
    ChannelKind,
    ChannelRecord,
    ContentPolicy,
    GuildRecord,
    MessageRecord,
    ReactionAdd,
)
from bot.services.importer import find_export_files
from tests.export_files import (
    FORUM_POST,
    GENERAL,
    OLD,
    TEXTS,
    THREAD,
    data,
    ids,
    parsed,
)

# -- parsing: what each export becomes ---------------------------------------------------------


def test_a_channel_export_becomes_a_guild_a_channel_and_its_messages() -> None:
    raw = data(GENERAL)
    export = parsed(GENERAL)
    guild_id, channel_id = int(raw["guild"]["id"]), int(raw["channel"]["id"])
    assert export.guild == GuildRecord(
        guild_id, "Hearth Makers", datetime(2024, 3, 5, 18, 0, tzinfo=UTC)
    )
    assert export.channel.kind is ChannelKind.TEXT
    assert export.channel.name == "general"
    assert export.channel.parent_id == int(raw["channel"]["categoryId"])  # its category
    assert export.parent is None and export.thread_id is None
    assert [m.message_id for m in export.messages] == ids(GENERAL)
    assert {(m.guild_id, m.channel_id, m.thread_id) for m in export.messages} == {
        (guild_id, channel_id, None)
    }


# One row per message of general.json: what it is and how it is recorded.
GENERAL_MESSAGES = [
    # type, is_system, is_bot, counted, a reply, a forward
    ("Default question", False, False, True, False, False),
    ("Reply", False, False, True, True, False),
    ("GuildMemberJoin", True, False, False, False, False),
    ("bot welcome", False, True, False, False, False),
    ("ChannelPinnedMessage (a reference, not a reply)", True, False, False, False, False),
    ("Default that started a thread", False, False, True, False, False),
    ("ThreadCreated (a reference to the thread)", True, False, False, False, False),
    ("Default forward", False, False, True, False, True),
    ('"8": a type the exporter has no name for (a boost)', True, False, False, False, False),
]


@pytest.mark.parametrize(
    ("index", "what", "is_system", "is_bot", "counted", "is_reply", "is_forward"),
    [(i, *row) for i, row in enumerate(GENERAL_MESSAGES)],
)
def test_each_message_is_recorded_as_the_live_bot_would(
    index: int,
    what: str,
    is_system: bool,
    is_bot: bool,
    counted: bool,
    is_reply: bool,
    is_forward: bool,
) -> None:
    record = parsed(GENERAL).messages[index]
    assert (record.is_system, record.is_bot, record.counted) == (is_system, is_bot, counted), what
    assert (record.reply_to_id is not None, record.is_forward) == (is_reply, is_forward), what
    assert not record.is_thread_starter


def test_replies_mentions_and_edits_come_from_the_export() -> None:
    raw = data(GENERAL)["messages"]
    reply = parsed(GENERAL).messages[1]
    assert reply.reply_to_id == int(raw[0]["id"])
    assert reply.mention_user_ids == (int(raw[0]["author"]["id"]),)
    assert reply.edited_at == datetime(2024, 3, 4, 8, 21, tzinfo=UTC)
    assert parsed(GENERAL).messages[4].reply_to_id is None  # a pin notice points at m1


def test_times_are_read_with_their_offsets_and_kept_in_utc() -> None:
    messages = parsed(GENERAL).messages
    # "2024-03-04T09:15:00.1234567+01:00": seven fractional digits, one hour ahead of UTC.
    assert messages[0].created_at == datetime(2024, 3, 4, 8, 15, 0, 123456, tzinfo=UTC)
    # "2024-03-04T11:00:00-05:00"
    assert messages[5].created_at == datetime(2024, 3, 4, 16, 0, tzinfo=UTC)
    assert all(m.created_at.tzinfo is UTC for m in messages)


def test_reactions_are_recorded_per_user_with_the_emoji_as_live_ingest_names_it() -> None:
    raw = data(GENERAL)["messages"][0]
    export = parsed(GENERAL)
    first = export.messages[0]
    pepe_id = raw["reactions"][1]["emoji"]["id"]
    assert [(r.emoji, r.user_id, r.user_is_bot) for r in export.reactions] == [
        ("👍", int(raw["reactions"][0]["users"][0]["id"]), False),
        ("👍", int(raw["reactions"][0]["users"][1]["id"]), True),
        (f"pepe:{pepe_id}", int(raw["reactions"][1]["users"][0]["id"]), False),
    ]
    assert {(r.message_id, r.at, r.channel_id) for r in export.reactions} == {
        (first.message_id, first.created_at, first.channel_id)
    }
    assert export.reactions_without_users == 0


def test_a_thread_export_records_its_messages_under_the_parent_channel() -> None:
    raw = data(THREAD)
    export = parsed(THREAD)
    thread_id, parent_id = int(raw["channel"]["id"]), int(raw["channel"]["categoryId"])
    assert export.thread_id == thread_id
    assert export.top_channel_id == parent_id
    assert export.channel == ChannelRecord(
        guild_id=export.guild.guild_id,
        channel_id=thread_id,
        kind=ChannelKind.PUBLIC_THREAD,
        name="meetup planning",
        parent_id=parent_id,
        created_at=export.channel.created_at,
    )
    assert export.parent is not None
    assert (export.parent.channel_id, export.parent.kind, export.parent.name) == (
        parent_id,
        ChannelKind.TEXT,
        "general",
    )
    assert {(m.channel_id, m.thread_id) for m in export.messages} == {(parent_id, thread_id)}
    starter, first, reply = export.messages
    # "21" is Discord's thread starter message: not a system message, so it counts.
    assert (starter.is_system, starter.counted, starter.reply_to_id) == (False, True, None)
    assert first.is_reply and not first.is_thread_starter  # inside a thread
    assert reply.reply_to_id == first.message_id
    # The thread was started from a message of general, which shares the thread's id.
    assert thread_id in ids(GENERAL)
    assert [r.channel_id for r in export.reactions] == [parent_id]


def test_a_forum_post_is_known_by_its_opening_message() -> None:
    raw = data(FORUM_POST)
    export = parsed(FORUM_POST)
    assert export.channel.kind is ChannelKind.FORUM_POST
    assert export.parent is not None
    assert export.parent.kind is ChannelKind.FORUM
    assert export.parent.channel_id == int(raw["channel"]["categoryId"])
    opening, answer = export.messages
    assert opening.message_id == export.thread_id
    assert opening.is_thread_starter and not opening.is_reply
    assert answer.is_reply and not answer.is_thread_starter


def test_an_older_export_without_references_or_reaction_users() -> None:
    export = parsed(OLD)
    assert export.channel.parent_id is None  # categoryId "0": no category
    assert [m.reply_to_id for m in export.messages] == [None, None]
    assert export.reactions == ()
    assert export.reactions_without_users == 2
    # No exportedAt: the guild was last seen with its newest message.
    assert export.guild.seen_at == export.messages[-1].created_at
    plan = plan_import(export, ImportContext())
    assert plan.skipped == {SKIPPED_NO_REACTION_USERS: 2}
    assert plan.reactions == 0


def message_json(message_type: str = "Default", **fields: Any) -> dict[str, Any]:
    message: dict[str, Any] = copy.deepcopy(data(GENERAL)["messages"][0])
    message.update(type=message_type, reactions=[], **fields)
    return message


def export_of(*messages: dict[str, Any], **top: Any) -> dict[str, Any]:
    raw = data(GENERAL)
    raw["messages"] = list(messages)
    raw.update(top)
    return raw


@pytest.mark.parametrize(
    ("message_type", "is_system", "counted"),
    [
        ("Default", False, True),
        ("Reply", False, True),
        ("ThreadStarterMessage", False, True),
        ("21", False, True),
        ("ChatInputCommand", False, True),
        ("19", False, True),
        ("GuildMemberJoin", True, False),
        ("ChannelPinnedMessage", True, False),
        ("ThreadCreated", True, False),
        ("RecipientAdd", True, False),
        ("8", True, False),
        ("SomethingNewer", True, False),
    ],
)
def test_message_types(message_type: str, is_system: bool, counted: bool) -> None:
    (record,) = parse_export(export_of(message_json(message_type))).messages
    assert (record.is_system, record.counted) == (is_system, counted)


def test_a_bot_never_counts() -> None:
    bot_author = {**message_json()["author"], "isBot": True}
    (record,) = parse_export(export_of(message_json(author=bot_author))).messages
    assert (record.is_bot, record.counted) == (True, False)


REFERENCED = "1214123921104699393"


@pytest.mark.parametrize(
    ("message_type", "reference", "reply_to_id", "is_forward"),
    [
        ("Reply", {"type": "Default", "messageId": REFERENCED}, int(REFERENCED), False),
        ("Reply", {"messageId": REFERENCED}, int(REFERENCED), False),  # before "type" existed
        ("Default", {"type": "Forward", "messageId": REFERENCED}, None, True),
        ("Reply", {"messageId": None, "channelId": "1"}, None, False),
        ("ChannelPinnedMessage", {"messageId": REFERENCED}, None, False),
        ("ThreadCreated", {"messageId": None, "channelId": REFERENCED}, None, False),
        ("Default", None, None, False),
    ],
)
def test_references(
    message_type: str,
    reference: dict[str, Any] | None,
    reply_to_id: int | None,
    is_forward: bool,
) -> None:
    fields = {} if reference is None else {"reference": reference}
    (record,) = parse_export(export_of(message_json(message_type, **fields))).messages
    assert (record.reply_to_id, record.is_forward) == (reply_to_id, is_forward)


# -- malformed exports: the error names the place --------------------------------------------


def _set(path: list[str | int], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(raw: dict[str, Any]) -> None:
        node: Any = raw
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value

    return change


def _drop(path: list[str | int]) -> Callable[[dict[str, Any]], None]:
    def change(raw: dict[str, Any]) -> None:
        node: Any = raw
        for part in path[:-1]:
            node = node[part]
        del node[path[-1]]

    return change


MALFORMED = [
    (_drop(["guild"]), "$.guild", "required field is missing"),
    (_set(["guild", "id"], 534310708838400001), "$.guild.id", "expected an id"),
    (_set(["channel", "type"], "DirectTextChat"), "$.channel.type", "direct-message"),
    (_set(["messages"], {}), "$.messages", "expected an array, found an object"),
    (_set(["messages", 3], "hello"), "$.messages[3]", "expected an object, found a string"),
    (_set(["messages", 7, "author", "id"], 42), "$.messages[7].author.id", "expected an id"),
    (_drop(["messages", 5, "author", "isBot"]), "$.messages[5].author.isBot", "missing"),
    (_set(["messages", 1, "id"], "12ab"), "$.messages[1].id", "not a Discord id"),
    (_set(["messages", 1, "id"], "9" * 20), "$.messages[1].id", "too large"),
    (_set(["messages", 2, "timestamp"], "yesterday"), "$.messages[2].timestamp", "ISO 8601"),
    (_set(["messages", 2, "timestamp"], "2024-03-04T10:02:00"), "$.messages[2].timestamp", "UTC"),
    (_set(["messages", 1, "timestampEdited"], 17), "$.messages[1].timestampEdited", "ISO 8601"),
    (_set(["messages", 0, "content"], 5), "$.messages[0].content", "a string or null"),
    (_set(["messages", 1, "mentions"], {}), "$.messages[1].mentions", "expected an array"),
    (_set(["messages", 1, "reference", "messageId"], 5), "$.messages[1].reference.messageId", "id"),
    (_drop(["messages", 0, "reactions", 0, "emoji"]), "$.messages[0].reactions[0].emoji", "miss"),
    (
        _set(["messages", 0, "reactions", 1, "users", 0, "isBot"], "no"),
        "$.messages[0].reactions[1].users[0].isBot",
        "expected true or false",
    ),
]


@pytest.mark.parametrize(("change", "json_path", "problem"), MALFORMED)
def test_a_malformed_export_is_refused_with_the_json_path(
    change: Callable[[dict[str, Any]], None], json_path: str, problem: str
) -> None:
    raw = data(GENERAL)
    change(raw)
    with pytest.raises(ExportFormatError) as caught:
        parse_export(raw)
    assert caught.value.path == json_path
    assert problem in caught.value.problem
    assert all(t not in str(caught.value) for t in TEXTS)


def test_a_thread_export_must_name_its_parent() -> None:
    raw = data(THREAD)
    raw["channel"]["categoryId"] = None
    with pytest.raises(ExportFormatError, match=r"^\$\.channel\.categoryId: "):
        parse_export(raw)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b'{"guild": {"id": "1"}, ', "not valid JSON"),
        (b"", "not valid JSON"),
        (b"[]", "expected an object, found an array"),
        (b'{"guild": "\xff"}', "not UTF-8"),
    ],
)
def test_a_file_that_is_not_an_export(raw: bytes, problem: str) -> None:
    with pytest.raises(ExportFormatError) as caught:
        load_export(raw)
    assert caught.value.path == "$"
    assert problem in caught.value.problem


# -- the guild's rules: content policy, opt-outs, watched channels ---------------------------

QUESTION = MessageRecord(
    1, 1, 1, 7, datetime(2024, 3, 4, tzinfo=UTC), content="How do I reset my password?"
)
STATEMENT = MessageRecord(2, 1, 1, 7, datetime(2024, 3, 4, tzinfo=UTC), content="Reset it.")


@pytest.mark.parametrize(
    ("record", "policy", "counted", "is_question", "kept"),
    [
        (QUESTION, ContentPolicy.ALL, True, False, True),
        (STATEMENT, ContentPolicy.ALL, True, False, True),
        (STATEMENT, ContentPolicy.ALL, False, False, True),
        (QUESTION, ContentPolicy.NONE, True, False, False),
        (QUESTION, ContentPolicy.QUESTIONS, True, False, True),
        (STATEMENT, ContentPolicy.QUESTIONS, True, False, False),
        (STATEMENT, ContentPolicy.QUESTIONS, True, True, True),  # help channel, forum post
        (QUESTION, ContentPolicy.QUESTIONS, False, False, False),  # a bot's, or not watched
    ],
)
def test_content_policy(
    record: MessageRecord, policy: ContentPolicy, counted: bool, is_question: bool, kept: bool
) -> None:
    result = kept_content(record, counted=counted, policy=policy, is_question=is_question)
    assert result == (record.content if kept else None)


def test_system_messages_keep_no_text_even_under_all() -> None:
    join = MessageRecord(3, 1, 1, 7, QUESTION.created_at, is_system=True, content="Joined.")
    assert kept_content(join, counted=False, policy=ContentPolicy.ALL) is None


def test_text_past_the_retention_window_is_not_kept() -> None:
    since = datetime(2024, 3, 5, tzinfo=UTC)
    assert kept_content(QUESTION, counted=True, policy=ContentPolicy.ALL, keep_since=since) is None


def test_plan_applies_opt_outs_known_channels_and_watching() -> None:
    export = parsed(GENERAL)
    carol = export.messages[2].author_id  # joined, reacted with pepe, started a thread
    plan = plan_import(
        export,
        ImportContext(
            store_content=ContentPolicy.ALL,
            opted_out=frozenset({carol}),
            watched=False,
            guild_known=True,
            known_channel_ids=frozenset({export.channel.channel_id}),
        ),
    )
    messages = [e for e in plan.events if isinstance(e, MessageRecord)]
    assert not [e for e in plan.events if isinstance(e, GuildRecord | ChannelRecord)]
    assert carol not in {m.author_id for m in messages}
    assert carol not in {e.user_id for e in plan.events if isinstance(e, ReactionAdd)}
    assert plan.skipped == {SKIPPED_AUTHOR_OPTED_OUT: 2, SKIPPED_REACTOR_OPTED_OUT: 1}
    assert (plan.messages, plan.reactions) == (7, 2)
    assert not any(m.counted for m in messages)  # an ignored channel counts nothing
    assert messages[0].content == "How do I reset my password?"


def test_plan_keeps_question_text_only_by_default() -> None:
    plan = plan_import(parsed(GENERAL), ImportContext())
    kept = [e.content for e in plan.events if isinstance(e, MessageRecord) and e.content]
    assert kept == ["How do I reset my password?"]
    forum = plan_import(parsed(FORUM_POST), ImportContext())
    kept = [e.content for e in forum.events if isinstance(e, MessageRecord) and e.content]
    assert kept == ["The bot crashes on start with an import error"]  # a forum post asks


# -- finding files -----------------------------------------------------------------------------


def test_folders_are_searched_and_threads_come_after_channels(tmp_path: Path) -> None:
    nested = tmp_path / "exports" / "deeper"
    nested.mkdir(parents=True)
    for source in (THREAD, GENERAL):
        (nested / source.name).write_bytes(source.read_bytes())
    (nested / "notes.txt").write_text("not an export")
    found = find_export_files([tmp_path / "exports", nested / GENERAL.name])
    assert [p.name for p in found] == [GENERAL.name, THREAD.name]
    with pytest.raises(FileNotFoundError):
        find_export_files([tmp_path / "missing"])
