"""/stats and /engage export through the real client on simcord: what moderators see, charts
attached as PNG, private by default, clear refusals, and two servers that never see each other's
figures. simcord's clock starts on Thursday 2026-01-01 (UTC); older history is written through
the bot's own EventWriter."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from typing import Any

import discord
import pytest
import simcord
from PIL import Image

from bot.app import EngageBot, Resources
from bot.checks import NOT_A_MODERATOR
from bot.domain.records import Event, MemberEvent, MemberEventKind, MemberRecord, MessageRecord
from bot.domain.snowflakes import snowflake_at
from tests.simworld import World, allow_command, build_world
from tests.test_inbox_e2e import said

pytestmark = pytest.mark.usefixtures("fail_on_discord_errors")

MINUTE = 60
JOINERS = (9001, 9002)
"""Members of the December join cohort, written as history (not on simcord's server)."""


async def ready(env: simcord.Env, bot: EngageBot, world: World) -> World:
    await env.settle()
    await bot.get_cog("Ingest").caught_up()  # type: ignore[union-attr]
    await allow_command(world, bot, "stats", world.staff_role)
    await allow_command(world, bot, "engage", world.staff_role)
    return world


@pytest.fixture
async def world(simcord_env: simcord.Env, simcord_bot: EngageBot) -> World:
    return await ready(simcord_env, simcord_bot, build_world(simcord_env, members=4))


def at(day: int, month: int = 12, hour: int = 20) -> datetime:
    return datetime(2025, month, day, hour, tzinfo=UTC)


async def write_history(world: World, resources: Resources) -> None:
    """Carol posted every Monday evening from late November to mid-December, then went quiet;
    dave last posted in October; two people joined on 15 December and one came back a week
    later."""
    guild, general = world.guild.id, world.general.id
    posts = [(world.carol.id, at(d)) for d in (1, 8, 15) for _ in range(3)]
    posts += [(world.carol.id, at(24, 11)), (world.members[3].id, at(20, 10))]
    posts += [(JOINERS[0], at(16)), (JOINERS[0], at(23)), (JOINERS[1], at(16))]
    events: list[Event] = []
    for user in JOINERS:
        events.append(MemberRecord(guild, user, False, at(15, hour=9)))
        events.append(MemberEvent(guild, user, MemberEventKind.JOIN, at(15, hour=9)))
    for n, (author, when) in enumerate(posts):
        events.append(MessageRecord(snowflake_at(when) + n, guild, general, author, when))
    await resources.writer.put_many(events)
    await resources.writer.flush()


async def chatter(world: World) -> discord.Message:
    """Today's conversation: six counted messages, one question answered after five minutes."""
    await world.env.advance_time(10 * 3600)
    hello = await world.alice.send(world.general, "good morning everyone")
    await world.bob.send(world.general, "morning!", reply_to=hello)
    question = await world.alice.send(world.help, "how do I reset my password?")
    await world.env.advance_time(5 * MINUTE)
    await world.bob.send(world.help, "use the settings page", reply_to=question)
    await world.members[3].send(world.general, "I'm back after a long break")
    await world.mod.send(world.general, "welcome back")
    return question


MESSAGE, DEFERRED = 4, 5
"""Interaction callback types: an answer at once, or "thinking" and a follow-up."""


def callbacks(world: World) -> list[int]:
    """The interaction callback types the bot sent, in order (from simcord's transcript)."""
    return [int(t) for t in re.findall(r"/callback \{'type': (\d+)", world.env.transcript())]


def embed(result: Any) -> discord.Embed:
    assert result.response is not None, result
    [found] = result.response.embeds
    return found


def text(found: discord.Embed) -> str:
    parts = [found.title or "", found.description or ""]
    parts += [f"{f.name}\n{f.value}" for f in found.fields]
    return "\n".join(parts)


def png(world: World, result: Any, name: str) -> Image.Image:
    [attachment] = result.response.attachments
    assert attachment.filename == name
    assert embed(result).image.url == f"attachment://{name}"
    data = world.env.backend.cdn.get(attachment.url)
    assert data is not None and data.startswith(b"\x89PNG")
    image = Image.open(io.BytesIO(data))
    assert len(image.convert("RGB").getcolors(1 << 20) or ()) > 50, "a real chart, not a blank"
    return image


async def test_overview_is_private_unless_public_and_carries_the_activity_chart(
    world: World, resources: Resources
) -> None:
    await chatter(world)
    private = await world.mod.slash(world.general, "stats overview", period="last 7 days")
    assert private.ephemeral and private.response is not None and private.response.ephemeral
    assert callbacks(world)[-1] == DEFERRED, "a chart may take a second: deferred first"
    shown = text(embed(private))
    assert "last 7 days (26 Dec 2025 – 1 Jan 2026, UTC)" in shown
    assert "Messages: **6**" in shown and "Active members: **4**" in shown
    assert "Questions: **1**" in shown
    assert "Answered within 24 h: no data" in shown
    assert f"1. <@{world.alice.id}> · 2" in shown and f"<#{world.general.id}> · 4" in shown
    assert png(world, private, "activity.png").size == (1200, 600)
    assert private.response.content == ""

    public = await world.mod.slash(
        world.general, "stats overview", period="last 7 days", public=True
    )
    assert not public.ephemeral and public.response is not None
    assert not public.response.ephemeral
    assert "Messages: **6**" in text(embed(public))
    png(world, public, "activity.png")


async def test_every_command_answers_a_moderator(world: World, resources: Resources) -> None:
    await write_history(world, resources)
    await chatter(world)
    alice, bob, carol, dave = world.members

    channel = await world.mod.slash(
        world.general, "stats channel", channel=world.help, period="last 7 days"
    )
    shown = text(embed(channel))
    assert channel.ephemeral and callbacks(world)[-1] == MESSAGE
    assert f"<#{world.help.id}> in last 7 days" in shown
    assert "Messages: **2**" in shown and "Share of the server's messages: **33%**" in shown
    assert "Questions: **1** (1 answered, 0 resolved)" in shown

    member = await world.mod.slash(world.general, "stats member", member=alice)
    shown = text(embed(member))
    assert f"<@{alice.id}> in last week (22 Dec – 28 Dec 2025, UTC)" in shown
    assert "Messages: **0**" in shown and "Asked: **0**" in shown
    member = await world.mod.slash(world.general, "stats member", member=carol, period="28d")
    assert "Messages: **6** ▲ +50%" in text(embed(member))

    responses = await world.mod.slash(world.general, "stats responses", period="last 7 days")
    shown = text(embed(responses))
    assert "Questions: **1** (1 answered, 0 resolved)" in shown
    assert f"1. <@{bob.id}> · 1 first response · median 5 min" in shown
    assert f"<#{world.help.id}> · 1 questions" in shown
    assert png(world, responses, "response-times.png").size == (1200, 600)

    helpers = await world.mod.slash(world.general, "stats helpers", period="this week")
    [community, staff] = embed(helpers).fields
    assert community.name == "Community" and f"<@{bob.id}>" in (community.value or "")
    assert staff.value == "Nobody yet."

    retention = await world.mod.slash(world.general, "stats retention", weeks=4)
    shown = text(embed(retention))
    assert "last 4 full weeks" in shown and "**2** in 4 weeks" in shown
    assert "Week-1 retention\n**50%**" in shown
    assert png(world, retention, "retention.png").size == (1200, 800)

    heatmap = await world.mod.slash(world.general, "stats heatmap")
    shown = text(embed(heatmap))
    assert "Monday 20:00–21:00 · 9 messages" in shown and "UTC" in shown
    assert png(world, heatmap, "heatmap.png").size == (1200, 600)

    at_risk = await world.mod.slash(world.general, "stats at-risk")
    quiet, back = embed(at_risk).fields
    assert quiet.name == "Went quiet (1)" and f"<@{carol.id}> · active 4 of 4 weeks" in (
        quiet.value or ""
    )
    assert back.name == "Came back (1)" and f"<@{dave.id}> · back after" in (back.value or "")
    message = at_risk.response.message
    assert message.mentions == [] and message.content == "", "mentions in embeds ping nobody"
    for result in (channel, member, responses, helpers, retention, heatmap, at_risk):
        assert result.ephemeral


async def test_bad_arguments_and_outsiders_get_clear_private_answers(
    world: World, simcord_env: simcord.Env, simcord_bot: EngageBot
) -> None:
    empty = await world.mod.slash(world.general, "stats overview", public=True)
    assert empty.ephemeral, "a refusal is private even when the answer would have been public"
    assert said(empty) == "No counted messages in last week (22 Dec – 28 Dec 2025, UTC) yet."
    world.env.errors.clear()

    await chatter(world)
    cases = {
        "yesterday": '"yesterday" is not a period: use "this week", "last week"',
        "2025-12-05..2025-12-01": "The period ends (2025-12-01) before it starts (2025-12-05); "
        "write the earlier date first.",
        "last 12 days": "12 days is not a reporting period",
        "2025-02-30..2025-03-01": '"2025-02-30" is not a real date',
    }
    for typed, answer in cases.items():
        refused = await world.mod.slash(world.general, "stats helpers", period=typed)
        assert refused.ephemeral and said(refused).startswith(answer), said(refused)
        world.env.errors.clear()

    other = build_world(simcord_env)
    await simcord_env.settle()
    stranger = await world.mod.slash(
        world.general, "stats member", member=other.alice.user, period="last 7 days"
    )
    assert stranger.ephemeral
    assert said(stranger) == (
        f"<@{other.alice.id}> is not a member of this server and posted nothing counted here "
        "in that period or the one before."
    )
    world.env.errors.clear()

    assert "stats overview" not in world.alice.available_commands(world.general)
    await allow_command(world, simcord_bot, "stats", world.staff_role, world.alice)
    refused = await world.alice.slash(world.general, "stats overview", period="last 7 days")
    assert refused.ephemeral and said(refused) == NOT_A_MODERATOR
    world.env.errors.clear()


async def test_period_autocomplete_offers_the_named_periods(world: World) -> None:
    def names(choices: list[dict[str, Any]]) -> list[str]:
        return [c["name"] for c in choices]

    typed = await world.mod.autocomplete(world.general, "stats overview", "period", "")
    assert names(typed) == [
        "this week", "last week", "last 7 days", "last 28 days", "last 90 days"
    ]  # fmt: skip
    typed = await world.mod.autocomplete(world.general, "stats channel", "period", "days")
    assert names(typed) == ["last 7 days", "last 28 days", "last 90 days"]
    own = "2025-12-01..2025-12-07"
    assert names(await world.mod.autocomplete(world.general, "stats helpers", "period", own)) == [
        own
    ]


async def test_two_servers_never_see_each_others_figures(
    world: World, simcord_env: simcord.Env, simcord_bot: EngageBot, resources: Resources
) -> None:
    other = await ready(simcord_env, simcord_bot, build_world(simcord_env, members=3))
    await write_history(world, resources)
    await chatter(world)
    for n in range(9):
        await other.members[n % 3].send(other.general, f"busy over here, message {n}")
    asked = await other.bob.send(other.help, "where do I find the rules?")
    await other.alice.send(other.help, "pinned in #rules", reply_to=asked)

    ours = {m.id for m in world.members} | {world.mod.id, world.general.id, world.help.id}
    theirs = {m.id for m in other.members} | {other.mod.id, other.general.id, other.help.id}
    commands = [
        ("stats overview", {"period": "last 7 days"}),
        ("stats responses", {"period": "last 7 days"}),
        ("stats helpers", {"period": "last 7 days"}),
        ("stats at-risk", {}),
        ("stats heatmap", {}),
        ("stats retention", {}),
    ]
    for name, options in commands:
        mine = text(embed(await world.mod.slash(world.general, name, **options)))
        seen = text(embed(await other.mod.slash(other.general, name, **options)))
        assert not any(str(i) in mine for i in theirs), name
        assert not any(str(i) in seen for i in ours), name
    overview = await other.mod.slash(other.general, "stats overview", period="last 7 days")
    assert "Messages: **11**" in text(embed(overview))
    at_risk = await other.mod.slash(other.general, "stats at-risk")
    assert [f.name for f in embed(at_risk).fields] == ["Went quiet (0)", "Came back (0)"]
    retention = await other.mod.slash(other.general, "stats retention")
    assert "Nobody joined in the last 8 full weeks" in text(embed(retention))

    exported = await other.mod.slash(other.general, "engage export", what="members")
    table = list(csv.DictReader(io.StringIO(attachment_text(other, exported))))
    listed = {int(row["user_id"]) for row in table}
    assert listed == set(simcord_env.backend.get_guild(other.guild.id).members)
    assert not listed & (ours | set(JOINERS))


def attachment_text(world: World, result: Any) -> str:
    [attachment] = result.response.attachments
    data = world.env.backend.cdn.get(attachment.url)
    assert data is not None
    return data.decode("utf-8")


async def test_engage_export_attaches_the_csv_or_explains_when_too_big(
    world: World, resources: Resources, simcord_bot: EngageBot
) -> None:
    await write_history(world, resources)
    question = await chatter(world)
    result = await world.mod.slash(world.general, "engage export", what="questions")
    assert result.ephemeral and said(result) == "questions: 1 rows."
    [row] = csv.DictReader(io.StringIO(attachment_text(world, result)))
    assert row["question_id"] == str(question.id) and row["asker_id"] == str(world.alice.id)
    assert row["first_response_seconds"] == "300" and "content" not in row

    with_text = await world.mod.slash(
        world.general, "engage export", what="questions", with_content=True
    )
    [row] = csv.DictReader(io.StringIO(attachment_text(world, with_text)))
    assert row["content"] == "how do I reset my password?", "questions' text is kept by default"

    daily = await world.mod.slash(
        world.general, "engage export", what="daily", period="2025-12-15..2026-01-01"
    )
    days = {r["day"]: r for r in csv.DictReader(io.StringIO(attachment_text(world, daily)))}
    assert len(days) == 18 and days["2025-12-15"]["joins"] == "2"
    assert days["2025-12-15"]["messages"] == "3" and days["2026-01-01"]["messages"] == "6"
    assert days["2026-01-01"]["first_response_time_median_seconds"] == "300"

    messages = await world.mod.slash(world.general, "engage export", what="messages")
    table = list(csv.DictReader(io.StringIO(attachment_text(world, messages))))
    assert sum(r["counted"] == "true" for r in table) == 6 + 14

    cog: Any = simcord_bot.get_cog("Engage")
    cog.export_limit = 500
    too_big = await world.mod.slash(world.general, "engage export", what="messages")
    assert too_big.ephemeral and too_big.response is not None
    assert not too_big.response.attachments
    assert "larger than" in said(too_big)
    assert f"engagebot export --guild {world.guild.id} --what messages" in said(too_big)
    world.env.errors.clear()
    cog.export_limit = None

    bad = await world.mod.slash(world.general, "engage export", what="daily", period="soon")
    assert bad.ephemeral and said(bad).startswith('"soon" is not a period')
    world.env.errors.clear()
