"""Weekly summaries through the real client on simcord's clock: posted at the scheduled moment for
the week that ended, exactly once (across restarts and processes), retried, and rescheduled."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import discord
import pytest
import simcord

from bot.app import EngageBot, Resources, open_resources
from bot.domain.summaries import SummaryKind
from tests import pgserver
from tests.simworld import World, allow_command, build_world, rows, settings_for
from tests.test_inbox_e2e import said

pytestmark = pytest.mark.usefixtures("fail_on_discord_errors")

HOUR = 3600
START = datetime(2026, 1, 1, tzinfo=UTC)  # simcord's clock starts on this Thursday
SUMMARY_MOMENT = datetime(2026, 1, 12, 9, tzinfo=UTC)  # Monday 09:00 after the week of 5-11 Jan


async def until(env: simcord.Env, moment: datetime) -> None:
    await env.advance_time((moment - discord.utils.utcnow()).total_seconds())


def summaries(channel: Any) -> list[discord.Message]:
    return [m for m in channel.history() if m.embeds and "week" in (m.embeds[0].title or "")]


async def run_due(bot: EngageBot, world: World) -> list[discord.Message]:
    cog: Any = bot.get_cog("Summaries")
    posted: list[discord.Message] = await cog.run_due([world.guild.id])
    await world.env.settle()
    return posted


async def configure(world: World, bot: EngageBot) -> tuple[Any, Any]:
    announcements = world.guild.create_text_channel("announcements")
    inbox = world.guild.create_text_channel("inbox")
    await world.env.settle()
    await allow_command(world, bot, "summary", world.staff_role)
    await allow_command(world, bot, "engage", world.staff_role)
    await world.mod.slash(world.general, "engage inbox-channel", channel=inbox)
    done = await world.mod.slash(
        world.general, "summary channel", kind="public", channel=announcements
    )
    assert "posted in" in said(done)
    return announcements, inbox


async def play_a_week(world: World) -> int:
    """Monday 5 to Sunday 11 January: three members talk; returns the messages sent."""
    await until(world.env, datetime(2026, 1, 5, 8, tzinfo=UTC))
    asker, helper = world.members[:2]
    question = await asker.send(world.general, "How do I join the community night?")
    await helper.send(world.general, "Sign up in the events channel.", reply_to=question)
    sent = 2
    for day in range(7):
        for member in world.members[: 1 + day % 3]:
            await member.send(world.general, f"day {day} from {member.name}")
            sent += 1
        await world.env.advance_time(24 * HOUR)
    return sent


@pytest.fixture
async def world(simcord_env: simcord.Env, simcord_bot: EngageBot) -> World:
    built = build_world(simcord_env)
    await simcord_env.settle()
    await simcord_bot.get_cog("Ingest").caught_up()  # type: ignore[union-attr]
    return built


async def test_both_summaries_appear_at_the_scheduled_moment_once(
    world: World, resources: Resources, simcord_bot: EngageBot
) -> None:
    announcements, inbox = await configure(world, simcord_bot)
    sent = await play_a_week(world)
    await until(world.env, SUMMARY_MOMENT - timedelta(minutes=1))
    assert await run_due(simcord_bot, world) == []
    await until(world.env, SUMMARY_MOMENT)
    posted = await run_due(simcord_bot, world)
    assert len(posted) == 2
    [public] = summaries(announcements)
    [staff] = summaries(inbox)
    embed = public.embeds[0]
    assert embed.title == "This week in Engage Test"
    assert f"**{sent}** messages from **3** members" in (embed.description or "")
    assert "Mon 05 Jan – Sun 11 Jan 2026 (UTC)" in (embed.description or "")
    assert [a.filename for a in public.attachments] == ["activity.png"]
    # Members and channels by name, readable in any client (and as a link to the channel).
    fields = {f.name: f.value or "" for f in embed.fields}
    general = f"https://discord.com/channels/{world.guild.id}/{world.general.id}"
    assert fields["Busiest channels"] == f"[#{world.general.name}]({general}) · {sent}"
    helper = world.members[1]
    assert fields["Top helpers"] == f"Thank you **{helper.name}** for answering questions!"
    assert staff.embeds[0].title == "Moderators' week in Engage Test"
    # The first 7 days of the week before's joiners: this week's are still under way.
    newcomers = next(f.value for f in staff.embeds[0].fields if f.name == "Newcomers")
    assert (newcomers or "").startswith("Joined 29 Dec – 04 Jan:\nActivation: ")
    assert await run_due(simcord_bot, world) == []
    runs = await rows(
        resources, "SELECT kind, state, attempts FROM summary_runs WHERE state = 'posted'"
    )
    assert sorted(runs) == [("public", "posted", 1), ("staff", "posted", 1)]


async def test_a_moderator_previews_and_posts_now_and_bad_schedules_are_refused(
    world: World, simcord_bot: EngageBot
) -> None:
    announcements, _ = await configure(world, simcord_bot)
    await play_a_week(world)
    preview = await world.mod.slash(world.general, "summary preview", kind="public")
    shown = preview.followups[0] if preview.followups else preview.response
    assert preview.ephemeral and shown is not None
    assert shown.embeds[0].title == "This week in Engage Test"
    assert summaries(announcements) == []
    first = await world.mod.slash(world.general, "summary post-now", kind="public")
    assert "Posted:" in said(first)
    again = await world.mod.slash(world.general, "summary post-now", kind="public")
    assert "already posted" in said(again)
    assert len(summaries(announcements)) == 1
    for options, expected in (
        ({"day": "friday", "time": "25:00", "timezone": "UTC"}, "not a time of day"),
        ({"day": "friday", "time": "18:30", "timezone": "Mars/Olympus"}, "not a known time zone"),
    ):
        refused = await world.mod.slash(world.general, "summary schedule", **options)
        assert expected in said(refused)
        world.env.errors.clear()


async def test_settings_changes_move_the_job(world: World, simcord_bot: EngageBot) -> None:
    await allow_command(world, simcord_bot, "summary", world.staff_role)
    done = await world.mod.slash(
        world.general, "summary schedule", day="friday", time="18:30", timezone="Europe/Berlin"
    )
    assert "every Friday at 18:30 (Europe/Berlin)" in said(done)
    job = simcord_bot.scheduler.get_job(f"{simcord_bot.app_id}:summaries:{world.guild.id}")
    assert job is not None
    fire = job.trigger.get_next_fire_time(None, datetime(2026, 3, 23, tzinfo=UTC))
    # Friday 27 March 2026, 18:30 in Berlin, which is still on winter time (UTC+1).
    assert fire is not None and fire.astimezone(UTC) == datetime(2026, 3, 27, 17, 30, tzinfo=UTC)


async def test_a_failing_summary_is_retried_then_reported_once(
    world: World, resources: Resources, simcord_bot: EngageBot
) -> None:
    announcements, inbox = await configure(world, simcord_bot)
    await play_a_week(world)
    world.env.backend.delete_channel(announcements.id)
    await world.env.settle()
    await until(world.env, SUMMARY_MOMENT)
    posted = await run_due(simcord_bot, world)
    assert [m.embeds[0].title for m in posted] == ["Moderators' week in Engage Test"]
    cog: Any = simcord_bot.get_cog("Summaries")
    for minutes in (1, 5, 30, 30):
        await world.env.advance_time(minutes * 60)
        await cog.retry_failed()
        await world.env.settle()
    [failed] = await rows(
        resources, "SELECT state, attempts, error FROM summary_runs WHERE kind = 'public' "
        "AND period_start = (SELECT max(period_start) FROM summary_runs)"
    )  # fmt: skip
    assert failed[:2] == ("failed", 4) and "is gone" in failed[2]
    reports = [m for m in inbox.history() if "could not be posted" in m.content]
    assert len(reports) == 1 and "after 4 attempts" in reports[0].content


async def test_down_across_the_scheduled_moment_posts_once_after_restart(db_url: str) -> None:
    settings = settings_for(db_url)
    async with open_resources(settings) as resources:
        bot = EngageBot(resources)
        env = simcord.Env(bot, shard_count=1)
        world = build_world(env)
        await env.start()
        with env.time_context():
            await bot.get_cog("Ingest").caught_up()  # type: ignore[union-attr]
            announcements, _ = await configure(world, bot)
            await play_a_week(world)
            # The bot is down from Sunday until Tuesday: Monday 09:00 passes unseen.
            await until(env, SUMMARY_MOMENT + timedelta(days=1))
            for restart in range(2):
                async with open_resources(settings) as again:
                    new_bot = EngageBot(again)
                    await env.restart_bot(new_bot)
                    await new_bot.get_cog("Ingest").caught_up()  # type: ignore[union-attr]
                    await env.settle()
                    assert len(summaries(announcements)) == 1, f"restart {restart}"
            await env.shutdown()


@pytest.fixture
def pg_db_url(pg_server_url: str | None) -> Iterator[str]:
    if pg_server_url is None:
        pytest.skip("no PostgreSQL binaries on this machine (CI installs them)")
    name = f"t_{uuid.uuid4().hex[:12]}"
    try:
        yield pgserver.create_database(pg_server_url, name)
    finally:
        pgserver.drop_database(pg_server_url, name)


@pytest.mark.postgres
async def test_two_processes_on_one_database_post_each_summary_once(pg_db_url: str) -> None:
    """Two schedulers (two processes' services, their own engines) fire at the same moment."""
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    settings = settings_for(pg_db_url)
    now = SUMMARY_MOMENT + timedelta(minutes=1)
    async with (
        open_resources(settings, clock=lambda: now) as one,
        open_resources(settings, clock=lambda: now) as two,
    ):
        guild_ids = list(range(1, 21))
        claims: list[tuple[int, SummaryKind]] = []
        fired = asyncio.Event()
        remaining = [2]

        async def job(resources: Resources) -> None:
            for guild_id in guild_ids:
                for claimed in await resources.services.summaries.claim_due(guild_id):
                    claims.append((guild_id, claimed.kind))
            remaining[0] -= 1
            if remaining[0] == 0:
                fired.set()

        schedulers = [AsyncIOScheduler(timezone=UTC), AsyncIOScheduler(timezone=UTC)]
        for scheduler, resources in zip(schedulers, (one, two), strict=True):
            scheduler.add_job(job, "date", args=[resources])
            scheduler.start()
        await asyncio.wait_for(fired.wait(), timeout=30)
        for scheduler in schedulers:
            scheduler.shutdown(wait=False)
    assert sorted(claims) == sorted(
        (g, kind) for g in guild_ids for kind in (SummaryKind.PUBLIC, SummaryKind.STAFF)
    )
