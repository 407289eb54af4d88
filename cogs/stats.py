"""/stats: how the community is doing, for moderators (figures as METRICS.md defines them)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import moderators_only, require_guild, require_same_guild
from bot.domain.guilds import GuildSettings
from bot.domain.periods import Period, PeriodError
from bot.errors import UserFacingError
from bot.render import stats as render
from bot.render.figures import days_text
from bot.services.reports import ReportService

if TYPE_CHECKING:
    from bot.app import EngageBot

log = logging.getLogger(__name__)

PERIOD_CHOICES = ("this week", "last week", "last 7 days", "last 28 days", "last 90 days")
PERIOD_HELP = (
    "this week, last week, last 7/28/90 days, or dates as 2026-03-01..2026-03-31 "
    "(default: last week)"
)
PUBLIC_HELP = "Show the answer to everyone in the channel (default: only you see it)."
NO_PINGS = discord.AllowedMentions.none()
Channel = discord.TextChannel | discord.ForumChannel | discord.VoiceChannel


async def period_choices(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """The named periods that match what was typed; typed dates are offered as they are."""
    typed = " ".join(current.lower().split())
    found = [p for p in PERIOD_CHOICES if typed in p]
    if typed and not found:
        found = [current.strip()[:100]]
    return [app_commands.Choice(name=p, value=p) for p in found]


def _sentence(message: str) -> str:
    text = message.strip().rstrip(".")
    return f"{text[:1].upper()}{text[1:]}."


@app_commands.default_permissions(manage_guild=True)
@app_commands.guild_only()
class Stats(commands.GroupCog, group_name="stats"):
    """Moderators: activity, response times, retention and members at risk."""

    def __init__(self, bot: EngageBot, reports: ReportService | None = None) -> None:
        self.bot = bot
        self.stats = bot.services.stats
        self.ingest = bot.services.ingest
        self.reports = reports or ReportService(self.stats.guilds, self.stats.clock)
        super().__init__()

    # --- the steps every command shares -----------------------------------------------------

    async def _settings(self, guild_id: int, text: str | None) -> tuple[GuildSettings, Period]:
        """The guild's settings and the period typed, in its time zone (or a clear refusal)."""
        try:
            return await self.stats.resolve(guild_id, text)
        except PeriodError as exc:
            raise UserFacingError(_sentence(str(exc))) from None

    async def _period_with_data(self, guild_id: int, text: str | None) -> Period:
        """The period, once the latest events are written and it holds counted messages."""
        _, period = await self._settings(guild_id, text)
        await self.ingest.writer.flush()
        if await self.reports.counted_messages(guild_id, period) == 0:
            raise UserFacingError(render.no_data_text(period))
        return period

    @staticmethod
    async def _defer(interaction: discord.Interaction, public: bool) -> None:
        await interaction.response.defer(ephemeral=not public, thinking=True)

    @staticmethod
    async def _send(
        interaction: discord.Interaction,
        public: bool,
        embed: discord.Embed,
        file: discord.File | None = None,
    ) -> None:
        options: dict[str, Any] = {
            "embed": embed,
            "ephemeral": not public,
            "allowed_mentions": NO_PINGS,
        }
        if file is not None:
            options["file"] = file
        if interaction.response.is_done():
            await interaction.followup.send(**options)
        else:
            await interaction.response.send_message(**options)

    # --- commands ---------------------------------------------------------------------------

    @app_commands.command()
    @app_commands.describe(period=PERIOD_HELP, public=PUBLIC_HELP)
    @app_commands.autocomplete(period=period_choices)
    @moderators_only()
    async def overview(
        self, interaction: discord.Interaction, period: str | None = None, public: bool = False
    ) -> None:
        """Headline figures of a period with week-over-week changes, and activity per day."""
        guild = require_guild(interaction)
        chosen = await self._period_with_data(guild.id, period)
        await self._defer(interaction, public)
        overview = await self.stats.overview(guild.id, chosen)
        days = await self.reports.daily(guild.id, chosen)
        embed = render.overview_embed(overview)
        chart = await render.activity_file(
            embed,
            chosen,
            [d.day for d in days],
            [d.messages for d in days],
            [d.active_members for d in days],
        )
        await self._send(interaction, public, embed, chart)

    @app_commands.command()
    @app_commands.describe(
        channel="A channel or forum (its threads and posts count in it).",
        period=PERIOD_HELP,
        public=PUBLIC_HELP,
    )
    @app_commands.autocomplete(period=period_choices)
    @moderators_only()
    async def channel(
        self,
        interaction: discord.Interaction,
        channel: Channel,
        period: str | None = None,
        public: bool = False,
    ) -> None:
        """Messages and response times in one channel."""
        guild = require_guild(interaction)
        require_same_guild(guild, channel, "channel")
        chosen = await self._period_with_data(guild.id, period)
        report = await self.stats.channel(guild.id, channel.id, chosen)
        await self._send(interaction, public, render.channel_embed(report))

    @app_commands.command()
    @app_commands.describe(
        member="A member (or a former member) of this server.",
        period=PERIOD_HELP,
        public=PUBLIC_HELP,
    )
    @app_commands.autocomplete(period=period_choices)
    @moderators_only()
    async def member(
        self,
        interaction: discord.Interaction,
        member: discord.User,
        period: str | None = None,
        public: bool = False,
    ) -> None:
        """One member's messages, active days, questions and answers."""
        guild = require_guild(interaction)
        if isinstance(member, discord.Member):
            require_same_guild(guild, member, "member")
        chosen = await self._period_with_data(guild.id, period)
        report = await self.stats.member(guild.id, member.id, chosen)
        nothing = (
            not report.messages.current
            and not report.messages.previous
            and not report.questions_asked
            and not report.first_responses
        )
        if nothing and not isinstance(member, discord.Member):
            raise UserFacingError(
                f"{member.mention} is not a member of this server and posted nothing counted "
                "here in that period or the one before."
            )
        await self._send(interaction, public, render.member_embed(report))

    @app_commands.command()
    @app_commands.describe(period=PERIOD_HELP, public=PUBLIC_HELP)
    @app_commands.autocomplete(period=period_choices)
    @moderators_only()
    async def responses(
        self, interaction: discord.Interaction, period: str | None = None, public: bool = False
    ) -> None:
        """Questions and first response times, by channel and by responder, with a trend."""
        guild = require_guild(interaction)
        chosen = await self._period_with_data(guild.id, period)
        await self._defer(interaction, public)
        report = await self.stats.responses(guild.id, chosen)
        trend = await self.reports.response_times(guild.id, chosen)
        embed = render.responses_embed(report)
        chart = await render.response_time_file(
            embed,
            trend.starts,
            trend.median_minutes,
            trend.p90_minutes,
            trend.target_minutes,
            chosen.timezone,
        )
        await self._send(interaction, public, embed, chart)

    @app_commands.command()
    @app_commands.describe(
        weeks="How many weekly join cohorts to follow (2 to 12, default 8).", public=PUBLIC_HELP
    )
    @moderators_only()
    async def retention(
        self,
        interaction: discord.Interaction,
        weeks: app_commands.Range[int, 2, 12] = 8,
        public: bool = False,
    ) -> None:
        """The retention cohort table: who is still active N weeks after joining."""
        guild = require_guild(interaction)
        settings, _ = await self._settings(guild.id, None)
        await self._defer(interaction, public)
        await self.ingest.writer.flush()
        report = await self.stats.retention(guild.id, weeks)
        embed = render.retention_embed(report, settings.timezone, settings.week_start)
        if not any(c.size for c in report.cohorts):
            embed.description = (
                f"Nobody joined in the last {weeks} full weeks, so there is no cohort to follow "
                "yet."
            )
            await self._send(interaction, public, embed)
            return
        chart = await render.retention_file(embed, report, settings.timezone)
        await self._send(interaction, public, embed, chart)

    @app_commands.command()
    @app_commands.describe(public=PUBLIC_HELP)
    @moderators_only()
    async def heatmap(self, interaction: discord.Interaction, public: bool = False) -> None:
        """The busiest weekdays and hours over the last four full weeks."""
        guild = require_guild(interaction)
        settings, _ = await self._settings(guild.id, None)
        await self._defer(interaction, public)
        await self.ingest.writer.flush()
        peak = await self.stats.peak_hours(guild.id)
        embed = render.heatmap_embed(peak)
        if not peak.busiest:
            embed.description = (
                f"No counted messages in the last four full weeks ({days_text(peak.period)}) yet."
            )
            await self._send(interaction, public, embed)
            return
        chart = await render.heatmap_file(embed, peak, settings.week_start)
        await self._send(interaction, public, embed, chart)

    @app_commands.command()
    @app_commands.describe(period=PERIOD_HELP, public=PUBLIC_HELP)
    @app_commands.autocomplete(period=period_choices)
    @moderators_only()
    async def helpers(
        self, interaction: discord.Interaction, period: str | None = None, public: bool = False
    ) -> None:
        """Members who gave the most first responses; staff and community ranked apart."""
        guild = require_guild(interaction)
        chosen = await self._period_with_data(guild.id, period)
        report = await self.stats.helpers(guild.id, chosen)
        await self._send(interaction, public, render.helpers_embed(report))

    @app_commands.command(name="at-risk")
    @app_commands.describe(public=PUBLIC_HELP)
    @moderators_only()
    async def at_risk(self, interaction: discord.Interaction, public: bool = False) -> None:
        """Regulars who went quiet in the last 14 days, and members who came back this week."""
        guild = require_guild(interaction)
        await self._defer(interaction, public)
        await self.ingest.writer.flush()
        report = await self.stats.at_risk(guild.id)
        await self._send(interaction, public, render.at_risk_embed(report))


async def setup(bot: EngageBot) -> None:
    await bot.add_cog(Stats(bot))
