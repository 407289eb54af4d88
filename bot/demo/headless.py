"""What the bot posted in the demo: ``transcript.json``, the charts as PNG files, a terminal view.

The transcript lists every message the bot posted (channel, content, embeds as Discord sends them,
components, attachment file names), in the order it posted them, plus the moderator's slash
commands and button presses with the bot's answers. It holds nothing that depends on the real
clock or on the machine, so the same seed always writes the same transcript.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from bot.demo.runner import Demo, Names

TRANSCRIPT = "transcript.json"
CHARTS = "charts"
EPHEMERAL = 1 << 6
_LINK = re.compile(r"\[([^\]]+)\]\(<?https?://[^)]+>?\)")


def markdown(text: str, style: str = "") -> Text:
    """The little Markdown the bot writes (bold, links, quotes) as terminal text."""
    text = _LINK.sub(r"\1", text).replace("\n> ", "\n│ ").removeprefix("> ")
    shown = Text(style=style)
    for i, part in enumerate(text.split("**")):
        shown.append(part, style="bold" if i % 2 else "")
    return shown


def bot_messages(demo: Demo) -> list[dict[str, Any]]:
    """Every message the bot posted, oldest first, as it stands now (cards are edited in place)."""
    backend = demo.env.backend
    bot_id = backend.bot_user.id
    found = [
        message
        for messages in backend.messages.values()
        for message in messages.values()
        if message.author_id == bot_id
    ]
    rows = []
    for message in sorted(found, key=lambda m: m.id):
        channel = backend.channels[message.channel_id]
        rows.append(
            {
                "id": message.id,
                "channel": channel.name,
                "posted_at": message.timestamp,
                "edited_at": message.edited_timestamp,
                "ephemeral": bool(message.flags & EPHEMERAL),
                "reply_to": int(message.reference["message_id"]) if message.reference else None,
                "content": message.content,
                "embeds": message.embeds,
                "components": message.components,
                "attachments": [a["filename"] for a in message.attachments],
            }
        )
    return rows


def transcript(demo: Demo) -> dict[str, Any]:
    plan = demo.plan
    return {
        "seed": plan.seed,
        "guild": plan.guild_name,
        "bot_joined_at": plan.bot_joins_at.isoformat(),
        "live_from": plan.live_from.isoformat(),
        "ended_at": demo.env.now().isoformat(),
        "channels": {name: int(handle.id) for name, handle in demo.channels.items()},
        "interactions": [
            {"at": i.at.isoformat(), "user": i.user, "action": i.action, "answer": i.answer}
            for i in demo.interactions
        ],
        "messages": bot_messages(demo),
    }


def write(demo: Demo, out: Path) -> tuple[Path, list[Path]]:
    """Writes ``transcript.json`` and every chart the bot attached; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    charts = out / CHARTS
    charts.mkdir(exist_ok=True)
    for old in charts.glob("*.png"):
        old.unlink()
    backend = demo.env.backend
    written = []
    for messages in backend.messages.values():
        for message in messages.values():
            if message.author_id != backend.bot_user.id:
                continue
            for attachment in message.attachments:
                data = backend.cdn.get(attachment["url"])
                if data is None or not attachment["filename"].endswith(".png"):
                    continue
                day = message.timestamp[:10]
                channel = backend.channels[message.channel_id].name
                path = charts / f"{day}-{channel}-{attachment['filename']}"
                path.write_bytes(data)
                written.append(path)
    path = out / TRANSCRIPT
    text = json.dumps(transcript(demo), indent=2, ensure_ascii=False, sort_keys=True)
    path.write_text(text + "\n", encoding="utf-8")
    return path, sorted(written)


def embed_panel(message: dict[str, Any], names: Names) -> Panel:
    """A Discord embed drawn as a panel: its colour, title, text, fields, image and footer."""
    parts: list[Any] = []
    for embed in message["embeds"]:
        colour = f"#{embed.get('color', 0x5865F2):06x}"
        if embed.get("title"):
            parts.append(Text(names(embed["title"]), style=f"bold {colour}"))
        if embed.get("description"):
            parts.append(markdown(names(embed["description"])))
        fields = Table.grid(padding=(0, 2))
        fields.add_column(style="bold", no_wrap=True)
        fields.add_column()
        for item in embed.get("fields", []):
            fields.add_row(names(item["name"]), markdown(names(item["value"])))
        if embed.get("fields"):
            parts.append(fields)
        image = (embed.get("image") or {}).get("url", "")
        if image:
            parts.append(Text(f"[chart: {image.rsplit('/', 1)[-1]}]", style="italic cyan"))
        if embed.get("footer"):
            parts.append(Text(names(embed["footer"]["text"]), style="dim"))
    buttons = [
        child.get("label") or ""
        for row in message["components"]
        for child in row.get("components", [])
        if child.get("label")
    ]
    if buttons:
        parts.append(Text(" ".join(f"[{label}]" for label in buttons), style="bold blue"))
    if message["content"]:
        parts.insert(0, Text(names(message["content"])))
    when = message["posted_at"][:16].replace("T", " ")
    return Panel(Group(*parts), title=f"#{message['channel']} · {when}", title_align="left")


def show(demo: Demo, console: Console, transcript_path: Path, charts: list[Path]) -> None:
    """The terminal view: the setup, the live stretch's posts, the last summaries, the totals."""
    names = Names(demo)
    messages = [m for m in bot_messages(demo) if not m["ephemeral"]]
    live_from = demo.plan.live_from.isoformat()
    console.rule("[bold]The moderator's commands and buttons")
    actions = Table(show_header=True, header_style="bold")
    for column in ("virtual time", "who", "did", "engagebot answered"):
        actions.add_column(column)
    for i in demo.interactions:
        actions.add_row(f"{i.at:%a %d %b %H:%M}", i.user, i.action, names(i.answer))
    console.print(actions)
    console.rule(f"[bold]Live on {demo.plan.live_from:%A %d %B}: what engagebot posted")
    for message in messages:
        if message["posted_at"] >= live_from or (message["edited_at"] or "") >= live_from:
            if message["embeds"]:
                console.print(embed_panel(message, names))
            else:
                console.print(Text(f"#{message['channel']}: {names(message['content'])}"))
    console.rule("[bold]Over the whole demo")
    totals = Table(show_header=True, header_style="bold")
    for column in ("channel", "posts", "of which"):
        totals.add_column(column)
    for channel in sorted({m["channel"] for m in messages}):
        mine = [m for m in messages if m["channel"] == channel]
        kinds: dict[str, int] = {}
        for m in mine:
            title = m["embeds"][0].get("title", "") if m["embeds"] else "reminder"
            kind = "weekly summary" if title.startswith(("This week", "Moderators'")) else title
            kinds[kind] = kinds.get(kind, 0) + 1
        detail = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items(), key=lambda kv: -kv[1]))
        totals.add_row(f"#{channel}", str(len(mine)), detail)
    console.print(totals)
    folder = transcript_path.parent / CHARTS
    console.print(f"Transcript: {transcript_path}  ·  {len(charts)} charts in {folder}")
