"""Privacy and watching, as members and moderators use them through slash commands."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import discord
import pytest
import simcord

from bot.app import Resources
from bot.checks import NOT_A_MODERATOR
from bot.domain.records import ContentExpiry
from tests.simworld import World, allow_command, build_world, rows, value

pytestmark = pytest.mark.usefixtures("fail_on_discord_errors")


@pytest.fixture
async def world(simcord_env: simcord.Env) -> World:
    built = build_world(simcord_env)
    await simcord_env.settle()
    return built


async def test_a_member_opts_out_and_is_erased_and_no_longer_logged(
    world: World, resources: Resources
) -> None:
    question = await world.alice.send(world.general, "how do I change my nickname?")
    await world.bob.send(world.general, f"{world.alice.mention} like this", reply_to=question)
    await world.alice.react(question, "👍")
    result = await world.alice.slash(world.general, "privacy opt-out")
    assert result.ephemeral
    assert result.response is not None and "erased" in result.response.content
    assert (
        await value(resources, f"SELECT count(*) FROM messages WHERE author_id = {world.alice.id}")
        == 0
    )
    assert await value(resources, "SELECT count(*) FROM mentions") == 0
    assert await value(resources, "SELECT count(*) FROM reactions") == 0
    await world.alice.send(world.general, "still here?")
    await world.alice.react(question, "🎉")
    assert (
        await value(resources, f"SELECT count(*) FROM messages WHERE author_id = {world.alice.id}")
        == 0
    )
    assert await value(resources, "SELECT count(*) FROM messages") == 1
    back = await world.alice.slash(world.general, "privacy opt-in")
    assert back.response is not None and "counts again" in back.response.content
    await world.alice.send(world.general, "I'm back")
    assert (
        await value(resources, f"SELECT count(*) FROM messages WHERE author_id = {world.alice.id}")
        == 1
    )


async def test_a_moderator_erases_a_member_and_others_may_not(
    world: World, resources: Resources, simcord_bot: Any
) -> None:
    # The staff role may use /engage; so, by a mistaken grant, may alice: the bot still refuses.
    await allow_command(world, simcord_bot, "engage", world.staff_role, world.alice)
    await world.bob.send(world.general, "some message")
    refused = await world.alice.slash(world.general, "engage forget", member=world.bob)
    assert refused.ephemeral
    assert refused.response is not None and refused.response.content == NOT_A_MODERATOR
    assert await value(resources, "SELECT count(*) FROM messages") == 1
    world.env.errors.clear()  # the refusal is an expected check failure
    done = await world.mod.slash(world.general, "engage forget", member=world.bob)
    assert done.response is not None and "Erased" in done.response.content
    assert await value(resources, "SELECT count(*) FROM messages") == 0
    assert await rows(resources, "SELECT user_id FROM members WHERE opted_out_at IS NOT NULL") == [
        (world.bob.id,)
    ]


async def test_content_is_kept_for_questions_only_by_default(
    world: World, resources: Resources
) -> None:
    chat = await world.alice.send(world.general, "good morning everyone")
    question = await world.bob.send(world.general, "does anyone know where the docs are?")
    code = await world.bob.send(world.general, "my config has `x = a ? b : c` in it")
    stored = dict(await rows(resources, "SELECT id, content FROM messages"))
    assert stored[chat.id] is None
    assert stored[question.id] == "does anyone know where the docs are?"
    assert stored[code.id] is None


async def test_help_channel_messages_keep_their_text(world: World, resources: Resources) -> None:
    from sqlalchemy import update

    from storage import tables as t

    async with resources.engine.begin() as conn:
        await conn.execute(
            update(t.Channel).where(t.Channel.id == world.help.id).values(is_help=True)
        )
    await resources.services.ingest.reload(world.guild.id)
    sent = await world.alice.send(world.help, "my bot crashes on start")
    assert await value(resources, f"SELECT content FROM messages WHERE id = {sent.id}") == (
        "my bot crashes on start"
    )
    # An edit of a help-channel question keeps its text too, question mark or not.
    await world.env.advance_time(1)
    await world.alice.edit(sent, "my bot crashes on start, log attached")
    assert await value(resources, f"SELECT content FROM messages WHERE id = {sent.id}") == (
        "my bot crashes on start, log attached"
    )


async def test_old_text_is_erased_after_the_retention_window(
    world: World, resources: Resources
) -> None:
    old = await world.alice.send(world.general, "is this thing on?")
    await world.env.advance_time(40 * 24 * 3600)
    recent = await world.bob.send(world.general, "what time is the event?")
    cutoff = await resources.services.ingest.expire_content()
    assert cutoff == discord.utils.utcnow() - timedelta(days=30)
    stored = dict(await rows(resources, "SELECT id, content FROM messages"))
    assert stored[old.id] is None
    assert stored[recent.id] == "what time is the event?"
    assert ContentExpiry(cutoff).before == cutoff


async def test_ignored_channels_do_not_count_and_watching_narrows(
    world: World, resources: Resources, simcord_bot: Any
) -> None:
    await allow_command(world, simcord_bot, "engage", world.staff_role)
    ignore = await world.mod.slash(world.general, "engage watch", channel=world.help, mode="ignore")
    assert ignore.response is not None and "never counted" in ignore.response.content
    await world.alice.send(world.help, "off-topic")
    await world.alice.send(world.general, "on-topic")
    counted = await rows(resources, "SELECT channel_id, counted FROM messages ORDER BY id")
    assert [(c, bool(k)) for c, k in counted] == [(world.help.id, False), (world.general.id, True)]
    await world.mod.slash(world.general, "engage watch", channel=world.forum, mode="watch")
    await world.alice.send(world.general, "now general does not count")
    last = await rows(resources, "SELECT counted FROM messages ORDER BY id DESC LIMIT 1")
    assert not last[0][0]
    assert await value(resources, "SELECT messages FROM guild_days") == 1


async def test_a_thread_started_by_a_member_who_opted_out_does_not_name_them(
    world: World, resources: Resources
) -> None:
    def start_thread(name: str, owner: Any) -> int:
        thread = world.env.backend.create_thread(world.general.id, name, owner.id)
        return int(thread.id)

    before = start_thread("before", world.alice)
    await world.env.settle()
    assert await value(resources, f"SELECT owner_id FROM channels WHERE id = {before}") == (
        world.alice.id
    )
    await world.alice.slash(world.general, "privacy opt-out")
    after = start_thread("after", world.alice)
    await world.env.settle()
    owners = await rows(resources, f"SELECT owner_id FROM channels WHERE id IN ({before}, {after})")
    assert owners == [(None,), (None,)]
