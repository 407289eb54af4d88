"""The bot: resources are built in ``run_bot`` under ``async with`` and passed in."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import discord
from discord.ext import commands

from bot.metrics_server import MetricsServer
from bot.settings import Settings
from storage import migrate
from storage.engine import AsyncEngine, create_engine, redacted
from storage.repositories import (
    ChannelRepository,
    Defaults,
    GuildRepository,
    MemberRepository,
    MessageRepository,
)
from storage.writer import EventWriter

log = logging.getLogger(__name__)

EXTENSIONS: tuple[str, ...] = ()


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
class Resources:
    """Everything the bot's cogs use, built once per process."""

    settings: Settings
    engine: AsyncEngine
    writer: EventWriter
    guilds: GuildRepository
    channels: ChannelRepository
    messages: MessageRepository
    members: MemberRepository


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
async def open_resources(settings: Settings) -> AsyncIterator[Resources]:
    """Engine (migrated to the newest schema), writer and repositories; closed in order."""
    engine = create_engine(settings.database.url)
    try:
        await migrate.upgrade(engine)
        log.info("database ready at %s", redacted(settings.database.url))
        writer = EventWriter(engine, default_zone=ZoneInfo(settings.defaults.timezone))
        async with writer:
            yield Resources(
                settings=settings,
                engine=engine,
                writer=writer,
                guilds=GuildRepository(engine, defaults_from(settings)),
                channels=ChannelRepository(engine),
                messages=MessageRepository(engine),
                members=MemberRepository(engine),
            )
    finally:
        await engine.dispose()


class EngageBot(commands.AutoShardedBot):
    def __init__(
        self,
        resources: Resources,
        *,
        extensions: Sequence[str] = EXTENSIONS,
        **options: object,
    ) -> None:
        discord_settings = resources.settings.discord
        options.setdefault("shard_count", discord_settings.shard_count)
        options.setdefault("shard_ids", discord_settings.shard_ids)
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=required_intents(),
            help_command=None,
            allowed_mentions=discord.AllowedMentions.none(),
            **options,  # type: ignore[arg-type]
        )
        self.resources = resources
        self.extensions_to_load = tuple(extensions)
        self.metrics_server: MetricsServer | None = None

    async def setup_hook(self) -> None:
        for name in self.extensions_to_load:
            await self.load_extension(name)
        log.info("loaded %d cogs", len(self.extensions_to_load))
        port = self.resources.settings.metrics.port
        if port is not None:
            self.metrics_server = MetricsServer(self.gauges, port)
            await self.metrics_server.start()

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
        if self.metrics_server is not None:
            await self.metrics_server.stop()
        await super().close()

    async def on_ready(self) -> None:
        log.info(
            "connected as %s (%s) in %d guilds", self.user, self.application_id, len(self.guilds)
        )


async def run_bot(settings: Settings, token: str) -> None:
    async with open_resources(settings) as resources:
        bot = EngageBot(resources)
        async with bot:
            await bot.start(token)
