"""/privacy: any member can stop being logged and have their data erased."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import require_guild

if TYPE_CHECKING:
    from bot.app import EngageBot


class Privacy(commands.GroupCog, group_name="privacy"):
    """Your data in this server's engagement statistics."""

    def __init__(self, bot: EngageBot) -> None:
        self.ingest = bot.services.ingest
        super().__init__()

    @app_commands.command(name="opt-out")
    @app_commands.guild_only()
    async def opt_out(self, interaction: discord.Interaction) -> None:
        """Erase what engagebot stored about you here and stop recording your activity."""
        guild = require_guild(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self.ingest.forget_member(guild.id, interaction.user.id)
        await interaction.followup.send(
            "Done. Your messages, reactions and activity in this server's statistics are erased, "
            "and from now on nothing you do here is recorded. `/privacy opt-in` undoes the "
            "second part.",
            ephemeral=True,
        )

    @app_commands.command(name="opt-in")
    @app_commands.guild_only()
    async def opt_in(self, interaction: discord.Interaction) -> None:
        """Let engagebot count your activity again (nothing erased comes back)."""
        guild = require_guild(interaction)
        changed = await self.ingest.opt_in(guild.id, interaction.user.id)
        text = (
            "Your activity counts again from now on."
            if changed
            else "You had not opted out; nothing changed."
        )
        await interaction.response.send_message(text, ephemeral=True)


async def setup(bot: EngageBot) -> None:
    await bot.add_cog(Privacy(bot))
