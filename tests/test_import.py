"""Importing DiscordChatExporter exports into real databases, and the command end to end."""

from __future__ import annotations

import asyncio
import json
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.exports import (
    SKIPPED_AUTHOR_OPTED_OUT,
    SKIPPED_NO_REACTION_USERS,
    SKIPPED_REACTOR_OPTED_OUT,
)
from bot.domain.records import (
    ChannelKind,
    ChannelRecord,
    ContentPolicy,
    GuildRecord,
    MemberForget,
)
from bot.services.importer import ExportImporter, ImportReport
from storage.engine import create_engine
from storage.writer import EventWriter
from tests.cli import engagebot as run_engagebot
from tests.dbstate import State
from tests.dbstate import dump as dump_tables
from tests.export_files import (
    EXPORTS,
    FORUM_POST,
    GENERAL,
    LATER,
    OLD,
    TEXTS,
    THREAD,
    data,
    parsed,
)

# -- on real databases --------------------------------------------------------------------------

TABLES = (
    "guilds",
    "channels",
    "members",
    "messages",
    "mentions",
    "reactions",
    "guild_days",
    "member_days",
    "channel_days",
    "guild_hours",
)


async def dump(engine: AsyncEngine) -> State:
    return await dump_tables(engine, TABLES)


async def rows(engine: AsyncEngine, sql: str) -> list[tuple[Any, ...]]:
    async with engine.connect() as conn:
        return [tuple(r) for r in (await conn.execute(text(sql))).all()]


async def run(engine: AsyncEngine, *files: Path, **options: Any) -> ImportReport:
    return await ExportImporter(engine, **options).run(list(files))


async def test_exports_are_stored_with_their_rollups(engine: AsyncEngine) -> None:
    report = await run(engine, GENERAL, THREAD, FORUM_POST)
    assert report.failure is None
    assert [f.messages_new for f in report.files] == [9, 3, 2]
    assert await rows(engine, "SELECT count(*) FROM messages") == [(14,)]
    assert await rows(engine, "SELECT count(*) FROM reactions") == [(4,)]
    assert await rows(engine, "SELECT name FROM guilds") == [("Hearth Makers",)]
    thread, general = int(data(THREAD)["channel"]["id"]), int(data(GENERAL)["channel"]["id"])
    channels = await rows(engine, "SELECT id, kind, parent_id FROM channels ORDER BY id")
    forum, post = (
        int(data(FORUM_POST)["channel"]["categoryId"]),
        int(data(FORUM_POST)["channel"]["id"]),
    )
    category = int(data(GENERAL)["channel"]["categoryId"])
    assert sorted(channels) == sorted(
        [
            (general, "text", category),
            (thread, "public_thread", general),
            (forum, "forum", None),
            (post, "forum_post", forum),
        ]
    )
    assert await rows(
        engine,
        f"SELECT count(*) FROM messages WHERE thread_id = {thread}",
    ) == [(3,)]
    days = await rows(
        engine,
        "SELECT day, messages, top_level, replies, forwards, reactions_received "
        "FROM guild_days ORDER BY day",
    )
    # 4 March: general's question, its reply and the thread's opener; in the thread its starter
    # message and two more (replies, being inside a thread). Applause: bob's thumbs up and
    # carol's pepe on the question (the bot's does not count), carol's thumbs up in the thread.
    # 5 March: the forward; the forum post (top-level) and its answer.
    assert [(str(d[0]), *d[1:]) for d in days] == [
        ("2024-03-04", 6, 2, 4, 0, 3),
        ("2024-03-05", 3, 2, 1, 1, 0),
    ]
    kept = await rows(engine, "SELECT content FROM messages WHERE content IS NOT NULL")
    assert sorted(kept) == sorted(
        [
            ("How do I reset my password?",),
            ("Same here. Where do we meet?",),
            ("The bot crashes on start with an import error",),
        ]
    )


async def test_importing_twice_changes_nothing_and_says_already_present(
    engine: AsyncEngine,
) -> None:
    everything = [GENERAL, LATER, THREAD, FORUM_POST, OLD]
    first = await run(engine, *everything)
    once = await dump(engine)
    again = await run(engine, *everything)
    assert await dump(engine) == once
    assert first.totals() == {
        "files": 5,
        "messages": 20,
        "messages_new": 18,  # general-later.json repeats two messages of general.json
        "messages_already_present": 2,
        "reactions": 5,
        "reactions_new": 5,
        "reactions_already_present": 0,
        "skipped": {SKIPPED_NO_REACTION_USERS: 2},
        "error": None,
    }
    totals = again.totals()
    assert (totals["messages_new"], totals["messages_already_present"]) == (0, 20)
    assert (totals["reactions_new"], totals["reactions_already_present"]) == (0, 5)


async def test_overlapping_exports_store_each_message_once(engine: AsyncEngine) -> None:
    await run(engine, GENERAL)
    report = await run(engine, LATER)
    (later,) = report.files
    assert (later.messages, later.messages_new, later.messages_already_present) == (4, 2, 2)
    assert await rows(engine, "SELECT count(*) FROM messages") == [(11,)]
    assert await rows(engine, "SELECT sum(messages) FROM guild_days") == [(6,)]


async def test_a_malformed_file_leaves_nothing_and_earlier_files_stay(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    raw = data(GENERAL)
    raw["messages"][7]["author"]["id"] = "not-an-id"  # everything before it is valid
    bad = tmp_path / "general-broken.json"
    bad.write_text(json.dumps(raw), encoding="utf-8")
    await run(engine, OLD)
    before = await dump(engine)

    report = await run(engine, OLD, bad, LATER)

    assert report.failure is not None
    assert (report.failure.path, report.failure.json_path) == (bad, "$.messages[7].author.id")
    assert report.failure.malformed and report.failure.files_not_read == 1
    assert [f.path for f in report.files] == [OLD]
    assert await dump(engine) == before


async def test_stored_guilds_and_channels_keep_their_live_rows(engine: AsyncEngine) -> None:
    export = parsed(GENERAL)
    live_channel = ChannelRecord(
        export.guild.guild_id, export.channel.channel_id, ChannelKind.TEXT, "general-2", position=3
    )
    left_at = datetime(2026, 1, 1, tzinfo=UTC)
    live_guild = GuildRecord(export.guild.guild_id, "Hearth", left_at, left_at=left_at)
    await EventWriter(engine).write_transaction([live_guild, live_channel])

    await run(engine, GENERAL)

    assert await rows(engine, "SELECT name, position FROM channels") == [("general-2", 3)]
    names = await rows(engine, "SELECT name, left_at IS NOT NULL FROM guilds")
    assert [(n, bool(left)) for n, left in names] == [("Hearth", True)]


async def test_the_guild_rules_apply_to_imported_history(engine: AsyncEngine) -> None:
    export = parsed(GENERAL)
    guild, carol = export.guild.guild_id, export.messages[2].author_id
    await EventWriter(engine).write_transaction(
        [
            export.guild,
            ChannelRecord(guild, export.channel.channel_id, ChannelKind.TEXT, "general"),
            MemberForget(guild, carol, datetime(2025, 1, 1, tzinfo=UTC)),
        ]
    )
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE channels SET watched = false"))
        await conn.execute(text("UPDATE guilds SET store_content = 'none'"))

    report = await run(engine, GENERAL, store_content=ContentPolicy.ALL)

    assert report.skipped() == {SKIPPED_AUTHOR_OPTED_OUT: 2, SKIPPED_REACTOR_OPTED_OUT: 1}
    assert await rows(engine, f"SELECT count(*) FROM messages WHERE author_id = {carol}") == [(0,)]
    assert await rows(engine, "SELECT count(*) FROM messages WHERE counted") == [(0,)]
    assert await rows(engine, "SELECT count(*) FROM messages WHERE content IS NOT NULL") == [(0,)]
    assert await rows(engine, "SELECT count(*) FROM guild_days") == [(0,)]


# -- the command line, end to end ------------------------------------------------------------


def engagebot(*args: str, cwd: Path, db_url: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_engagebot(*args, cwd=cwd, env={"ENGAGEBOT_DATABASE__URL": db_url, **env})


def query(db_url: str, sql: str) -> list[tuple[Any, ...]]:
    async def go() -> list[tuple[Any, ...]]:
        engine = create_engine(db_url)
        try:
            return await rows(engine, sql)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def test_the_command_imports_a_folder_and_prints_json(db_url: str, tmp_path: Path) -> None:
    first = engagebot("import", str(EXPORTS), "--json", cwd=tmp_path, db_url=db_url)
    assert first.returncode == 0, first.stderr
    totals = json.loads(first.stdout)
    assert (totals["files"], totals["messages_new"], totals["messages_already_present"]) == (
        5,
        18,
        2,
    )
    assert totals["skipped"] == {SKIPPED_NO_REACTION_USERS: 2}
    assert totals["error"] is None
    # The fixtures are from 2024, past the 30-day retention window: no text was stored.
    assert query(db_url, "SELECT count(*) FROM messages WHERE content IS NOT NULL") == [(0,)]

    again = engagebot("import", str(EXPORTS), "--json", cwd=tmp_path, db_url=db_url)
    assert again.returncode == 0, again.stderr
    totals = json.loads(again.stdout)
    assert (totals["messages_new"], totals["messages_already_present"]) == (0, 20)
    for output in (first.stdout + first.stderr, again.stdout + again.stderr):
        assert all(t not in output for t in TEXTS)


def test_the_command_keeps_question_text_within_the_retention_window(
    db_url: str, tmp_path: Path
) -> None:
    days = str((datetime.now(UTC).date() - date(2024, 1, 1)).days + 30)
    result = engagebot(
        "import",
        str(GENERAL),
        cwd=tmp_path,
        db_url=db_url,
        ENGAGEBOT_PRIVACY__CONTENT_RETENTION_DAYS=days,
    )
    assert result.returncode == 0, result.stderr
    assert "9 new, 0 already present" in result.stdout
    assert TEXTS[0] not in result.stdout + result.stderr
    kept = query(db_url, "SELECT content FROM messages WHERE content IS NOT NULL")
    assert kept == [(TEXTS[0],)]


def test_the_command_stops_at_a_malformed_file_with_exit_2(db_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "a-random.json").write_bytes(OLD.read_bytes())
    raw = data(GENERAL)
    raw["messages"][7]["timestamp"] = "last tuesday"
    (folder / "b-general.json").write_text(json.dumps(raw), encoding="utf-8")

    result = engagebot("import", str(folder), "--json", cwd=tmp_path, db_url=db_url)

    assert result.returncode == 2
    assert "b-general.json: $.messages[7].timestamp:" in result.stderr
    assert "Nothing from this file was imported" in result.stderr
    assert "Traceback" not in result.stderr
    totals = json.loads(result.stdout)
    assert totals["files"] == 1
    assert totals["error"]["path"] == "$.messages[7].timestamp"
    assert query(db_url, "SELECT count(*) FROM messages") == [(2,)]  # a-random.json's


def test_the_command_names_a_missing_path(db_url: str, tmp_path: Path) -> None:
    result = engagebot("import", "nowhere.json", cwd=tmp_path, db_url=db_url)
    assert result.returncode == 2
    assert "nowhere.json: no such file or folder" in result.stderr
