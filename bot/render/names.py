"""Members and channels by name in embeds: the weekly summaries and the inbox cards."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import discord


def _unknown(_: int) -> str | None:
    return None


@dataclass(frozen=True, slots=True)
class Names:
    """How an embed names members and channels: a member in bold, a channel as a link to it.

    A mention inside an embed shows as a raw ``<@id>`` to a reader whose client has not loaded
    that member, so the summaries and inbox cards write names. A member or channel the bot no
    longer knows (left, deleted) falls back to its mention.
    """

    guild_name: str
    guild_id: int
    member_name: Callable[[int], str | None]
    channel_name: Callable[[int], str | None]

    @classmethod
    def of(cls, guild: discord.Guild | None, guild_id: int = 0) -> Names:
        """The guild's current names (mentions only when the bot is not in the guild)."""
        if guild is None:
            return cls("", guild_id, _unknown, _unknown)

        def member(user_id: int) -> str | None:
            found = guild.get_member(user_id)
            return found.display_name if found is not None else None

        def channel(channel_id: int) -> str | None:
            found = guild.get_channel_or_thread(channel_id)
            return found.name if found is not None else None

        return cls(guild.name, guild.id, member, channel)

    def member(self, user_id: int) -> str:
        name = self.member_name(user_id)
        return f"**{discord.utils.escape_markdown(name)}**" if name else f"<@{user_id}>"

    def channel(self, channel_id: int) -> str:
        name = self.channel_name(channel_id)
        if not name:
            return f"<#{channel_id}>"
        text = discord.utils.escape_markdown(name.replace("[", "(").replace("]", ")"))
        return f"[#{text}](https://discord.com/channels/{self.guild_id}/{channel_id})"

    def members(self, user_ids: list[int], limit: int) -> str:
        return ", ".join(self.member(u) for u in user_ids[:limit]) or "—"
