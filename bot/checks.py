"""Who may use the moderators' commands: Manage Server, Manage Messages or a staff role."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol, TypeVar

import discord
from discord import app_commands

from bot.errors import UserFacingError

T = TypeVar("T")

NOT_A_MODERATOR = "This command is for the server's moderators."


class KnowsStaffRoles(Protocol):
    async def staff_role_ids(self, guild_id: int) -> Iterable[int]: ...


def is_moderator_member(member: discord.Member, staff_role_ids: Iterable[int]) -> bool:
    permissions = member.guild_permissions
    if permissions.manage_guild or permissions.manage_messages:
        return True
    staff = set(staff_role_ids)
    return any(role.id in staff for role in member.roles)


async def is_moderator(interaction: discord.Interaction) -> bool:
    member = interaction.user
    if interaction.guild_id is None or not isinstance(member, discord.Member):
        raise app_commands.NoPrivateMessage("This command works in a server only.")
    client: KnowsStaffRoles = interaction.client  # type: ignore[assignment]
    if not is_moderator_member(member, await client.staff_role_ids(interaction.guild_id)):
        raise app_commands.CheckFailure(NOT_A_MODERATOR)
    return True


def moderators_only() -> Callable[[T], T]:
    return app_commands.check(is_moderator)


def require_same_guild(
    guild: discord.Guild, item: discord.abc.GuildChannel | discord.Role | discord.Member, what: str
) -> None:
    """Refuse a channel, role or member of another server (every command is scoped to one)."""
    if item.guild.id != guild.id:
        raise UserFacingError(f"That {what} belongs to another server.")


def require_guild(interaction: discord.Interaction) -> discord.Guild:
    """The interaction's guild; commands marked guild_only always have one."""
    if interaction.guild is None:
        raise app_commands.NoPrivateMessage("This command works in a server only.")
    return interaction.guild
