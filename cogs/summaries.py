"""Weekly summaries: scheduled per guild in its time zone, posted exactly once, and /summary."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import discord
from discord import app_commands
from discord.ext import commands

from bot import scheduling
from bot.checks import moderators_only, require_guild, require_same_guild
from bot.convert import guild_record
from bot.domain.guilds import WEEKDAYS
from bot.domain.periods import last_week
from bot.domain.summaries import DueSummary, SummaryKind, next_moment, retry_at
from bot.errors import UserFacingError
from bot.render.names import Names
from bot.render.summaries import render
from bot.services.summaries import Claimed, schedule_of

if TYPE_CHECKING:
    from bot.app import EngageBot

log = logging.getLogger(__name__)

Kind = Literal["public", "staff"]
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class PostFailure(Exception):
    """Why a summary could not be posted, in words for moderators and the log."""


@app_commands.default_permissions(manage_guild=True)
@app_commands.guild_only()
class Summaries(commands.GroupCog, group_name="summary"):
    """Moderators: the weekly engagement and retention summaries."""

    def __init__(self, bot: EngageBot) -> None:
        self.bot = bot
        self.service = bot.services.summaries
        self.ingest = bot.services.ingest
        super().__init__()

    async def cog_load(self) -> None:
        scheduling.register(self.bot.app_id, "summary_retries", self.retry_failed)

    async def cog_unload(self) -> None:
        scheduling.unschedule(self.bot.scheduler, self.bot.app_id, "summary_retries")
        for guild in self.bot.guilds:
            scheduling.unschedule(self.bot.scheduler, self.bot.app_id, f"summaries:{guild.id}")

    # -- scheduling --------------------------------------------------------------------------

    async def after_catch_up(self, guild: discord.Guild) -> None:
        """Schedule the guild, then post what fell due while the bot was away (within grace)."""
        await self.reschedule(guild.id)
        await self.service.log_skipped(guild.id)
        await self.run_due([guild.id])

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        scheduling.unschedule(self.bot.scheduler, self.bot.app_id, f"summaries:{guild.id}")

    async def reschedule(self, guild_id: int) -> None:
        settings = await self.service.settings(guild_id)
        name = f"summaries:{guild_id}"

        async def job() -> None:
            await self.run_due([guild_id])

        scheduling.register(self.bot.app_id, name, job)
        scheduling.schedule_summaries(
            self.bot.scheduler, self.bot.app_id, guild_id, schedule_of(settings)
        )

    async def run_due(self, guild_ids: list[int]) -> list[discord.Message]:
        """Post every summary due at the bot's clock that nobody has posted (each guild apart,
        so one failing guild never delays another)."""
        posted: list[discord.Message] = []
        if not self.ingest.writer.running:
            return posted  # shutting down: the next start posts what is due
        await self.ingest.writer.flush()  # the week's last messages count
        for guild_id in guild_ids:
            try:
                for claimed in await self.service.claim_due(guild_id):
                    message = await self.post(guild_id, claimed)
                    if message is not None:
                        posted.append(message)
            except Exception:
                log.exception("summaries of guild %s failed", guild_id)
        return posted

    async def retry_failed(self) -> None:
        """Failed summaries whose back-off has passed are claimed again and posted."""
        now = discord.utils.utcnow()
        guild_ids = [g.id for g in self.bot.guilds]
        for run in await self.service.runs.failed_runs(guild_ids):
            when = retry_at(run.attempts, run.claimed_at)
            if when is not None and when <= now:
                await self.run_due([run.guild_id])

    async def post(self, guild_id: int, claimed: Claimed) -> discord.Message | None:
        guild = self.bot.get_guild(guild_id)
        try:
            if guild is None:
                raise PostFailure("the bot is not in this server any more")
            channel = await self._channel(guild, claimed.kind)
            if channel is None:
                await self.service.runs.skipped(claimed.run_id, "no channel configured")
                log.info(
                    "guild %s has no %s summary channel (/summary channel); not posted",
                    guild_id,
                    claimed.kind.value,
                )
                return None
            summary = await self.service.compose(guild_id, claimed.kind, claimed.due.period)
            rendered = await render(summary, Names.of(guild))
            message = await channel.send(embed=rendered.embed, files=rendered.discord_files())
        except (PostFailure, discord.HTTPException) as exc:
            await self._failed(guild, claimed, _describe(exc))
            return None
        await self.service.posted(claimed, channel.id, message.id)
        return message

    async def _failed(self, guild: discord.Guild | None, claimed: Claimed, error: str) -> None:
        run = await self.service.failed(claimed, error)
        again = retry_at(run.attempts, run.claimed_at)
        if again is not None:
            # A one-off wake-up after the back-off (a restart retries too: claims see failures).
            scheduling.schedule_once(
                self.bot.scheduler, self.bot.app_id, "summary_retries", again - run.claimed_at
            )
            return
        if guild is None:
            return
        # The last attempt failed: tell the moderators once, where they look.
        text = (
            f"The {claimed.kind.value} summary of {claimed.due.period.label} "
            f"({claimed.due.period.first_day}..{claimed.due.period.last_day}) could not be "
            f"posted after {run.attempts} attempts: {error}. Check `/summary channel` and my "
            "permissions there."
        )
        settings = await self.service.settings(guild.id)
        inbox = guild.get_channel(settings.inbox_channel_id or 0)
        if isinstance(inbox, discord.TextChannel):
            try:
                await inbox.send(text)
                return
            except discord.HTTPException:
                pass
        log.error("guild %s: %s", guild.id, text)

    async def _channel(self, guild: discord.Guild, kind: SummaryKind) -> discord.TextChannel | None:
        settings = await self.service.settings(guild.id)
        if kind is SummaryKind.PUBLIC:
            channel_id = settings.public_summary_channel_id
        else:
            channel_id = settings.staff_summary_channel_id or settings.inbox_channel_id
        if channel_id is None:
            return None
        channel = guild.get_channel(channel_id)
        if not isinstance(channel, discord.TextChannel):
            raise PostFailure(f"the {kind.value} summary channel <#{channel_id}> is gone")
        return channel

    # -- /summary ----------------------------------------------------------------------------

    @app_commands.command()
    @app_commands.describe(kind="Which summary (default: the moderators' one).")
    @moderators_only()
    async def preview(self, interaction: discord.Interaction, kind: Kind = "staff") -> None:
        """Show last week's summary now, only to you."""
        guild = require_guild(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self.ingest.writer.flush()
        summary = await self.service.compose(guild.id, SummaryKind(kind))
        rendered = await render(summary, Names.of(guild))
        await interaction.followup.send(
            embed=rendered.embed, files=rendered.discord_files(), ephemeral=True
        )

    @app_commands.command(name="post-now")
    @app_commands.describe(kind="Which summary (default: the moderators' one).")
    @moderators_only()
    async def post_now(self, interaction: discord.Interaction, kind: Kind = "staff") -> None:
        """Post last week's summary now (once: if it was posted already, says where)."""
        guild = require_guild(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self.ingest.writer.flush()
        settings = await self.service.settings(guild.id)
        now = discord.utils.utcnow()
        period = last_week(now, settings.timezone, settings.week_start)
        which = SummaryKind(kind)
        run_id = await self.service.runs.claim(
            guild.id, which, period.start, period.end, self.service.process_name, now
        )
        if run_id is None:
            await interaction.followup.send(
                f"The {kind} summary of last week was already posted (or is being posted); "
                "`/summary preview` shows it again.",
                ephemeral=True,
            )
            return
        claimed = Claimed(run_id, which, DueSummary(now, period), 1)
        message = await self.post(guild.id, claimed)
        if message is None:
            run = await self.service.runs.run(run_id)
            reason = run.error if run is not None and run.error else "see the log"
            raise UserFacingError(f"Not posted: {reason}. Use `/summary channel` first.")
        await interaction.followup.send(f"Posted: {message.jump_url}", ephemeral=True)

    @app_commands.command()
    @app_commands.describe(
        day="The weekday the summaries are posted.",
        time="The local time, 24-hour HH:MM (e.g. 09:00).",
        timezone="An IANA time zone such as Europe/Berlin or America/New_York.",
    )
    @moderators_only()
    async def schedule(
        self,
        interaction: discord.Interaction,
        day: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"],
        time: str,
        timezone: str,
    ) -> None:
        """When the weekly summaries are posted (also sets the server's time zone)."""
        guild = require_guild(interaction)
        match = _TIME.match(time.strip())
        if match is None:
            raise UserFacingError(
                f"{time!r} is not a time of day; use 24-hour HH:MM, for example 09:00 or 18:30."
            )
        try:
            zone = ZoneInfo(timezone.strip())
        except (ZoneInfoNotFoundError, ValueError):
            raise UserFacingError(
                f"{timezone!r} is not a known time zone; use a name such as Europe/Berlin, "
                "America/New_York or UTC."
            ) from None
        at = f"{int(match[1]):02d}:{match[2]}"
        await self.ingest.configure_guild(
            guild_record(guild, discord.utils.utcnow()),
            summary_day=day,
            summary_time=at,
            timezone=zone.key,
        )
        self.ingest.writer.set_timezone(guild.id, zone)
        await self.reschedule(guild.id)
        settings = await self.service.settings(guild.id)
        upcoming = next_moment(schedule_of(settings), discord.utils.utcnow())
        await interaction.response.send_message(
            f"Summaries are posted every {WEEKDAYS[settings.summary_day].title()} at {at} "
            f"({zone.key}); next: {discord.utils.format_dt(upcoming, 'F')}.",
            ephemeral=True,
        )

    @schedule.autocomplete("timezone")
    async def _zones(self, _: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        wanted = current.strip().lower()
        found = sorted(z for z in available_timezones() if wanted in z.lower())
        return [app_commands.Choice(name=z, value=z) for z in found[:25]]

    @app_commands.command()
    @app_commands.describe(kind="Which summary.", channel="Where it is posted.")
    @moderators_only()
    async def channel(
        self, interaction: discord.Interaction, kind: Kind, channel: discord.TextChannel
    ) -> None:
        """Choose where a summary is posted (and turn it on)."""
        guild = require_guild(interaction)
        require_same_guild(guild, channel, "channel")
        permissions = channel.permissions_for(guild.me)
        if not (permissions.send_messages and permissions.embed_links and permissions.attach_files):
            raise UserFacingError(
                f"I cannot post summaries in {channel.mention}: give me Send Messages, Embed "
                "Links and Attach Files there first."
            )
        values: dict[str, object] = {
            f"{kind}_summary_channel_id": channel.id,
            f"{kind}_summary_enabled": True,
        }
        await self.ingest.configure_guild(guild_record(guild, discord.utils.utcnow()), **values)
        await interaction.response.send_message(
            f"The {kind} summary is posted in {channel.mention}.", ephemeral=True
        )

    @app_commands.command()
    @app_commands.describe(kind="Which summary to stop.")
    @moderators_only()
    async def off(self, interaction: discord.Interaction, kind: Kind) -> None:
        """Stop posting a summary (`/summary channel` turns it on again)."""
        guild = require_guild(interaction)
        await self.ingest.configure_guild(
            guild_record(guild, discord.utils.utcnow()), **{f"{kind}_summary_enabled": False}
        )
        await interaction.response.send_message(f"The {kind} summary is off.", ephemeral=True)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, discord.Forbidden):
        return "no permission to post in its channel"
    if isinstance(exc, discord.NotFound):
        return "its channel no longer exists"
    if isinstance(exc, discord.HTTPException):
        return f"Discord answered {exc.status}"
    return str(exc)


async def setup(bot: EngageBot) -> None:
    await bot.add_cog(Summaries(bot))
