"""Inbox cards and lists as Discord embeds (the buttons are the cog's persistent view)."""

from __future__ import annotations

from datetime import datetime

import discord

from bot.domain.inbox import InboxItem, ItemState, describe_wait
from bot.render.names import Names

EXCERPT_LIMIT = 400

_COLOURS = {
    ItemState.OPEN: discord.Colour.from_rgb(237, 66, 69),
    ItemState.CLAIMED: discord.Colour.from_rgb(250, 166, 26),
    ItemState.SNOOZED: discord.Colour.from_rgb(114, 137, 218),
    ItemState.ANSWERED: discord.Colour.from_rgb(59, 165, 93),
    ItemState.RESOLVED: discord.Colour.from_rgb(46, 204, 113),
    ItemState.DISMISSED: discord.Colour.from_rgb(128, 132, 142),
    ItemState.WITHDRAWN: discord.Colour.from_rgb(128, 132, 142),
}

_TITLES = {
    ItemState.OPEN: "Unanswered question",
    ItemState.CLAIMED: "Unanswered question (claimed)",
    ItemState.SNOOZED: "Unanswered question (snoozed)",
    ItemState.ANSWERED: "Answered question",
    ItemState.RESOLVED: "Resolved question",
    ItemState.DISMISSED: "Dismissed",
    ItemState.WITHDRAWN: "Withdrawn (the question was deleted)",
}


def jump_url(item: InboxItem) -> str:
    q = item.question
    where = q.thread_id if q.thread_id is not None else q.channel_id
    return f"https://discord.com/channels/{q.guild_id}/{where}/{q.message_id}"


def timestamp(at: datetime, style: str = "R") -> str:
    return f"<t:{int(at.timestamp())}:{style}>"


def excerpt(text: str | None) -> str:
    if not text:
        return "*The question's text is not stored (content storage is off or it expired).*"
    text = " ".join(text.split())
    if len(text) > EXCERPT_LIMIT:
        text = text[: EXCERPT_LIMIT - 1].rstrip() + "…"
    return "> " + discord.utils.escape_mentions(text)


def status_line(item: InboxItem, now: datetime, names: Names) -> str:
    q = item.question
    state = item.state
    if state is ItemState.CLAIMED and item.claimed_by is not None:
        return f"Claimed by {names.member(item.claimed_by)}."
    if state is ItemState.SNOOZED and item.snoozed_until is not None:
        return f"Snoozed until {timestamp(item.snoozed_until, 't')}."
    if state is ItemState.ANSWERED and q.first_response_at is not None:
        who = names.member(q.first_responder_id) if q.first_responder_id else "someone"
        return f"Answered by {who} after {describe_wait(q.first_response_at - q.asked_at)}."
    if state is ItemState.RESOLVED:
        who = f" by {names.member(item.closed_by)}" if item.closed_by else ""
        how = f" ({q.resolution.replace('_', ' ')})" if q.resolution else ""
        return f"Resolved{who}{how}."
    if state is ItemState.DISMISSED:
        who = f" by {names.member(item.closed_by)}" if item.closed_by else ""
        return f"Dismissed{who}."
    if state is ItemState.WITHDRAWN:
        return "The asker deleted the question before anyone answered."
    return f"Waiting for {describe_wait(now - q.asked_at)}; nobody has answered yet."


def card_embed(item: InboxItem, now: datetime, names: Names) -> discord.Embed:
    q = item.question
    where = q.thread_id if q.thread_id is not None else q.channel_id
    embed = discord.Embed(
        title=_TITLES[item.state],
        url=jump_url(item),
        description=excerpt(q.excerpt),
        colour=_COLOURS[item.state],
        timestamp=q.asked_at,
    )
    embed.add_field(name="Asked by", value=names.member(q.asker_id))
    embed.add_field(name="In", value=names.channel(where))
    embed.add_field(name="Asked", value=timestamp(q.asked_at))
    embed.add_field(name="Status", value=status_line(item, now, names), inline=False)
    escalated = " · escalated to staff" if item.escalated_at else ""
    embed.set_footer(text=f"Inbox item {item.item_id} · target {q.target_minutes} min{escalated}")
    return embed


def list_line(item: InboxItem, now: datetime) -> str:
    """A line of ``/inbox list`` (message text, where mentions always show as names)."""
    q = item.question
    where = q.thread_id if q.thread_id is not None else q.channel_id
    return (
        f"`#{item.item_id}` [{item.state.value}]({jump_url(item)}) <#{where}> "
        f"by <@{q.asker_id}>, asked {timestamp(q.asked_at)} "
        f"(waiting {describe_wait(now - q.asked_at)})"
    )
