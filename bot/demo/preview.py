"""The interactive demo: simcord's preview page on 127.0.0.1, and a few commands in the terminal.

The page shows one channel at a time, as the moderator or as a member (its "Viewing as" picker);
whatever the user does there (buttons, slash commands, messages) goes to the real bot. In the
terminal the user picks another channel or moves the virtual clock on, which runs the bot's
scheduled jobs as the runner does.
"""

from __future__ import annotations

import asyncio
import re
import sys
from typing import Any
from urllib.parse import urlsplit

import discord

from bot.demo.plan import FAST_TICK
from bot.demo.runner import Demo

PREVIEW_CHANNELS = ("mod-inbox", "announcements", "general", "help")
PREVIEW_HELP = (
    "In the page: read the channel, switch “Viewing as” between a moderator and a member, press "
    "the inbox buttons, type / in the composer to run slash commands.\n"
    "Here: type a channel name ({channels}) to show it, “wait 2h” to move the virtual clock on "
    "(the inbox sweeps and the summaries run), “quit” (or Ctrl+C) to stop."
)
_WAIT = re.compile(r"^wait\s+(\d+)\s*([mh])$")


def opening_message(demo: Demo, channel: str) -> discord.Message | None:
    """Where the page opens: the newest weekly summary, with the inbox card before it if there
    is one (the page puts the message it opens on near the top); else the newest message."""
    history: list[discord.Message] = demo.channels[channel].history()
    summaries = [
        i
        for i, m in enumerate(history)
        if m.embeds and (m.embeds[0].footer.text or "").startswith("engagebot weekly summary")
    ]
    if not summaries:
        return history[-1] if history else None
    before = history[: summaries[-1]]
    cards = [m for m in before if m.embeds and "question" in (m.embeds[0].title or "")]
    return cards[-1] if cards else history[summaries[-1]]


def viewers(demo: Demo, channel: str) -> tuple[Any, ...]:
    """Who the page may show the channel as: the moderator, and a member or the owner."""
    owner = demo.members[next(p for p in demo.plan.people if p.owner).key]
    return (demo.moderator, owner if channel == "mod-inbox" else demo.member)


async def interact(demo: Demo, port: int, console: Any) -> None:
    """Serves simcord's preview page on 127.0.0.1 until the user quits (or presses Ctrl+C)."""
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str | None] = asyncio.Queue()
    reading = _read_lines(loop, lines)
    channel = "mod-inbox"
    try:
        while channel:
            preview = demo.env.preview(
                demo.channels[channel],
                viewers=viewers(demo, channel),
                layout="channel",
                port=port,
            )
            async with preview:
                port = urlsplit(preview.url).port or port  # the same address for every channel
                opening = opening_message(demo, channel)
                if opening is not None:
                    await preview.show(opening)
                console.print(
                    f"Preview of #{channel}: {preview.url}", highlight=False, soft_wrap=True
                )
                console.print(
                    PREVIEW_HELP.format(channels=", ".join(PREVIEW_CHANNELS)), highlight=False
                )
                channel = await _serve(demo, preview, lines, channel, console)
    finally:
        if reading:
            loop.remove_reader(sys.stdin.fileno())


async def _serve(
    demo: Demo, preview: Any, lines: asyncio.Queue[str | None], channel: str, console: Any
) -> str:
    """Answers typed commands until the user picks another channel ("" to stop)."""
    while True:
        typed = asyncio.ensure_future(lines.get())
        closed = asyncio.ensure_future(preview.wait_closed())
        await asyncio.wait({typed, closed}, return_when=asyncio.FIRST_COMPLETED)
        for waiting in (typed, closed):
            waiting.cancel()
        if closed.done() and not closed.cancelled():
            return ""
        line = typed.result() if typed.done() and not typed.cancelled() else None
        if line is None:
            continue  # no terminal: the page and Ctrl+C are the controls
        command = line.strip().lower().lstrip("#")
        if command in ("quit", "exit", "q"):
            return ""
        if command in PREVIEW_CHANNELS:
            return command
        if (found := _WAIT.match(command)) is not None:
            minutes = int(found[1]) * (60 if found[2] == "h" else 1)
            for _ in range(-(-minutes // 5)):
                await demo.tick(demo.env.now() + FAST_TICK)
            await preview.refresh()
            console.print(f"It is now {demo.env.now():%a %d %b %H:%M} (virtual time).")
        elif command:
            console.print(
                PREVIEW_HELP.format(channels=", ".join(PREVIEW_CHANNELS)), highlight=False
            )


def _read_lines(loop: asyncio.AbstractEventLoop, lines: asyncio.Queue[str | None]) -> bool:
    """Typed lines arrive on the queue; False when there is no terminal to read."""
    if not sys.stdin.isatty():
        return False

    def ready() -> None:
        line = sys.stdin.readline()
        if not line:
            loop.remove_reader(sys.stdin.fileno())
        lines.put_nowait(line or None)

    loop.add_reader(sys.stdin.fileno(), ready)
    return True
