"""Every community event, driven through the real discord.py client on simcord, into the DB."""

from __future__ import annotations

from typing import Any

import discord
import pytest
import simcord
from simcord.backend.models.channel import Overwrite
from simcord.enums import OverwriteType

from bot.app import EngageBot, Resources, open_resources
from tests.simworld import (
    World,
    add_forum_tag,
    build_world,
    open_forum_post,
    rows,
    settings_for,
    value,
)

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


async def authors_are_staff(resources: Resources, sent: list[Any]) -> list[bool]:
    ids = ", ".join(str(m.id) for m in sent)
    sql = f"SELECT author_is_staff FROM messages WHERE id IN ({ids}) ORDER BY id"
    return [bool(staff) for (staff,) in await rows(resources, sql)]


def thread_handle(world: World, channel: Any) -> Any:
    return simcord.ChannelHandle(world.env, world.guild, channel)


async def test_replies_forwards_and_mentions(world: World, resources: Resources) -> None:
    question = await world.alice.send(world.general, "how do I link my account?")
    reply = await world.bob.send(
        world.general,
        f"{world.alice.mention} use /link, {world.staff_role.mention}",
        reply_to=question,
    )
    forward = await world.bob.forward(question, world.help)
    everyone = await world.mod.send(world.general, "@everyone maintenance tonight")
    me = world.guild.me
    to_bot = await world.alice.send(world.general, f"<@{me.id}> are you there?")
    found = dict(
        (r[0], r[1:])
        for r in await rows(
            resources,
            "SELECT id, reply_to_id, is_forward, mention_users, mention_roles, "
            "mentions_everyone, mentions_bot FROM messages",
        )
    )
    assert found[reply.id] == (question.id, False, 1, 1, False, False)
    assert found[forward.id][:2] == (None, True)
    assert found[everyone.id][4] == 1
    assert found[to_bot.id][5] == 1
    mentions = await rows(resources, "SELECT message_id, kind, target_id FROM mentions")
    assert (reply.id, "user", world.alice.id) in mentions
    assert (reply.id, "role", world.staff_role.id) in mentions
    assert (everyone.id, "everyone", 0) in mentions
    days = await rows(resources, "SELECT messages, top_level, replies, forwards FROM guild_days")
    assert days == [(5, 4, 1, 1)]


async def test_edits_deletes_and_bulk_deletes(
    world: World, resources: Resources, simcord_bot: EngageBot
) -> None:
    first = await world.alice.send(world.general, "typo")
    # The bot keeps no message cache: edits and deletions come through raw events alone.
    assert not simcord_bot.cached_messages
    await world.env.advance_time(1)
    await world.alice.edit(first, "fixed")
    second = await world.bob.send(world.general, "oops")
    await world.mod.delete(second)
    third = await world.alice.send(world.general, "x")
    fourth = await world.alice.send(world.general, "y")
    world.env.backend.bulk_delete_messages(world.general.id, [third.id, fourth.id])
    await world.env.settle()
    stored = dict(
        (r[0], r[1:])
        for r in await rows(
            resources, "SELECT id, edited_at IS NOT NULL, deleted_at IS NOT NULL FROM messages"
        )
    )
    assert stored[first.id] == (True, False)
    assert stored[second.id] == (False, True)
    assert stored[third.id] == (False, True) and stored[fourth.id] == (False, True)
    # Deleted messages stay counted for the day they were sent.
    assert await value(resources, "SELECT messages FROM guild_days") == 4


async def test_reactions_added_removed_and_cleared(world: World, resources: Resources) -> None:
    target = await world.alice.send(world.general, "new release is out")
    await world.bob.react(target, "👍")
    await world.mod.react(target, "🎉")
    await world.alice.react(target, "👍")  # the author's own reaction is no applause
    stored = await rows(resources, "SELECT user_id, emoji FROM reactions ORDER BY user_id")
    assert sorted(stored) == sorted(
        [(world.bob.id, "👍"), (world.mod.id, "🎉"), (world.alice.id, "👍")]
    )
    assert await value(resources, "SELECT reactions_received FROM guild_days") == 2
    await world.bob.unreact(target, "👍")
    assert await value(resources, "SELECT reactions_received FROM guild_days") == 1
    world.env.backend.clear_reaction(world.general.id, target.id, "🎉")
    await world.env.settle()
    assert await value(resources, "SELECT count(*) FROM reactions") == 1
    world.env.backend.clear_reactions(world.general.id, target.id)
    await world.env.settle()
    assert await value(resources, "SELECT count(*) FROM reactions") == 0
    assert await value(resources, "SELECT reactions_received FROM guild_days") == 0


async def test_threads_and_their_messages(world: World, resources: Resources) -> None:
    starter = await world.alice.send(world.general, "let's discuss the roadmap")
    thread = world.env.backend.create_thread(
        world.general.id, "roadmap", world.alice.id, message_id=starter.id
    )
    await world.env.settle()
    inside = await world.bob.send(thread_handle(world, thread), "I vote for dark mode")
    stored = await rows(resources, "SELECT id, channel_id, thread_id FROM messages ORDER BY id")
    assert (inside.id, world.general.id, thread.id) in stored
    channel = await rows(resources, f"SELECT kind, parent_id FROM channels WHERE id = {thread.id}")
    assert channel == [("public_thread", world.general.id)]
    days = await rows(resources, "SELECT replies, threads_started FROM guild_days")
    assert days == [(1, 1)]
    world.env.backend.edit_channel(thread.id, {}, thread_metadata={"archived": True})
    await world.env.settle()
    assert await value(resources, f"SELECT archived FROM channels WHERE id = {thread.id}")
    world.env.backend.delete_channel(thread.id)
    await world.env.settle()
    assert await value(
        resources, f"SELECT deleted_at IS NOT NULL FROM channels WHERE id = {thread.id}"
    )


async def test_a_forum_post_with_tags(world: World, resources: Resources) -> None:
    tag_id = add_forum_tag(world, "bug")
    await world.env.settle()
    post = await open_forum_post(
        world, "Crash on start", world.alice, "It crashes when I start it?", (tag_id,)
    )
    channel = await rows(
        resources, f"SELECT kind, parent_id, tags FROM channels WHERE id = {post.id}"
    )
    assert channel == [("forum_post", world.forum.id, "bug")]
    message = await rows(
        resources,
        f"SELECT is_thread_starter, thread_id, content FROM messages WHERE id = {post.id}",
    )
    # A forum post's opening message is a question: its text is kept under the default policy.
    assert message == [(True, post.id, "It crashes when I start it?")]
    assert await rows(resources, "SELECT top_level, replies, threads_started FROM guild_days") == [
        (1, 0, 0)
    ]


async def test_members_join_leave_get_banned_and_change_roles(
    world: World, resources: Resources
) -> None:
    newcomer = world.guild.add_member(world.env.create_user("newcomer"))
    await world.env.settle()
    backend = world.env.backend
    backend.add_member_role(world.guild.id, newcomer.id, world.staff_role.id)
    await world.env.settle()
    assert await value(resources, f"SELECT is_staff FROM members WHERE user_id = {newcomer.id}")
    world.guild.remove_member(newcomer)
    backend.apply_ban(world.guild.id, world.bob.id, "spam")
    await world.env.settle()
    events = await rows(resources, "SELECT user_id, kind FROM member_events ORDER BY id")
    assert (newcomer.id, "join") in events
    assert (newcomer.id, "roles_changed") in events
    assert (newcomer.id, "leave") in events
    assert (world.bob.id, "ban") in events
    left = await rows(resources, "SELECT user_id FROM members WHERE left_at IS NOT NULL")
    assert {r[0] for r in left} >= {newcomer.id, world.bob.id}


async def test_each_message_is_from_staff_as_its_author_was_when_it_was_sent(
    world: World, resources: Resources
) -> None:
    """Who is staff where is remembered between messages, and forgotten when roles change."""
    newcomer = world.guild.add_member(world.env.create_user("newcomer"))
    await world.env.settle()
    backend, sent = world.env.backend, []
    sent.append(await newcomer.send(world.general, "how do I get the event role?"))
    backend.add_member_role(world.guild.id, newcomer.id, world.staff_role.id)
    await world.env.settle()
    sent.append(await newcomer.send(world.general, "how do I get the event role?"))
    backend.remove_member_role(world.guild.id, newcomer.id, world.staff_role.id)
    await world.env.settle()
    sent.append(await newcomer.send(world.general, "how do I get the event role?"))
    assert await authors_are_staff(resources, sent) == [False, True, False]
    ids = ", ".join(str(m.id) for m in sent)
    asked = await rows(resources, f"SELECT message_id FROM questions WHERE message_id IN ({ids})")
    assert sorted(asked) == [(sent[0].id,), (sent[2].id,)]  # staff never ask


async def test_a_members_own_overwrite_makes_them_staff_where_it_applies(
    world: World, resources: Resources
) -> None:
    """Members with the same roles share one remembered answer, except one with an overwrite
    of their own: Manage Messages in #help makes Bob staff there (and in its threads), not
    Carol, and not Bob in #general."""
    allow = discord.Permissions(manage_messages=True).value
    overwrite = Overwrite(world.bob.id, OverwriteType.MEMBER, allow=allow)
    world.env.backend.set_overwrite(world.help.id, overwrite)
    await world.env.settle()
    sent = [
        await world.carol.send(world.help, "anyone around?"),
        await world.bob.send(world.help, "I am, what's up"),
        await world.bob.send(world.general, "back in a minute"),
    ]
    assert await authors_are_staff(resources, sent) == [False, True, False]


async def test_the_guild_owner_is_staff_and_a_member_with_the_same_roles_is_not(
    world: World, resources: Resources
) -> None:
    env = world.env
    owner = env.create_user("owner")
    guild = env.create_guild("Owned", owner=owner)
    general = guild.create_text_channel("general")
    plain = guild.add_member(env.create_user("plain"))
    owning = guild.add_member(owner)
    await env.settle()
    sent = [await owning.send(general, "welcome all"), await plain.send(general, "hi there")]
    assert await authors_are_staff(resources, sent) == [True, False]


async def test_channels_created_renamed_and_deleted(world: World, resources: Resources) -> None:
    backend = world.env.backend
    created = backend.create_channel(world.guild.id, "announcements")
    await world.env.settle()
    backend.edit_channel(created.id, {"name": "news"})
    await world.env.settle()
    assert await value(resources, f"SELECT name FROM channels WHERE id = {created.id}") == "news"
    backend.delete_channel(created.id)
    await world.env.settle()
    assert await value(
        resources, f"SELECT deleted_at IS NOT NULL FROM channels WHERE id = {created.id}"
    )


async def test_bots_webhooks_and_system_messages_are_not_activity(
    world: World, resources: Resources
) -> None:
    robot = world.guild.add_member(world.env.create_user("helper-bot", bot=True))
    await world.env.settle()
    await robot.send(world.general, "beep")
    hook = world.guild.create_webhook(world.general, "CI")
    await hook.send("build passed", username="GitHub")
    message = await world.alice.send(world.general, "pin this please")
    await world.mod.set_pinned(message, True)
    flags = await rows(
        resources, "SELECT is_bot, is_webhook, is_system, counted FROM messages ORDER BY id"
    )
    assert (True, False, False, False) in flags
    assert (True, True, False, False) in flags or (False, True, False, False) in flags
    assert (False, False, True, False) in flags
    assert await value(resources, "SELECT messages FROM guild_days") == 1


async def test_the_guild_is_recorded(world: World, resources: Resources) -> None:
    assert await rows(resources, "SELECT id, name, left_at FROM guilds") == [
        (world.guild.id, "Engage Test", None)
    ]


async def test_the_bot_leaving_a_guild_is_recorded(world: World, resources: Resources) -> None:
    world.env.backend.remove_guild(world.guild.id)
    await world.env.settle()
    assert await value(resources, "SELECT left_at IS NOT NULL FROM guilds")


async def test_backfill_reads_history_the_bot_never_saw(
    simcord_env: simcord.Env, resources: Resources, simcord_bot: Any
) -> None:
    env = simcord_env
    guild = env.create_guild("Older community")
    general = guild.create_text_channel("general")
    admin_role = guild.create_role("Admin", permissions=discord.Permissions(manage_guild=True))
    admin = guild.add_member(env.create_user("admin"), roles=[admin_role])
    veteran = guild.add_member(env.create_user("veteran"))
    await env.settle()
    await simcord_bot.get_cog("Ingest").caught_up()
    # History that reached Discord but never the bot (as before it joined).
    for text in ("first post", "second post", "third post"):
        env.backend.create_message(general.id, veteran.id, text, broadcast=False)
    await env.advance_time(60)
    result = await admin.slash(general, "engage backfill", days=7)
    assert result.ephemeral and result.response is not None
    assert "read 3 messages" in result.response.content
    stored = await value(resources, f"SELECT count(*) FROM messages WHERE guild_id = {guild.id}")
    assert stored == 3
    again = await admin.slash(general, "engage backfill", days=7)
    assert again.response is not None and "read 3 messages" in again.response.content
    assert await value(resources, f"SELECT count(*) FROM messages WHERE guild_id = {guild.id}") == 3


@pytest.mark.parametrize(
    ("policy", "kept"),
    [
        ("questions", ["how do I join the event?", None]),
        ("all", ["how do I join the event?", "see you at the event"]),
        ("none", [None, None]),
    ],
)
async def test_the_content_policy_decides_whose_text_is_kept(
    db_url: str, policy: str, kept: list[str | None]
) -> None:
    """New messages are built without their text on the hot path; the policy adds it back."""
    async with open_resources(settings_for(db_url, privacy={"store_content": policy})) as opened:
        bot = EngageBot(opened)
        env = simcord.Env(bot, shard_count=1)
        world = build_world(env, members=2)
        await env.start()
        with env.time_context():
            asked = await world.alice.send(world.general, "how do I join the event?")
            said = await world.bob.send(world.general, "see you at the event")
            ids = f"{asked.id}, {said.id}"
            found = await rows(
                opened, f"SELECT content FROM messages WHERE id IN ({ids}) ORDER BY id"
            )
        await env.shutdown()
    assert [text for (text,) in found] == kept


async def test_a_message_that_fails_to_be_handled_loses_no_other(
    world: World, resources: Resources, fail_on_discord_errors: Any
) -> None:
    ingest = resources.services.ingest
    accept = ingest.accept_message

    def failing(view: Any, record: Any, text: str | None = None) -> Any:
        if text == "boom":
            raise RuntimeError("a bug in the policy")
        return accept(view, record, text)

    ingest.accept_message = failing  # type: ignore[method-assign]
    sent = [await world.alice.send(world.general, text) for text in ("before", "boom", "after")]
    ids = ", ".join(str(m.id) for m in sent)
    stored = await rows(resources, f"SELECT id FROM messages WHERE id IN ({ids}) ORDER BY id")
    assert stored == [(sent[0].id,), (sent[2].id,)]
    logged = [r.getMessage() for r in fail_on_discord_errors.records]
    assert logged == [f"handling message {sent[1].id} failed"]
    fail_on_discord_errors.records.clear()


async def test_a_message_edited_while_held_is_stored_as_it_was_sent(
    world: World, resources: Resources, simcord_bot: Any
) -> None:
    """New messages are held to be handled in batches; an edit that comes first changes the
    cached message, and the record must still be the message as sent (the edit follows)."""
    sent = await world.alice.send(world.general, f"{world.bob.mention} can you add me?")
    cog = simcord_bot.get_cog("Ingest")
    assert [m.id for m, _ in cog._arrived] == [sent.id]  # held when the edit is applied
    await world.alice.edit(sent, "never mind, found it")
    stored = await rows(
        resources, f"SELECT mention_users, edited_at IS NOT NULL FROM messages WHERE id = {sent.id}"
    )
    assert stored == [(1, True)]
    mentions = await rows(resources, f"SELECT target_id FROM mentions WHERE message_id = {sent.id}")
    assert mentions == [(world.bob.id,)]
    asked = await rows(resources, f"SELECT source FROM questions WHERE message_id = {sent.id}")
    assert asked == [("detected",)]


async def test_changes_announced_after_a_held_message_leave_its_record_as_sent(
    world: World, resources: Resources, simcord_bot: Any
) -> None:
    """Held messages are handled before discord.py parses the next event that is not a new
    message (it changes the cached roles first): a role given Manage Messages and a member given
    the staff role after the message was sent make neither its author staff nor the message a
    request to staff."""
    backend, guild_id = world.env.backend, world.guild.id
    helpers = world.guild.create_role("Helpers")
    backend.add_member_role(guild_id, world.carol.id, helpers.id)
    await world.env.settle()
    ask = f"{world.bob.mention} please add me to the event"
    sent = [await world.carol.send(world.general, "ok"), await world.alice.send(world.general, ask)]
    cog = simcord_bot.get_cog("Ingest")
    assert [m.id for m, _ in cog._arrived] == [m.id for m in sent]
    backend.edit_role(guild_id, helpers.id, {"permissions": discord.Permissions.all().value})
    backend.add_member_role(guild_id, world.bob.id, world.staff_role.id)
    await world.env.settle()
    sent += [
        await world.carol.send(world.general, "ok"),
        await world.alice.send(world.general, ask),
    ]
    assert await authors_are_staff(resources, sent) == [False, False, True, False]
    ids = ", ".join(str(m.id) for m in sent)
    asked = await rows(
        resources, f"SELECT message_id, source FROM questions WHERE message_id IN ({ids})"
    )
    assert asked == [(sent[3].id, "mention")]  # a request to staff, once Bob is staff


async def test_a_held_message_keeps_the_roles_its_members_had_when_their_next_messages_replace_them(
    world: World, resources: Resources, simcord_bot: Any
) -> None:
    """discord.py takes the member in a new message's payload as the cached member's roles,
    which may come before the member update that announces them: for the author of a held
    message, and for a member it mentions who writes next."""
    backend, guild_id = world.env.backend, world.guild.id
    ask = f"{world.bob.mention} please add me to the event"
    sent = [
        await world.carol.send(world.general, "how do I get the event role?"),
        await world.alice.send(world.general, ask),
    ]
    for member in (world.carol, world.bob):
        backend.get_member(guild_id, member.id).role_ids.append(world.staff_role.id)
    sent += [
        await world.carol.send(world.general, "how do I get the event role?"),
        await world.bob.send(world.general, "sure"),
    ]
    cog = simcord_bot.get_cog("Ingest")
    assert [m.id for m, _ in cog._arrived] == [m.id for m in sent]
    for member in (world.carol, world.bob):
        backend.announce_member_update(guild_id, member.id)
    await world.env.settle()
    assert await authors_are_staff(resources, sent) == [False, False, True, True]
    ids = ", ".join(str(m.id) for m in sent)
    # Carol asked before she was staff; Alice asked Bob before he was (no request to staff).
    asked = await rows(resources, f"SELECT message_id FROM questions WHERE message_id IN ({ids})")
    assert asked == [(sent[0].id,)]
