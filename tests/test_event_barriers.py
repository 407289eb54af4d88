"""The bot's event barriers run before discord.py parses any gateway event but new messages and
reactions, and one that fails stops neither the others nor the event."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import simcord

from tests.simworld import build_world


async def test_barriers_run_before_each_event_but_new_messages_and_reactions(
    simcord_env: simcord.Env, simcord_bot: Any, caplog: pytest.LogCaptureFixture
) -> None:
    world = build_world(simcord_env)
    await simcord_env.settle()
    backend, guild = simcord_env.backend, simcord_bot.get_guild(world.guild.id)
    seen: list[list[int]] = []

    def roles_then() -> None:
        seen.append([role.id for role in guild.get_member(world.alice.id).roles[1:]])

    def failing() -> None:
        raise RuntimeError("a barrier that fails")

    simcord_bot.add_event_barrier(failing)
    simcord_bot.add_event_barrier(roles_then)
    sent = await world.alice.send(world.general, "hello")
    await world.bob.react(sent, "👍")
    await world.carol.react(sent, "🎉")
    await world.bob.unreact(sent, "👍")
    backend.clear_reaction(world.general.id, sent.id, "🎉")
    await world.bob.react(sent, "👍")
    backend.clear_reactions(world.general.id, sent.id)
    await simcord_env.settle()
    assert seen == []  # new messages and the four reaction events pass
    with caplog.at_level(logging.ERROR):
        backend.add_member_role(world.guild.id, world.alice.id, world.staff_role.id)
        await simcord_env.settle()
    assert seen == [[]]  # called before the member update was parsed
    assert [role.id for role in guild.get_member(world.alice.id).roles[1:]] == [world.staff_role.id]
    assert "an event barrier failed" in caplog.text
    simcord_bot.remove_event_barrier(roles_then)
    simcord_bot.remove_event_barrier(failing)
    backend.remove_member_role(world.guild.id, world.alice.id, world.staff_role.id)
    await simcord_env.settle()
    assert seen == [[]]
