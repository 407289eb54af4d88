"""The moderators' inbox: cards for unanswered questions, their buttons, /inbox, and the
"Flag as question" and "Mark as answer" message commands."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot import scheduling
from bot.checks import NOT_A_MODERATOR, is_moderator_member, moderators_only, require_guild
from bot.convert import is_staff_member, message_record, own_id
from bot.domain.inbox import Action, InboxItem, ItemState, Refusal, describe_wait
from bot.errors import send_ephemeral
from bot.render.inbox import card_embed, jump_url, list_line
from bot.render.names import Names
from bot.services.inbox import Escalation

if TYPE_CHECKING:
    from bot.app import EngageBot

log = logging.getLogger(__name__)

PER_PAGE = 10

_BUTTONS: tuple[tuple[Action, str, discord.ButtonStyle, int], ...] = (
    (Action.CLAIM, "Claim", discord.ButtonStyle.primary, 0),
    (Action.RESOLVE, "Resolved", discord.ButtonStyle.success, 0),
    (Action.DISMISS, "Dismiss", discord.ButtonStyle.secondary, 0),
    (Action.SNOOZE_1H, "Snooze 1 h", discord.ButtonStyle.secondary, 1),
    (Action.SNOOZE_4H, "Snooze 4 h", discord.ButtonStyle.secondary, 1),
    (Action.SNOOZE_24H, "Snooze 24 h", discord.ButtonStyle.secondary, 1),
)
_LABELS = {action: (label, style, row) for action, label, style, row in _BUTTONS}


class CardButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"engagebot:inbox:(?P<action>[a-z0-9]+):(?P<item>\d+):(?P<version>\d+)",
):
    """A card button; its custom id carries the item and the card's version (works after a
    restart, and a press on an out-of-date card is recognised as such)."""

    def __init__(self, action: Action, item_id: int, version: int) -> None:
        label, style, row = _LABELS[action]
        super().__init__(
            discord.ui.Button(
                label=label,
                style=style,
                row=row,
                custom_id=f"engagebot:inbox:{action.value}:{item_id}:{version}",
            )
        )
        self.action = action
        self.item_id = item_id
        self.version = version

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> CardButton:
        return cls(Action(match["action"]), int(match["item"]), int(match["version"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        cog = interaction.client.get_cog("Inbox")
        if isinstance(cog, Inbox):
            await cog.pressed(interaction, self.action, self.item_id, self.version)


def card_view(item: InboxItem) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    if item.state.active:
        for action, *_ in _BUTTONS:
            view.add_item(CardButton(action, item.item_id, item.version))
    view.add_item(discord.ui.Button(label="Jump to question", url=jump_url(item), row=2))
    return view


class ListPages(discord.ui.View):
    """Previous / next for /inbox list (ephemeral, for the moderator who asked)."""

    def __init__(self, cog: Inbox, guild_id: int, states: list[ItemState], channel_id: int | None):
        super().__init__(timeout=600)
        self.cog, self.guild_id, self.states, self.channel_id = cog, guild_id, states, channel_id
        self.page = 0

    async def render(self) -> str:
        items, total = await self.cog.service.list_items(
            self.guild_id, self.states, self.channel_id, self.page, PER_PAGE
        )
        pages = max(1, -(-total // PER_PAGE))
        self.previous.disabled = self.page == 0
        self.next.disabled = self.page + 1 >= pages
        if not items:
            return "No inbox items match."
        now = discord.utils.utcnow()
        lines = [list_line(item, now) for item in items]
        count = f"{total} item" if total == 1 else f"{total} items"
        return f"**Inbox** ({count}, page {self.page + 1}/{pages})\n" + "\n".join(lines)

    @discord.ui.button(label="Previous", style=discord.ButtonStyle.secondary)
    async def previous(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        self.page = max(0, self.page - 1)
        await interaction.response.edit_message(content=await self.render(), view=self)

    @discord.ui.button(label="Next", style=discord.ButtonStyle.secondary)
    async def next(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        self.page += 1
        await interaction.response.edit_message(content=await self.render(), view=self)


_STATES = {
    "waiting": [ItemState.OPEN, ItemState.CLAIMED, ItemState.SNOOZED],
    "open": [ItemState.OPEN],
    "claimed": [ItemState.CLAIMED],
    "snoozed": [ItemState.SNOOZED],
    "answered": [ItemState.ANSWERED],
    "closed": [ItemState.RESOLVED, ItemState.DISMISSED, ItemState.WITHDRAWN],
}


@app_commands.default_permissions(manage_guild=True)
@app_commands.guild_only()
class Inbox(commands.GroupCog, group_name="inbox"):
    """Moderators: the questions nobody has answered yet."""

    def __init__(self, bot: EngageBot) -> None:
        self.bot = bot
        self.service = bot.services.inbox
        self.ingest = bot.services.ingest
        self._warned: set[tuple[int, str]] = set()
        super().__init__()
        self.flag_menu = app_commands.ContextMenu(name="Flag as question", callback=self.flag)
        self.flag_menu.default_permissions = discord.Permissions(manage_messages=True)
        self.flag_menu.guild_only = True
        self.mark_menu = app_commands.ContextMenu(name="Mark as answer", callback=self.mark)
        self.mark_menu.guild_only = True

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(CardButton)
        self.bot.tree.add_command(self.flag_menu)
        self.bot.tree.add_command(self.mark_menu)
        scheduling.register(self.bot.app_id, "inbox_sweep", self.sweep_all)
        scheduling.schedule_interval(
            self.bot.scheduler,
            self.bot.app_id,
            "inbox_sweep",
            self.bot.resources.settings.inbox.sweep_seconds,
        )

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(CardButton)
        self.bot.tree.remove_command(self.flag_menu.name, type=self.flag_menu.type)
        self.bot.tree.remove_command(self.mark_menu.name, type=self.mark_menu.type)
        scheduling.unschedule(self.bot.scheduler, self.bot.app_id, "inbox_sweep")

    # -- the sweep ---------------------------------------------------------------------------

    async def after_catch_up(self, guild: discord.Guild) -> None:
        """After catching up with what happened while away, overdue items are handled at once."""
        await self.sweep([guild.id])

    async def sweep_all(self) -> None:
        await self.sweep([g.id for g in self.bot.guilds])

    async def sweep(self, guild_ids: list[int]) -> None:
        result = await self.service.sweep(guild_ids)
        for item in result.cards:
            try:
                await self.post_card(item)
            except Exception:
                log.exception("inbox card for item %s failed", item.item_id)
        for escalation in result.escalations:
            try:
                await self.escalate(escalation)
            except Exception:
                log.exception("escalation of item %s failed", escalation.item.item_id)

    def _warn_once(self, guild_id: int, what: str, message: str, *args: object) -> None:
        if (guild_id, what) not in self._warned:
            self._warned.add((guild_id, what))
            log.warning(message, *args)

    async def _inbox_channel(self, guild_id: int) -> discord.TextChannel | discord.Thread | None:
        channel_id = await self.service.inbox_channel_id(guild_id)
        if channel_id is None:
            self._warn_once(
                guild_id,
                "unset",
                "guild %s has no inbox channel; set one with /engage inbox-channel",
                guild_id,
            )
            return None
        channel = self.bot.get_channel(channel_id)
        if not isinstance(channel, discord.TextChannel | discord.Thread):
            self._warn_once(
                guild_id, "missing", "inbox channel %s of guild %s is gone", channel_id, guild_id
            )
            return None
        return channel

    async def post_card(self, item: InboxItem) -> None:
        """Post the item's card, or edit it to the item's current state."""
        guild_id = item.question.guild_id
        now = discord.utils.utcnow()
        names = Names.of(self.bot.get_guild(guild_id), guild_id)
        embed, view = card_embed(item, now, names), card_view(item)
        if item.card_message_id and item.card_channel_id:
            posted_in = self.bot.get_channel(item.card_channel_id)
            if isinstance(posted_in, discord.TextChannel | discord.Thread):
                try:
                    await posted_in.get_partial_message(item.card_message_id).edit(
                        embed=embed, view=view
                    )
                except discord.NotFound:
                    log.info("card of inbox item %s was deleted; posting it again", item.item_id)
                else:
                    await self.service.card_posted(item, posted_in.id, item.card_message_id)
                    return
        if not item.state.active and not item.card_message_id:
            # Answered or closed before a card was ever posted: nothing to show anyone.
            await self.service.card_posted(item, 0, 0)
            return
        channel = await self._inbox_channel(guild_id)
        if channel is None:
            return
        try:
            message = await channel.send(embed=embed, view=view)
        except discord.Forbidden:
            self._warn_once(
                guild_id,
                "forbidden",
                "no permission to post in the inbox channel of guild %s",
                guild_id,
            )
            return
        await self.service.card_posted(item, message.channel.id, message.id)

    async def escalate(self, escalation: Escalation) -> None:
        item = escalation.item
        channel = await self._inbox_channel(item.question.guild_id)
        if channel is None:
            return
        waited = describe_wait(discord.utils.utcnow() - item.question.asked_at)
        pings = " ".join(f"<@&{role}>" for role in escalation.role_ids)
        text = f"{pings} Still unanswered after {waited}: {jump_url(item)}".strip()
        mentions = discord.AllowedMentions(roles=[discord.Object(r) for r in escalation.role_ids])
        if item.card_message_id and item.card_channel_id == channel.id:
            reference = discord.MessageReference(
                message_id=item.card_message_id, channel_id=channel.id, fail_if_not_exists=False
            )
            await channel.send(text, reference=reference, allowed_mentions=mentions)
        else:
            await channel.send(text, allowed_mentions=mentions)

    # -- buttons -----------------------------------------------------------------------------

    async def pressed(
        self, interaction: discord.Interaction, action: Action, item_id: int, version: int
    ) -> None:
        member = interaction.user
        guild_id = interaction.guild_id
        if guild_id is None or not isinstance(member, discord.Member):
            await send_ephemeral(interaction, "Inbox cards work in a server only.")
            return
        if not is_moderator_member(member, await self.bot.staff_role_ids(guild_id)):
            await send_ephemeral(interaction, "Only staff can work the inbox.")
            return
        outcome = await self.service.act(guild_id, item_id, version, action, member.id)
        if isinstance(outcome, Refusal):
            await send_ephemeral(interaction, outcome.reason)
            current = await self.service.item(item_id)
            if current is not None:
                await self.post_card(current)
            return
        await interaction.response.edit_message(
            embed=card_embed(
                outcome, discord.utils.utcnow(), Names.of(interaction.guild, guild_id)
            ),
            view=card_view(outcome),
        )
        if interaction.message is not None:
            await self.service.card_posted(
                outcome, interaction.message.channel.id, interaction.message.id
            )

    # -- message commands --------------------------------------------------------------------

    async def flag(self, interaction: discord.Interaction, message: discord.Message) -> None:
        """Flag as question (moderators): the message enters the inbox like a question."""
        guild = require_guild(interaction)
        member = interaction.user
        staff_roles = await self.bot.staff_role_ids(guild.id)
        if not isinstance(member, discord.Member) or not is_moderator_member(member, staff_roles):
            await send_ephemeral(interaction, NOT_A_MODERATOR)
            return
        record = message_record(message, own_id(self.bot), staff_role_ids=frozenset(staff_roles))
        if record is None:
            await send_ephemeral(interaction, "Only messages in a server can be questions.")
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        outcome = await self.service.flag(record)
        if isinstance(outcome, str):
            await interaction.followup.send(outcome, ephemeral=True)
            return
        due = outcome.due_at
        when = "now" if due <= discord.utils.utcnow() else discord.utils.format_dt(due, "R")
        await interaction.followup.send(
            f"Flagged as a question. If nobody answers it, it enters the inbox {when}.",
            ephemeral=True,
        )

    async def mark(self, interaction: discord.Interaction, message: discord.Message) -> None:
        """Mark as answer (the asker or staff): the question this answers is resolved."""
        guild = require_guild(interaction)
        member = interaction.user
        if not isinstance(member, discord.Member):
            await send_ephemeral(interaction, "This works in a server only.")
            return
        staff_roles = frozenset(await self.bot.staff_role_ids(guild.id))
        staff = is_staff_member(member, message.channel, staff_roles)
        await interaction.response.defer(ephemeral=True, thinking=True)
        resolved = await self.service.mark_answer(guild.id, message.id, member.id, staff)
        if not resolved:
            await interaction.followup.send(
                "I found no question of yours (or, for staff, none at all) that this message "
                "answers. Reply to the question, then mark the reply.",
                ephemeral=True,
            )
            return
        links = ", ".join(
            f"https://discord.com/channels/{guild.id}/{message.channel.id}/{qid}"
            for qid in resolved
        )
        await interaction.followup.send(f"Marked as the answer; resolved: {links}", ephemeral=True)

    # -- /inbox ------------------------------------------------------------------------------

    @app_commands.command(name="list")
    @app_commands.describe(
        state="Which items (default: those still waiting).",
        channel="Only questions asked in this channel.",
    )
    @moderators_only()
    async def list_items(
        self,
        interaction: discord.Interaction,
        state: Literal["waiting", "open", "claimed", "snoozed", "answered", "closed"] = "waiting",
        channel: discord.TextChannel | discord.ForumChannel | discord.Thread | None = None,
    ) -> None:
        """The inbox, oldest question first."""
        guild = require_guild(interaction)
        pages = ListPages(self, guild.id, _STATES[state], channel.id if channel else None)
        await interaction.response.send_message(await pages.render(), view=pages, ephemeral=True)

    @app_commands.command(name="stats")
    @moderators_only()
    async def stats(self, interaction: discord.Interaction) -> None:
        """Open, answered and resolved items, and this week's first-response times."""
        guild = require_guild(interaction)
        stats = await self.service.stats(guild.id)
        counts = stats.counts
        waiting = sum(n for state, n in counts.items() if state.active)

        def wait(value: timedelta | None) -> str:
            return describe_wait(value) if value is not None else "n/a"

        text = (
            f"**Inbox** — waiting: {waiting} (open {counts.get(ItemState.OPEN, 0)}, "
            f"claimed {counts.get(ItemState.CLAIMED, 0)}, "
            f"snoozed {counts.get(ItemState.SNOOZED, 0)}) · answered: "
            f"{counts.get(ItemState.ANSWERED, 0)} · resolved: {counts.get(ItemState.RESOLVED, 0)}"
            f" · dismissed: {counts.get(ItemState.DISMISSED, 0)}\n"
            f"**This week** — questions: {stats.asked}, answered: {stats.answered}; "
            f"first response median {wait(stats.median_first_response)}, "
            f"p90 {wait(stats.p90_first_response)}"
        )
        await interaction.response.send_message(text, ephemeral=True)


async def setup(bot: EngageBot) -> None:
    await bot.add_cog(Inbox(bot))
