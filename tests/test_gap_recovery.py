"""No gaps: a bot that was down (or crashed mid-batch) ends with the same database as one that
never stopped. Both runs play the same script in identical simulated worlds."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pprint import pformat
from typing import Any

import pytest
import simcord
from sqlalchemy import text

from bot.app import EngageBot, open_resources
from storage.writer_process import ProcessWriter
from tests.dbstate import State, differences, dump
from tests.simworld import World, build_world, settings_for

# Columns that record when the bot *observed* something: after downtime the bot can only know
# that a deletion or a reaction happened while it was away, not the exact moment.
OBSERVED_AT = {
    "reactions": {"created_at"},
    "messages": {"deleted_at"},
    "guilds": {"first_seen_at"},
    "deleted_messages": {"deleted_at"},
}


async def play(
    db_url: str,
    *,
    reconnect: bool = False,
    crash: bool = False,
    last_batch: bool = False,
    writer: str = "process",
) -> State:
    """The script: activity, (downtime), more activity, (back up), a little more.

    ``last_batch`` adds the activity that a crash loses from the writer's hands; ``crash`` kills
    the writer with it queued.
    """
    settings = settings_for(db_url, writer=writer)
    async with open_resources(settings) as resources:
        bot = EngageBot(resources)
        env = simcord.Env(bot, shard_count=1)
        world = build_world(env, members=3)
        await env.start()
        with env.time_context():
            await caught_up(bot)
            carol = world.members[2]
            first = await world.alice.send(world.general, "is the server down for anyone?")
            await env.advance_time(30)
            await world.bob.send(world.general, "works for me", reply_to=first)
            await world.bob.react(first, "👍")
            await env.advance_time(60)
            if crash:
                await resources.writer.flush()  # idle, so the new delay applies to what follows
                resources.writer.max_delay = 3600  # hold the next events in the writer's hands
            if crash or last_batch:
                await world.alice.send(world.general, "lost with the batch")
                await carol.react(first, "🔥")
            if crash and isinstance(resources.writer, ProcessWriter):
                # The bot dies with a batch in the writer's hands: everything queued is lost.
                resources.writer.kill()
            elif crash:
                # The writer's task dies with a batch in hand.
                task = getattr(resources.writer, "_task", None)
                assert task is not None
                task.cancel()
            if crash or reconnect:
                shard = bot.get_shard(0)
                assert shard is not None
                await shard.disconnect()
            await offline_activity(world)
            if reconnect:
                # A new gateway session, not a resume: the bot catches up on its own.
                await shard.reconnect()
            await env.advance_time(5)
            await caught_up(bot)
            if reconnect:
                assert messages_read(bot, world) == 3  # the three posted while it was away
            if crash:
                # The process restarts: new resources on the same database, a new client.
                async with open_resources(settings) as restarted:
                    restarted_bot = EngageBot(restarted)
                    await env.restart_bot(restarted_bot)
                    await caught_up(restarted_bot)
                    # The lost message and the three posted while it was down.
                    assert messages_read(restarted_bot, world) == 4
                    await env.advance_time(1)
                    await carol.send(world.general, "back to normal")
                    await restarted.writer.flush()
                    state = await dump(restarted.engine, without=OBSERVED_AT)
                await env.shutdown()
                return state
            await env.advance_time(1)
            await carol.send(world.general, "back to normal")
            await resources.writer.flush()
            state = await dump(resources.engine, without=OBSERVED_AT)
        await env.shutdown()
        return state


async def caught_up(bot: EngageBot) -> None:
    cog = bot.get_cog("Ingest")
    assert cog is not None
    await cog.caught_up()  # type: ignore[attr-defined]


def messages_read(bot: EngageBot, world: World) -> int:
    """Messages the last catch-up of the world's guild read from history."""
    cog: Any = bot.get_cog("Ingest")
    return int(cog._recovering[world.guild.id].result().messages)


async def offline_activity(world: World) -> None:
    env = world.env
    await env.advance_time(120)
    second = await world.alice.send(world.general, "anyone know how to reset my key?")
    await env.advance_time(10)
    await world.bob.send(world.general, "use /reset", reply_to=second)
    history = [m for m in world.general.history() if m.content == "is the server down for anyone?"]
    await world.members[2].react(history[0], "👍")
    await world.members[2].react(second, "✅")
    newcomer = world.guild.add_member(env.create_user("newcomer"))
    await env.settle()
    await newcomer.send(world.general, "hi all, new here")
    await world.alice.edit(second, "anyone know how to reset my API key?")
    await world.bob.unreact(history[0], "👍")


@pytest.mark.usefixtures("fail_on_discord_errors")
async def test_downtime_leaves_no_gap(new_db_url: Callable[[], str]) -> None:
    never_stopped = await play(new_db_url())
    recovered = await play(new_db_url(), reconnect=True)
    diff = differences(recovered, never_stopped)
    assert not diff, pformat(diff)
    assert recovered == never_stopped
    assert len(never_stopped["messages"]) == 6


@pytest.mark.parametrize("writer", ["process", "inline"])
async def test_a_crash_mid_batch_leaves_no_gap(
    new_db_url: Callable[[], str], caplog: pytest.LogCaptureFixture, writer: str
) -> None:
    reference_url = new_db_url()
    with caplog.at_level(logging.ERROR):
        crashed = await play(new_db_url(), crash=True, writer=writer)
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "2 queued events were not written" in errors[0]
    # The reference: the same script with the lost activity stored while the bot was up.
    reference = await play(reference_url, last_batch=True)
    diff = differences(crashed, reference)
    assert not diff, pformat(diff)
    assert crashed == reference


@pytest.mark.usefixtures("fail_on_discord_errors")
async def test_a_thread_archived_while_the_bot_was_down_is_read(db_url: str) -> None:
    async with open_resources(settings_for(db_url)) as resources:
        bot = EngageBot(resources)
        env = simcord.Env(bot, shard_count=1)
        world = build_world(env, members=2)
        await env.start()
        with env.time_context():
            await caught_up(bot)
            starter = await world.alice.send(world.general, "release notes thread")
            thread = env.backend.create_thread(
                world.general.id, "release", world.alice.id, message_id=starter.id
            )
            await env.settle()
            handle = simcord.ChannelHandle(env, world.guild, thread)
            await world.bob.send(handle, "looks good")
            shard = bot.get_shard(0)
            assert shard is not None
            await shard.disconnect()
            await env.advance_time(60)
            missed = await world.bob.send(handle, "one more thing while you were away")
            env.backend.edit_channel(thread.id, {}, thread_metadata={"archived": True})
            await env.settle()
            await shard.reconnect()
            await env.advance_time(5)
            await caught_up(bot)
            await resources.writer.flush()
            async with resources.engine.connect() as conn:
                stored = (
                    await conn.execute(text(f"SELECT id FROM messages WHERE id = {missed.id}"))
                ).all()
                archived = (
                    await conn.execute(
                        text(f"SELECT archived FROM channels WHERE id = {thread.id}")
                    )
                ).scalar()
            assert stored == [(missed.id,)]
            assert archived
        await env.shutdown()
