"""The invite URL and exactly the permissions the bot needs, each with its reason."""

from __future__ import annotations

import base64
import binascii

import discord

PERMISSIONS: tuple[tuple[str, str], ...] = (
    ("view_channel", "see the channels it watches and the inbox channel"),
    ("read_message_history", "read history after downtime and for /engage backfill"),
    ("send_messages", "post inbox cards and the weekly summaries"),
    ("send_messages_in_threads", "post summaries or cards when you point them at a thread"),
    ("embed_links", "show cards and summaries as embeds"),
    ("attach_files", "attach the summary charts"),
)
SCOPES = ("bot", "applications.commands")


def required_permissions() -> discord.Permissions:
    return discord.Permissions(**{name: True for name, _ in PERMISSIONS})


def application_id_from_token(token: str) -> int | None:
    """A bot token's first part is its user id in base64, which is also the application id."""
    head = token.split(".", 1)[0]
    try:
        decoded = base64.b64decode(head + "=" * (-len(head) % 4), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return int(decoded) if decoded.isdigit() else None


def invite_url(application_id: int) -> str:
    return discord.utils.oauth_url(
        application_id, permissions=required_permissions(), scopes=SCOPES
    )


def permissions_help() -> str:
    return "\n".join(f"  {name}: {reason}" for name, reason in PERMISSIONS)
