"""The real engagebot client on a simulated Discord (simcord), with a real database."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import discord
import simcord
from sqlalchemy import text

from bot.app import EngageBot, Resources, open_resources
from bot.settings import Settings


def settings_for(db_url: str, *, writer: str = "process", **sections: dict[str, Any]) -> Settings:
    sections.setdefault("discord", {"shard_count": 1})
    # Tests run the inbox sweep themselves at virtual times; APScheduler follows the real clock,
    # and a short interval would only wake it for nothing while simcord advances virtual days.
    sections.setdefault("inbox", {"sweep_seconds": 3600})
    return Settings(database={"url": db_url, "writer": writer}, **sections)  # type: ignore[arg-type]


@dataclass
class World:
    """A community: a guild with general, help and forum channels, staff and members."""

    env: simcord.Env
    guild: Any
    general: Any
    help: Any
    forum: Any
    staff_role: Any
    mod: Any
    members: list[Any] = field(default_factory=list)

    @property
    def alice(self) -> Any:
        return self.members[0]

    @property
    def bob(self) -> Any:
        return self.members[1]

    @property
    def carol(self) -> Any:
        return self.members[2]


def build_world(env: simcord.Env, members: int = 3) -> World:
    guild = env.create_guild("Engage Test")
    general = guild.create_text_channel("general")
    help_channel = guild.create_text_channel("help")
    forum = guild.create_forum_channel("questions")
    staff = guild.create_role(
        "Staff", permissions=discord.Permissions(manage_messages=True, mention_everyone=True)
    )
    mod = guild.add_member(env.create_user("mod"), roles=[staff])
    people = [guild.add_member(env.create_user(f"member{i}")) for i in range(members)]
    return World(env, guild, general, help_channel, forum, staff, mod, people)


@contextlib.asynccontextmanager
async def engagebot(settings: Settings) -> AsyncIterator[tuple[Resources, EngageBot]]:
    async with open_resources(settings) as resources:
        yield resources, EngageBot(resources)


def add_forum_tag(world: World, name: str) -> int:
    """A tag moderators can apply to the world's forum posts; returns its id."""
    backend = world.env.backend
    tag_id: int = backend.snowflake()
    tag = {
        "id": str(tag_id),
        "name": name,
        "moderated": False,
        "emoji_id": None,
        "emoji_name": None,
    }
    backend.edit_channel(world.forum.id, {"available_tags": [tag]})
    return tag_id


async def open_forum_post(
    world: World, title: str, author: Any, text: str, tags: tuple[int, ...] = ()
) -> Any:
    """A member opens a forum post: a thread whose opening message shares its id."""
    backend = world.env.backend
    post = backend.create_thread(
        world.forum.id, title, author.id, applied_tags=list(tags), broadcast=False
    )
    starter = backend.prepare_message(post.id, author.id, text)
    starter.id = post.id
    backend.commit_message(starter, broadcast=False)
    backend.announce_thread_create(post)
    backend.announce_message_create(starter)
    await world.env.settle()
    return post


async def allow_command(world: World, bot: Any, name: str, *targets: Any) -> None:
    """What a server admin does in Integrations: let these roles or members use a command."""
    commands = await bot.tree.fetch_commands()
    command = next(c for c in commands if c.name == name)
    world.guild.set_command_permissions(command, dict.fromkeys(targets, True))


async def rows(resources: Resources, sql: str) -> list[tuple[Any, ...]]:
    await resources.writer.flush()
    async with resources.engine.connect() as conn:
        return [tuple(r) for r in (await conn.execute(text(sql))).all()]


async def value(resources: Resources, sql: str) -> Any:
    found = await rows(resources, sql)
    return found[0][0] if found else None
