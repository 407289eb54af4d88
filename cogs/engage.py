"""/engage: the moderators' settings and data commands."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import moderators_only, require_guild
from bot.history import ReadReport

if TYPE_CHECKING:
    from bot.app import EngageBot

log = logging.getLogger(__name__)


@app_commands.default_permissions(manage_guild=True)
@app_commands.guild_only()
class Engage(commands.GroupCog, group_name="engage"):
    """Moderators: configure engagebot and manage its data."""

    def __init__(self, bot: EngageBot) -> None:
        self.bot = bot
        self.ingest = bot.services.ingest
        self.history = bot.history
        super().__init__()

    @app_commands.command()
    @app_commands.describe(days="How many days back to read (1 to 365).")
    @moderators_only()
    async def backfill(
        self, interaction: discord.Interaction, days: app_commands.Range[int, 1, 365] = 30
    ) -> None:
        """Read past messages of the watched channels into the statistics (safe to repeat)."""
        guild = require_guild(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)

        async def progress(report: ReadReport) -> None:
            await interaction.edit_original_response(
                content=f"Reading history: {report.channels_done}/{report.channels} channels, "
                f"{report.messages} messages so far."
            )

        report = await self.history.backfill(guild, days, progress)
        skipped = (
            f" {report.skipped_channels} channels could not be read (the bot lacks "
            "Read Message History there)."
            if report.skipped_channels
            else ""
        )
        await interaction.edit_original_response(
            content=f"Done: read {report.messages} messages from the last {days} days in "
            f"{report.channels} channels and threads.{skipped}"
        )

    @app_commands.command()
    @app_commands.describe(member="The member whose stored data is erased.")
    @moderators_only()
    async def forget(self, interaction: discord.Interaction, member: discord.Member) -> None:
        """Erase what is stored about a member and stop recording them (a privacy request)."""
        guild = require_guild(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self.ingest.forget_member(guild.id, member.id)
        log.info(
            "moderator %s erased member %s in guild %s",
            interaction.user.id,
            member.id,
            guild.id,
        )
        await interaction.followup.send(
            f"Erased what was stored about {member.mention}; their activity is no longer "
            "recorded (they can opt in again with `/privacy opt-in`).",
            ephemeral=True,
        )


async def setup(bot: EngageBot) -> None:
    await bot.add_cog(Engage(bot))
