"""The bot: resources are built in ``run_bot`` under ``async with`` and passed in."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
import signal
import socket
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import discord
from discord.ext import commands

from bot import scheduling
from bot.domain.heap import settle_heap
from bot.errors import EngageTree
from bot.history import HistoryReader
from bot.metrics_server import MetricsServer
from bot.services.inbox import InboxService
from bot.services.ingest import IngestService
from bot.services.stats import StatsService
from bot.services.summaries import SummaryService
from bot.settings import Settings
from storage import migrate
from storage.engine import AsyncEngine, create_engine, redacted
from storage.inbox import InboxRepository
from storage.repositories import (
    ChannelRepository,
    Defaults,
    GuildRepository,
    MemberRepository,
    MessageRepository,
    SettingsStore,
)
from storage.summaries import SummaryRuns
from storage.writer import EventWriter, Writer
from storage.writer_process import ProcessWriter

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

UNBARRED_EVENTS = frozenset(
    {
        "MESSAGE_CREATE",
        "MESSAGE_REACTION_ADD",
        "MESSAGE_REACTION_REMOVE",
        "MESSAGE_REACTION_REMOVE_ALL",
        "MESSAGE_REACTION_REMOVE_EMOJI",
    }
)
"""Gateway events parsed without running the event barriers first (``add_event_barrier``): new
messages, which are what is held, and reactions, which change nothing a message's record reads
(discord.py builds the reacting member anew, and the writer counts reactions it stores before
their message)."""

EXTENSIONS: tuple[str, ...] = (
    "cogs.ingest",
    "cogs.privacy",
    "cogs.engage",
    "cogs.inbox",
    "cogs.summaries",
    "cogs.stats",
)


def required_intents() -> discord.Intents:
    """Guilds, members (privileged), messages with content (privileged) and reactions."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.members = True
    intents.guild_messages = True
    intents.message_content = True
    intents.guild_reactions = True
    intents.moderation = True
    return intents


@dataclass
class Services:
    ingest: IngestService
    inbox: InboxService
    stats: StatsService
    summaries: SummaryService


@dataclass
class Resources:
    """Everything the bot's cogs use, built once per process."""

    settings: Settings
    engine: AsyncEngine
    writer: Writer
    guilds: GuildRepository
    channels: ChannelRepository
    messages: MessageRepository
    members: MemberRepository
    services: Services


def process_name() -> str:
    """Who claimed a summary run, for operators reading the database (host and process)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


def defaults_from(settings: Settings) -> Defaults:
    d = settings.defaults
    return Defaults(
        timezone=d.timezone,
        week_start=d.week_start.number,
        summary_day=d.summary_day.number,
        summary_time=d.summary_time,
        response_target_minutes=d.response_target_minutes,
        store_content=settings.privacy.store_content,
    )


@contextlib.asynccontextmanager
async def open_resources(
    settings: Settings, clock: Clock = discord.utils.utcnow
) -> AsyncIterator[Resources]:
    """Engine (migrated to the newest schema), writer and repositories; closed in order."""
    engine = create_engine(settings.database.url)
    try:
        await migrate.upgrade(engine)
        log.info("database ready at %s", redacted(settings.database.url))
        zone = ZoneInfo(settings.defaults.timezone)
        writer: EventWriter | ProcessWriter = (
            ProcessWriter(settings.database.url, default_zone=zone)
            if settings.database.writer == "process"
            else EventWriter(engine, default_zone=zone)
        )
        async with writer:
            guilds = GuildRepository(engine, defaults_from(settings))
            channels = ChannelRepository(engine)
            messages = MessageRepository(engine)
            members = MemberRepository(engine)
            ingest = IngestService(
                writer,
                guilds,
                channels,
                members,
                messages,
                clock,
                settings_store=SettingsStore(engine),
                content_retention=timedelta(days=settings.privacy.content_retention_days),
            )
            inbox = InboxRepository(engine)
            stats = StatsService(guilds, clock)
            yield Resources(
                settings=settings,
                engine=engine,
                writer=writer,
                guilds=guilds,
                channels=channels,
                messages=messages,
                members=members,
                services=Services(
                    ingest=ingest,
                    inbox=InboxService(inbox, ingest, clock),
                    stats=stats,
                    summaries=SummaryService(
                        stats,
                        guilds,
                        SummaryRuns(engine),
                        inbox,
                        clock,
                        process_name=process_name(),
                    ),
                ),
            )
    finally:
        await engine.dispose()


class EngageBot(commands.AutoShardedBot):
    def __init__(
        self,
        resources: Resources,
        *,
        extensions: Sequence[str] = EXTENSIONS,
        **options: Any,
    ) -> None:
        discord_settings = resources.settings.discord
        options.setdefault("shard_count", discord_settings.shard_count)
        options.setdefault("shard_ids", discord_settings.shard_ids)
        # No message cache: every listener reads raw events and the records built from them,
        # so discord.py's last 1000 messages would only take memory, and freeing the oldest,
        # long out of the processor's caches, as each new one arrives costs about 1.5 us a
        # message (bench/ingest.py).
        options.setdefault("max_messages", None)
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=required_intents(),
            help_command=None,
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=EngageTree,
            **options,
        )
        self.resources = resources
        self.services = resources.services
        self.history = HistoryReader(self, resources.services.ingest)
        self.extensions_to_load = tuple(extensions)
        self.metrics_server: MetricsServer | None = None
        self.app_id = f"engagebot-{id(self):x}"
        self.scheduler = scheduling.build_scheduler()
        self.sync_handlers: dict[str, list[Callable[..., None]]] = {}
        """Per event name, functions called synchronously as the event is dispatched."""
        self.event_barriers: list[Callable[[], None]] = []
        parsers = self._connection.parsers  # the gateway's table: event name -> parser
        for event, parse in parsers.items():
            if event not in UNBARRED_EVENTS:
                parsers[event] = functools.partial(self._parse_after_barriers, parse)

    def add_event_barrier(self, barrier: Callable[[], None]) -> None:
        """Call ``barrier`` before discord.py parses any gateway event but a new message (and
        reactions, see ``UNBARRED_EVENTS``). A listener that holds new messages to handle them
        together handles them there, while discord.py's caches are still as those messages
        found them: parsing an event changes the cached members, roles, channels and messages
        before any listener hears of it."""
        self.event_barriers.append(barrier)

    def remove_event_barrier(self, barrier: Callable[[], None]) -> None:
        if barrier in self.event_barriers:
            self.event_barriers.remove(barrier)

    def _parse_after_barriers(self, parse: Callable[[Any], None], data: Any) -> None:
        for barrier in self.event_barriers:
            try:
                barrier()
            except Exception:
                log.exception("an event barrier failed")
        parse(data)

    def add_sync_handler(self, event_name: str, handler: Callable[..., None]) -> None:
        self.sync_handlers.setdefault(event_name, []).append(handler)

    def remove_sync_handler(self, event_name: str, handler: Callable[..., None]) -> None:
        handlers = self.sync_handlers.get(event_name, [])
        if handler in handlers:
            handlers.remove(handler)

    def dispatch(self, event_name: str, /, *args: Any, **kwargs: Any) -> None:
        """Synchronous handlers first, in the order events arrive (so, for example, a cache is
        forgotten before the next message reads it). A new message goes only to them when
        nothing else listens for it: no task per message and no prefix-command parsing
        (engagebot has slash commands only), which keeps the gateway's hot path short."""
        handlers = self.sync_handlers.get(event_name)
        if handlers:
            for handler in handlers:
                try:
                    handler(*args)
                except Exception:
                    log.exception("handling %s failed", event_name)
            if (
                event_name == "message"
                and not self._listeners.get("message")
                and not self.extra_events.get("on_message")
            ):
                return
        super().dispatch(event_name, *args, **kwargs)

    async def on_message(self, message: discord.Message, /) -> None:
        """No prefix commands: nothing to parse in messages."""

    async def setup_hook(self) -> None:
        for name in self.extensions_to_load:
            await self.load_extension(name)
        log.info("loaded %d cogs", len(self.extensions_to_load))
        await self.sync_commands_if_changed()
        scheduling.register(self.app_id, "expire_content", self.services.ingest.expire_content)
        scheduling.schedule_content_expiry(self.scheduler, self.app_id)
        self.scheduler.start()
        port = self.resources.settings.metrics.port
        if port is not None:
            self.metrics_server = MetricsServer(self.gauges, port)
            await self.metrics_server.start()

    async def sync_commands_if_changed(self, *, force: bool = False) -> bool:
        """Sync slash commands on first start or when they changed; not on every boot."""
        local = _command_signature(dict(c.to_dict(self.tree)) for c in self.tree.get_commands())
        if not force:
            fetched = await self.tree.fetch_commands()
            remote = _command_signature(dict(c.to_dict()) for c in fetched)
            if remote == local:
                return False
        await self.tree.sync()
        log.info("slash commands synced (%d top-level)", len(local))
        return True

    async def staff_role_ids(self, guild_id: int) -> frozenset[int]:
        view = await self.services.ingest.view(guild_id)
        return view.settings.staff_role_ids

    def gauges(self) -> dict[str, float]:
        stats = self.resources.writer.stats
        return {
            "guilds": len(self.guilds),
            "gateway_latency_seconds": self.latency if self.latency == self.latency else 0.0,
            "writer_queue_depth": self.resources.writer.pending,
            "writer_events_queued_total": stats.queued,
            "writer_events_written_total": stats.written,
            "writer_events_failed_total": stats.failed,
            "writer_batches_total": stats.batches,
            "writer_retries_total": stats.retries,
            "messages_stored_total": stats.messages_new,
        }

    async def close(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        scheduling.unregister(self.app_id)
        if self.metrics_server is not None:
            await self.metrics_server.stop()
        await super().close()

    async def on_ready(self) -> None:
        log.info(
            "connected as %s (%s) in %d guilds", self.user, self.application_id, len(self.guilds)
        )

    async def on_shard_ready(self, shard_id: int) -> None:
        settle_heap()


def _command_signature(payloads: Iterable[dict[str, Any]]) -> set[str]:
    """What makes two command lists the same for Discord: names, options and permissions."""
    keys = ("name", "type", "options", "default_member_permissions", "description")

    def canonical(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: canonical(v) for k, v in sorted(value.items()) if v not in (None, [], {})}
        if isinstance(value, list):
            return [canonical(v) for v in value]
        return str(value)

    return {json.dumps(canonical({k: p.get(k) for k in keys}), sort_keys=True) for p in payloads}


async def run_bot(settings: Settings, token: str) -> None:
    # SIGTERM (systemd, docker stop) stops the bot as cleanly as Ctrl+C: the writer writes what
    # it holds before the process ends.
    task = asyncio.current_task()
    if task is not None:
        with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows loops
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    async with open_resources(settings) as resources:
        bot = EngageBot(resources)
        async with bot:
            await bot.start(token)
