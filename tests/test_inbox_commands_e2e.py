"""The inbox's commands and its awkward cases, through the real client on simcord: /inbox list
and stats, per-channel targets, forum tags, a deleted card, no inbox channel, no permission."""

from __future__ import annotations

import discord
import pytest
import simcord

from bot.app import EngageBot, Resources
from tests.simworld import (
    World,
    add_forum_tag,
    allow_command,
    build_world,
    open_forum_post,
    rows,
    value,
)
from tests.test_inbox_e2e import MINUTE, cards, inbox, said, sweep

pytestmark = pytest.mark.usefixtures("fail_on_discord_errors")


@pytest.fixture
async def world(simcord_env: simcord.Env, simcord_bot: EngageBot) -> World:
    built = build_world(simcord_env, members=4)
    built.guild.create_text_channel("inbox")
    await simcord_env.settle()
    await simcord_bot.get_cog("Ingest").caught_up()  # type: ignore[union-attr]
    await allow_command(built, simcord_bot, "engage", built.staff_role)
    await allow_command(built, simcord_bot, "inbox", built.staff_role)
    return built


async def use_inbox_channel(world: World) -> None:
    done = await world.mod.slash(world.general, "engage inbox-channel", channel=inbox(world))
    assert "now go to" in said(done)


async def test_inbox_list_pages_and_filters_and_stats(world: World, simcord_bot: EngageBot) -> None:
    await use_inbox_channel(world)
    asked = []
    for n in range(12):
        asker = world.members[n % 4]
        where = world.general if n % 3 else world.help
        asked.append(await asker.send(where, f"how do I solve puzzle number {n}?"))
        await world.env.advance_time(MINUTE)
    await world.env.advance_time(60 * MINUTE)
    await sweep(simcord_bot, world)
    assert len(cards(world)) == 12

    listed = await world.mod.slash(world.general, "inbox list")
    assert listed.ephemeral
    first_page = said(listed)
    assert "12 items, page 1/2" in first_page
    assert first_page.index(str(asked[0].id)) < first_page.index(str(asked[9].id))
    assert str(asked[10].id) not in first_page
    page = listed.response
    assert page is not None
    second = await world.mod.click(page, label="Next")
    assert "page 2/2" in said(second) and str(asked[10].id) in said(second)

    in_help = await world.mod.slash(world.general, "inbox list", channel=world.help)
    help_text = said(in_help)
    assert "4 items" in help_text
    assert all(str(asked[n].id) in help_text for n in (0, 3, 6, 9))

    await world.alice.send(world.general, "like this", reply_to=asked[1])
    await sweep(simcord_bot, world)
    answered = await world.mod.slash(world.general, "inbox list", state="answered")
    assert "1 item," in said(answered) and str(asked[1].id) in said(answered)

    stats = await world.mod.slash(world.general, "inbox stats")
    text = said(stats)
    assert stats.ephemeral
    assert "waiting: 11" in text and "answered: 1" in text
    assert "questions: 12, answered: 1" in text


async def test_a_channel_target_and_a_forum_tag(
    world: World, resources: Resources, simcord_bot: EngageBot
) -> None:
    await use_inbox_channel(world)
    set_target = await world.mod.slash(
        world.general, "engage target", minutes=15, channel=world.help
    )
    assert "15 minutes" in said(set_target)
    await world.alice.send(world.help, "anyone know where the logs are?")
    await world.env.advance_time(16 * MINUTE)
    await sweep(simcord_bot, world)
    assert len(cards(world)) == 1

    solved = add_forum_tag(world, "Solved")
    post = await open_forum_post(world, "Install fails", world.bob, "The installer stops at 90%")
    assert await value(resources, f"SELECT source FROM questions WHERE message_id = {post.id}") == (
        "forum_post"
    )
    world.env.backend.edit_channel(post.id, {"applied_tags": [str(solved)]})
    await world.env.settle()
    assert await rows(
        resources,
        f"SELECT state, resolution, resolved_by FROM questions WHERE message_id = {post.id}",
    ) == [("resolved", "forum_tag", world.bob.id)]


async def test_a_deleted_card_is_posted_again(world: World, simcord_bot: EngageBot) -> None:
    await use_inbox_channel(world)
    await world.alice.send(world.general, "is there a way to skip the tutorial?")
    await world.env.advance_time(61 * MINUTE)
    await sweep(simcord_bot, world)
    [card] = cards(world)
    await world.mod.delete(card)
    # At twice the target the card changes (escalated): it is posted again, not lost.
    await world.env.advance_time(60 * MINUTE)
    await sweep(simcord_bot, world)
    [again] = cards(world)
    assert again.id != card.id
    assert "escalated" in (again.embeds[0].footer.text or "")


async def test_without_an_inbox_channel_items_wait_and_are_listed(
    world: World, resources: Resources, simcord_bot: EngageBot, caplog: pytest.LogCaptureFixture
) -> None:
    await world.alice.send(world.general, "how can I get the beta role?")
    await world.env.advance_time(61 * MINUTE)
    await sweep(simcord_bot, world)
    await sweep(simcord_bot, world)
    assert cards(world) == []
    assert await value(resources, "SELECT state FROM inbox_items") == "open"
    warnings = [r for r in caplog.records if "no inbox channel" in r.getMessage()]
    assert len(warnings) == 1, "said once, not on every sweep"
    assert "1 item," in said(await world.mod.slash(world.general, "inbox list"))
    await use_inbox_channel(world)
    await sweep(simcord_bot, world)
    assert len(cards(world)) == 1


async def test_an_inbox_channel_the_bot_cannot_post_in_is_refused(world: World) -> None:
    locked = world.guild.create_text_channel(
        "locked",
        overwrites={world.guild.me: discord.PermissionOverwrite(send_messages=False)},
    )
    await world.env.settle()
    refused = await world.mod.slash(world.general, "engage inbox-channel", channel=locked)
    assert refused.ephemeral and "cannot post cards" in said(refused)
    world.env.errors.clear()  # the refusal is an expected, user-facing error


async def test_inferred_linking_links_plain_answers_where_it_is_turned_on(
    world: World, resources: Resources
) -> None:
    done = await world.mod.slash(
        world.general, "engage inferred-linking", channel=world.general, enabled=True
    )
    assert "Inferred answer linking in" in said(done) and ": on" in said(done)
    question = await world.alice.send(world.general, "how do I install the mod on linux?")
    await world.env.advance_time(40)
    await world.bob.send(world.general, "install it from the mod manager, it works on linux")
    found = await rows(resources, f"SELECT rule FROM responses WHERE question_id = {question.id}")
    assert found == [("inferred",)]
    # Elsewhere (help has it off) a plain message answers nothing.
    other = await world.carol.send(world.help, "how do I install the mod on windows?")
    await world.env.advance_time(40)
    await world.bob.send(world.help, "install it from the mod manager, it works on windows")
    assert await rows(resources, f"SELECT rule FROM responses WHERE question_id = {other.id}") == []
