"""The moderators' inbox, driven through the real discord.py client on simcord: questions asked,
nobody answers, cards appear at the target; answers, buttons, escalation, restarts, deletions."""

from __future__ import annotations

from typing import Any

import discord
import pytest
import simcord

from bot.app import EngageBot, Resources, open_resources
from tests.simworld import World, allow_command, build_world, rows, settings_for, value

pytestmark = pytest.mark.usefixtures("fail_on_discord_errors")

MINUTE = 60


@pytest.fixture
async def world(simcord_env: simcord.Env, simcord_bot: EngageBot) -> World:
    built = build_world(simcord_env)
    built.guild.create_text_channel("inbox")
    await simcord_env.settle()
    await simcord_bot.get_cog("Ingest").caught_up()  # type: ignore[union-attr]
    await allow_command(built, simcord_bot, "engage", built.staff_role)
    await allow_command(built, simcord_bot, "inbox", built.staff_role)
    done = await built.mod.slash(built.general, "engage inbox-channel", channel=inbox(built))
    assert done.response is not None and "now go to" in done.response.content
    return built


def inbox(world: World) -> Any:
    return world.guild.channels["inbox"]


def cards(world: World) -> list[discord.Message]:
    return [m for m in inbox(world).history() if m.embeds]


def buttons(message: discord.Message) -> list[str]:
    return [
        child.label or ""
        for row in message.components
        for child in getattr(row, "children", [])
        if isinstance(child, discord.Button) and child.custom_id
    ]


def said(result: Any) -> str:
    """Everything the bot answered to an interaction (its response and follow-ups)."""
    parts = [result.response.content] if result.response is not None else []
    return " ".join([*parts, *(f.content for f in result.followups)])


async def sweep(bot: EngageBot, world: World) -> None:
    cog: Any = bot.get_cog("Inbox")  # the extension's own module, not cogs.inbox imported here
    await cog.sweep([world.guild.id])
    await world.env.settle()


async def test_a_question_nobody_answers_becomes_a_card_and_follows_its_answer(
    world: World, resources: Resources, simcord_bot: EngageBot
) -> None:
    question = await world.alice.send(world.general, "how do I link my account to the website?")
    await world.env.advance_time(59 * MINUTE)
    await sweep(simcord_bot, world)
    assert cards(world) == []
    await world.env.advance_time(1 * MINUTE)
    await sweep(simcord_bot, world)
    [card] = cards(world)
    embed = card.embeds[0]
    assert embed.title == "Unanswered question"
    assert embed.url is not None and embed.url.endswith(f"/{world.general.id}/{question.id}")
    assert "link my account" in (embed.description or "")
    # Who and where by name: a mention in an embed is a raw id to a client that lacks the member.
    fields = {f.name: f.value for f in embed.fields}
    assert fields["Asked by"] == f"**{world.alice.name}**"
    channel_url = f"https://discord.com/channels/{world.guild.id}/{world.general.id}"
    assert fields["In"] == f"[#{world.general.name}]({channel_url})"
    assert buttons(card) == ["Claim", "Resolved", "Dismiss", "Snooze 1 h", "Snooze 4 h",
                             "Snooze 24 h"]  # fmt: skip
    await sweep(simcord_bot, world)
    assert len(cards(world)) == 1, "a second sweep posts nothing new"

    await world.env.advance_time(20 * MINUTE)
    await world.bob.send(world.general, "Settings, then Connections", reply_to=question)
    await sweep(simcord_bot, world)
    [card] = cards(world)
    assert card.embeds[0].title == "Answered question"
    status = card.embeds[0].fields[-1].value or ""
    assert f"**{world.bob.name}**" in status and "1 h 20 min" in status
    assert buttons(card) == []
    assert await value(resources, "SELECT state FROM inbox_items") == "answered"
    assert await rows(resources, "SELECT first_responder_id, state FROM questions") == [
        (world.bob.id, "answered")
    ]


async def test_staff_claim_snooze_and_resolve_and_others_are_refused(
    world: World, resources: Resources, simcord_bot: EngageBot
) -> None:
    await world.alice.send(world.general, "is there a way to export my saves?")
    await world.env.advance_time(61 * MINUTE)
    await sweep(simcord_bot, world)
    [card] = cards(world)

    refused = await world.bob.click(card, label="Claim")
    assert refused.ephemeral and refused.response is not None
    assert "Only staff" in refused.response.content
    assert await value(resources, "SELECT state FROM inbox_items") == "open"

    await world.mod.click(card, label="Claim")
    [card] = cards(world)
    assert card.embeds[0].title == "Unanswered question (claimed)"
    assert f"**{world.mod.name}**" in (card.embeds[0].fields[-1].value or "")

    await world.mod.click(card, label="Snooze 1 h")
    [card] = cards(world)
    assert card.embeds[0].title == "Unanswered question (snoozed)"
    await world.env.advance_time(61 * MINUTE)
    await sweep(simcord_bot, world)
    [card] = cards(world)
    assert card.embeds[0].title == "Unanswered question"

    await world.mod.click(card, label="Resolved")
    [card] = cards(world)
    assert card.embeds[0].title == "Resolved question"
    assert buttons(card) == []
    assert await rows(resources, "SELECT state, claimed_by, closed_by FROM inbox_items") == [
        ("resolved", world.mod.id, world.mod.id)
    ]
    assert await rows(resources, "SELECT state, resolved_by, resolution FROM questions") == [
        ("resolved", world.mod.id, "card")
    ]


async def test_an_item_still_open_at_twice_its_target_pings_staff_once(
    world: World, simcord_bot: EngageBot
) -> None:
    staff = await world.mod.slash(world.general, "engage staff-role", role=world.staff_role)
    assert staff.response is not None and world.staff_role.mention in staff.response.content
    await world.alice.send(world.general, "can someone help me with the installer?")
    await world.env.advance_time(61 * MINUTE)
    await sweep(simcord_bot, world)
    await world.env.advance_time(60 * MINUTE)
    await sweep(simcord_bot, world)
    await sweep(simcord_bot, world)
    pings = [m for m in inbox(world).history() if not m.embeds]
    assert len(pings) == 1
    assert world.staff_role.mention in pings[0].content
    assert "Still unanswered after 2 h" in pings[0].content
    assert pings[0].role_mentions and pings[0].role_mentions[0].id == world.staff_role.id
    [card] = cards(world)
    assert "escalated" in (card.embeds[0].footer.text or "")


async def test_a_deleted_question_is_withdrawn_from_the_inbox(
    world: World, resources: Resources, simcord_bot: EngageBot
) -> None:
    question = await world.alice.send(world.general, "anyone know why my build fails?")
    await world.env.advance_time(61 * MINUTE)
    await sweep(simcord_bot, world)
    await world.alice.delete(question)
    await sweep(simcord_bot, world)
    [card] = cards(world)
    assert card.embeds[0].title.startswith("Withdrawn")
    assert buttons(card) == []
    assert await value(resources, "SELECT state FROM questions") == "withdrawn"


async def test_a_button_on_a_card_that_fell_behind_says_so_and_refreshes_it(
    world: World, resources: Resources, simcord_bot: EngageBot
) -> None:
    question = await world.alice.send(world.general, "how can I change my region?")
    await world.env.advance_time(61 * MINUTE)
    await sweep(simcord_bot, world)
    # An answer arrives; before the next sweep edits the card, a moderator presses Claim.
    await world.bob.send(world.general, "Account, then Region", reply_to=question)
    [card] = cards(world)
    pressed = await world.mod.click(card, label="Claim")
    assert pressed.ephemeral and pressed.response is not None
    assert "out of date" in pressed.response.content
    [card] = cards(world)
    assert card.embeds[0].title == "Answered question"
    assert await rows(resources, "SELECT state, claimed_by FROM inbox_items") == [
        ("answered", None)
    ]


async def test_moderators_flag_a_question_and_askers_mark_the_answer(
    world: World, resources: Resources, simcord_bot: EngageBot
) -> None:
    statement = await world.alice.send(world.general, "my game crashes at the second level")
    assert await value(resources, "SELECT count(*) FROM questions") == 0
    with pytest.raises(simcord.SetupError, match="not visible"):
        # Members do not even see the moderators' message command.
        await world.bob.context_menu(world.general, "Flag as question", statement)
    flagged = await world.mod.context_menu(world.general, "Flag as question", statement)
    assert "Flagged as a question" in said(flagged)
    assert await value(resources, "SELECT source FROM questions") == "flagged"

    await world.env.advance_time(5 * MINUTE)
    answer = await world.bob.send(world.general, "update your drivers", reply_to=statement)
    by_other = await world.carol.context_menu(world.general, "Mark as answer", answer)
    assert "found no question" in said(by_other)
    marked = await world.alice.context_menu(world.general, "Mark as answer", answer)
    assert "Marked as the answer" in said(marked)
    assert await rows(resources, "SELECT state, resolved_by, resolution FROM questions") == [
        ("resolved", world.alice.id, "marked")
    ]


async def test_the_askers_resolve_emoji_on_an_answer_resolves_the_question(
    world: World, resources: Resources
) -> None:
    question = await world.alice.send(world.general, "does anyone know the raid schedule?")
    answer = await world.bob.send(world.general, "Fridays at 8", reply_to=question)
    await world.carol.react(answer, "✅")
    assert await value(resources, "SELECT state FROM questions") == "answered"
    await world.alice.react(answer, "✅")
    assert await rows(resources, "SELECT state, resolved_by, resolution FROM questions") == [
        ("resolved", world.alice.id, "reaction")
    ]


async def test_staff_messages_and_greetings_are_not_questions(
    world: World, resources: Resources
) -> None:
    marked = await world.mod.slash(world.general, "engage help-channel", channel=world.help)
    assert "is now a help channel" in said(marked)
    await world.mod.send(world.general, "how do I pin this? just kidding, pinned")
    await world.alice.send(world.general, "hi everyone!")
    await world.alice.send(world.help, "my login fails with error 42")
    found = await rows(resources, "SELECT asker_id, source FROM questions")
    assert found == [(world.alice.id, "help_channel")]


async def test_cards_keep_working_after_a_restart(db_url: str) -> None:
    settings = settings_for(db_url)
    async with open_resources(settings) as resources:
        bot = EngageBot(resources)
        env = simcord.Env(bot, shard_count=1)
        world = build_world(env, members=3)
        world.guild.create_text_channel("inbox")
        await env.start()
        with env.time_context():
            await bot.get_cog("Ingest").caught_up()  # type: ignore[union-attr]
            await allow_command(world, bot, "engage", world.staff_role)
            await world.mod.slash(world.general, "engage inbox-channel", channel=inbox(world))
            await world.alice.send(world.general, "how do I report a bug?")
            await env.advance_time(61 * MINUTE)
            await sweep(bot, world)
            async with open_resources(settings) as restarted:
                new_bot = EngageBot(restarted)
                await env.restart_bot(new_bot)
                await new_bot.get_cog("Ingest").caught_up()  # type: ignore[union-attr]
                [card] = cards(world)
                await world.mod.click(card, label="Claim")
                [card] = cards(world)
                assert card.embeds[0].title == "Unanswered question (claimed)"
            await env.shutdown()
