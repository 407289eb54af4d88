"""/engage: the moderators' settings and data commands."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import moderators_only, require_guild
from bot.convert import channel_record
from bot.errors import UserFacingError
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
    @app_commands.describe(
        channel="A channel or forum (its threads and posts follow it).",
        mode="watch: count it (then only watched channels count); ignore: never count it; "
        "default: follow the server default.",
    )
    @moderators_only()
    async def watch(
        self,
        interaction: discord.Interaction,
        channel: discord.TextChannel | discord.ForumChannel | discord.VoiceChannel,
        mode: Literal["watch", "ignore", "default"],
    ) -> None:
        """Choose which channels count as community activity."""
        guild = require_guild(interaction)
        if channel.guild.id != guild.id:
            raise UserFacingError("That channel belongs to another server.")
        watched = {"watch": True, "ignore": False, "default": None}[mode]
        view = await self.ingest.set_watch(channel_record(channel), watched)
        explicit = sorted(c.channel_id for c in view.channels.values() if c.watched is True)
        ignored = sorted(c.channel_id for c in view.channels.values() if c.watched is False)
        if explicit:
            scope = "Only these channels count: " + ", ".join(f"<#{c}>" for c in explicit)
        else:
            scope = "Every channel the bot can read counts"
        if ignored:
            scope += "; never counted: " + ", ".join(f"<#{c}>" for c in ignored)
        await interaction.response.send_message(
            f"{channel.mention}: {mode}. {scope}.", ephemeral=True
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
