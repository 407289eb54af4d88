"""One error handler for every app command: a clear ephemeral answer, one log line."""

from __future__ import annotations

import logging

import discord
from discord import app_commands

log = logging.getLogger(__name__)


class UserFacingError(app_commands.AppCommandError):
    """An expected problem whose message is meant for the person who ran the command."""


async def send_ephemeral(interaction: discord.Interaction, text: str) -> None:
    """Answer or follow up, whichever is still possible; never raises."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)
    except discord.HTTPException as exc:
        log.warning("could not answer interaction %s: %s", interaction.id, exc.status)


class EngageTree(app_commands.CommandTree):
    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        command = interaction.command.qualified_name if interaction.command else "?"
        if isinstance(error, UserFacingError):
            await send_ephemeral(interaction, str(error))
        elif isinstance(error, app_commands.CheckFailure):
            await send_ephemeral(interaction, str(error) or "You cannot use this command here.")
        elif isinstance(error, app_commands.TransformerError):
            await send_ephemeral(interaction, f"That value is not valid: {error.value!r}.")
        else:
            original = getattr(error, "original", error)
            log.error(
                "/%s failed in guild %s (interaction %s)",
                command,
                interaction.guild_id,
                interaction.id,
                exc_info=original,
            )
            await send_ephemeral(
                interaction, "Something went wrong on our side; it has been logged."
            )
