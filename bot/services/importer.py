"""Import DiscordChatExporter JSON exports: the history from before the bot joined.

Each file is read and validated whole, then written in one transaction through the writer, so a
malformed file leaves nothing behind and the files before it stay imported. Writes are idempotent
(keyed by Discord snowflakes): overlapping exports and repeated runs store each message once, and
a message that is already stored is reported as already present.

The guild's rules apply as they do to live events: its content policy (the deployment default
unless its moderators chose another), its opt-outs (nothing of a member who opted out is logged)
and its watched channels (messages in an ignored channel are stored but not counted). Channels
and guilds that are already stored keep their rows: the bot's live view is newer than any export.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.domain.exports import (
    SKIPPED_AUTHOR_OPTED_OUT,
    SKIPPED_NO_REACTION_USERS,
    SKIPPED_REACTOR_OPTED_OUT,
    ChannelExport,
    ExportFormatError,
    ImportContext,
    load_export,
    plan_import,
)
from bot.domain.guilds import ChannelSettings, GuildSettings, is_watched
from bot.domain.records import ContentPolicy
from storage.engine import AsyncEngine
from storage.repositories import ChannelRepository, Defaults, GuildRepository, MemberRepository
from storage.writer import EventWriter

log = logging.getLogger(__name__)

SKIPPED_UNITS: Mapping[str, str] = {
    SKIPPED_NO_REACTION_USERS: "reactions",
    SKIPPED_AUTHOR_OPTED_OUT: "messages",
    SKIPPED_REACTOR_OPTED_OUT: "reactions",
}
"""What each skip reason counts, for people reading the summary."""


class ImportProgress(Protocol):
    def file_started(self, path: Path) -> None: ...

    def file_read(self, path: Path, messages: int) -> None: ...

    def file_done(self, report: FileReport) -> None: ...


class _NoProgress:
    def file_started(self, path: Path) -> None:
        pass

    def file_read(self, path: Path, messages: int) -> None:
        pass

    def file_done(self, report: FileReport) -> None:
        pass


@dataclass
class FileReport:
    path: Path
    guild_id: int
    channel_id: int
    thread_id: int | None
    messages: int
    """Messages in the file."""
    messages_written: int
    """Messages handed to the database (all but skipped ones); new or already present."""
    messages_new: int
    reactions: int
    """Reactions (one per message, user and emoji) in the file that name their users."""
    reactions_written: int
    reactions_new: int
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def messages_already_present(self) -> int:
        return self.messages_written - self.messages_new

    @property
    def reactions_already_present(self) -> int:
        return self.reactions_written - self.reactions_new


@dataclass(frozen=True)
class ImportFailure:
    path: Path
    problem: str
    json_path: str | None = None
    """Where in the file, for a malformed export (``$.messages[12].author.id``)."""
    malformed: bool = True
    """True: the file is at fault; False: the database failed."""
    files_not_read: int = 0

    def describe(self) -> str:
        where = f"{self.json_path}: " if self.json_path else ""
        return f"{self.path}: {where}{self.problem}"


@dataclass
class ImportReport:
    files: list[FileReport] = field(default_factory=list)
    failure: ImportFailure | None = None

    def skipped(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for f in self.files:
            total.update(f.skipped)
        return dict(sorted(total.items()))

    def totals(self) -> dict[str, object]:
        """The summary: counts of what was imported, and the failure if the import stopped."""
        messages_written = sum(f.messages_written for f in self.files)
        messages_new = sum(f.messages_new for f in self.files)
        reactions_written = sum(f.reactions_written for f in self.files)
        reactions_new = sum(f.reactions_new for f in self.files)
        failure = self.failure
        return {
            "files": len(self.files),
            "messages": sum(f.messages for f in self.files),
            "messages_new": messages_new,
            "messages_already_present": messages_written - messages_new,
            "reactions": sum(f.reactions for f in self.files),
            "reactions_new": reactions_new,
            "reactions_already_present": reactions_written - reactions_new,
            "skipped": self.skipped(),
            "error": None
            if failure is None
            else {
                "file": str(failure.path),
                "path": failure.json_path,
                "problem": failure.problem,
                "malformed": failure.malformed,
                "files_not_read": failure.files_not_read,
            },
        }


def find_export_files(paths: Iterable[Path]) -> list[Path]:
    """The files named and every ``*.json`` under the folders named, each once.

    Exports of channels come before exports of threads, so that a thread started from a message
    finds its starter message stored (that is how a thread start is counted). Raises
    ``FileNotFoundError`` for a path that does not exist.
    """
    found: dict[Path, Path] = {}
    for path in paths:
        if path.is_dir():
            candidates = sorted(p for p in path.rglob("*.json") if p.is_file())
        elif path.is_file():
            candidates = [path]
        else:
            raise FileNotFoundError(path)
        for candidate in candidates:
            found.setdefault(candidate.resolve(), candidate)
    files = list(found.values())
    threads = {p for p in files if _looks_like_thread_export(p)}
    return [p for p in files if p not in threads] + [p for p in files if p in threads]


# The exporter writes "guild", then "channel" (a flat object), then the messages: the channel's
# type is in the first few hundred bytes. Only the order of files depends on this guess.
_THREAD_CHANNEL = re.compile(
    rb'"channel"\s*:\s*\{[^{}]*?"type"\s*:\s*"'
    rb'(?:GuildPublicThread|GuildPrivateThread|GuildNewsThread|GuildAnnouncementThread|1[012])"'
)


def _looks_like_thread_export(path: Path) -> bool:
    try:
        with path.open("rb") as file:
            head = file.read(64 * 1024)
    except OSError:
        return False
    return _THREAD_CHANNEL.search(head) is not None


@dataclass
class _GuildState:
    settings: GuildSettings
    channels: dict[int, ChannelSettings]
    known_channel_ids: set[int]
    opted_out: frozenset[int]
    known: bool


class ExportImporter:
    """Imports export files into the database, one transaction per file."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        store_content: ContentPolicy = ContentPolicy.QUESTIONS,
        timezone: str = "UTC",
        keep_content_since: datetime | None = None,
        progress: ImportProgress | None = None,
    ) -> None:
        """``store_content`` and ``timezone`` are the deployment defaults a guild inherits;
        text older than ``keep_content_since`` (the retention window) is not stored."""
        self.writer = EventWriter(engine, default_zone=ZoneInfo(timezone))
        self.guilds = GuildRepository(
            engine, Defaults(timezone=timezone, store_content=store_content)
        )
        self.channels = ChannelRepository(engine)
        self.members = MemberRepository(engine)
        self.keep_content_since = keep_content_since
        self.progress: ImportProgress = progress or _NoProgress()
        self._states: dict[int, _GuildState] = {}
        self._known_guilds: set[int] | None = None

    async def run(self, files: Sequence[Path]) -> ImportReport:
        """Import the files in order; stop at the first one that cannot be imported."""
        report = ImportReport()
        await self.writer.load_timezones()
        for index, path in enumerate(files):
            self.progress.file_started(path)
            remaining = len(files) - index - 1
            try:
                export = load_export(path.read_bytes())
            except ExportFormatError as exc:
                report.failure = ImportFailure(
                    path, exc.problem, exc.path, files_not_read=remaining
                )
                break
            except OSError as exc:
                problem = f"cannot be read: {exc.strerror or type(exc).__name__}"
                report.failure = ImportFailure(path, problem, files_not_read=remaining)
                break
            self.progress.file_read(path, len(export.messages))
            try:
                done = await self.import_export(path, export)
            except Exception as exc:
                # Parameters are hidden by the engine, so the message holds no message text.
                first_line = str(exc).splitlines()[0] if str(exc) else ""
                log.debug("importing %s failed", path, exc_info=True)
                report.failure = ImportFailure(
                    path,
                    f"the database refused it: {type(exc).__name__}: {first_line[:200]}",
                    malformed=False,
                    files_not_read=remaining,
                )
                break
            report.files.append(done)
            self.progress.file_done(done)
        return report

    async def import_export(self, path: Path, export: ChannelExport) -> FileReport:
        """Write one parsed export in one transaction."""
        guild_id = export.guild.guild_id
        state = await self._state(guild_id)
        thread_id = export.thread_id
        top = export.top_channel_id
        where = thread_id if thread_id is not None else top
        top_settings = state.channels.get(top)
        context = ImportContext(
            store_content=state.settings.store_content,
            opted_out=state.opted_out,
            watched=_watched(state.channels, where, top if thread_id is not None else None),
            help_channel=top_settings is not None and top_settings.is_help,
            keep_content_since=self.keep_content_since,
            guild_known=state.known,
            known_channel_ids=frozenset(state.known_channel_ids),
        )
        plan = plan_import(export, context)
        messages_new = reactions_new = 0
        if plan.events:
            result = await self.writer.write_transaction(plan.events)
            messages_new, reactions_new = result.messages_new, result.reactions_new
        state.known = True
        state.known_channel_ids.add(export.channel.channel_id)
        if export.parent is not None:
            state.known_channel_ids.add(export.parent.channel_id)
        log.debug(
            "imported guild %s channel %s thread %s: %d of %d messages new",
            guild_id,
            top,
            thread_id,
            messages_new,
            plan.messages,
        )
        return FileReport(
            path=path,
            guild_id=guild_id,
            channel_id=top,
            thread_id=thread_id,
            messages=len(export.messages),
            messages_written=plan.messages,
            messages_new=messages_new,
            reactions=len(export.reactions),
            reactions_written=plan.reactions,
            reactions_new=reactions_new,
            skipped=dict(plan.skipped),
        )

    async def _state(self, guild_id: int) -> _GuildState:
        state = self._states.get(guild_id)
        if state is not None:
            return state
        if self._known_guilds is None:
            self._known_guilds = set(await self.guilds.known_guild_ids())
        channels = {c.channel_id: c for c in await self.channels.channels(guild_id)}
        state = _GuildState(
            settings=await self.guilds.settings(guild_id),
            channels=channels,
            known_channel_ids=set(channels),
            opted_out=frozenset(await self.members.opted_out(guild_id)),
            # A guild the bot has left is not listed as known, but its channels are stored.
            known=guild_id in self._known_guilds or bool(channels),
        )
        self._states[guild_id] = state
        return state


def _watched(channels: Mapping[int, ChannelSettings], where: int, parent_id: int | None) -> bool:
    """Whether messages in ``where`` count; a channel not stored yet follows its parent."""
    any_explicit = any(c.watched is True for c in channels.values())
    channel = channels.get(where)
    if channel is None:
        if parent_id is not None and parent_id in channels:
            return _watched(channels, parent_id, None)
        return not any_explicit
    parent = channels.get(channel.parent_id) if channel.parent_id else None
    return is_watched(channel, parent, any_explicit)
