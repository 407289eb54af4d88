"""Every community event, driven through the real discord.py client on simcord, into the DB."""

from __future__ import annotations

from typing import Any

import pytest
import simcord

from bot.app import Resources
from tests.simworld import World, build_world, rows, value

pytestmark = pytest.mark.usefixtures("fail_on_discord_errors")


@pytest.fixture
async def world(simcord_env: simcord.Env) -> World:
    built = build_world(simcord_env)
    await simcord_env.settle()
    return built


async def test_a_message_is_stored_once_with_its_facts(world: World, resources: Resources) -> None:
    sent = await world.alice.send(world.general, f"hello {world.bob.mention}")
    stored = await rows(
        resources,
        "SELECT id, guild_id, channel_id, author_id, counted, mention_users, content FROM messages",
    )
    assert stored == [(sent.id, world.guild.id, world.general.id, world.alice.id, True, 1, None)]
    assert await value(resources, "SELECT messages FROM guild_days") == 1
