"""Plays a planned community to the real engagebot on simcord's virtual clock.

The bot is the real ``EngageBot`` with all its cogs and a fresh SQLite database; simcord stands in
for Discord. Everything reaches the bot the way it would on Discord: the days before the bot
joins are history in the channels (its catch-up and ``/engage backfill`` read them), everything
after arrives as gateway events while the virtual clock moves, and a moderator sets the server up
with the real slash commands and works the inbox with the card buttons.

APScheduler follows the real clock, which simcord does not move, so the runner runs the bot's
scheduled jobs itself at their virtual moments: the inbox sweep at every tick of the plan, and the
weekly summaries when the guild's schedule says they are due (``Summaries.run_due``).
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import discord
import simcord
from simcord.builders import UserHandle

from bot.app import EngageBot, Resources, open_resources
from bot.demo.plan import (
    FORUM,
    Community,
    Event,
    Membership,
    Message,
    ModeratorAction,
    Reaction,
    ThreadStart,
)
from bot.domain.summaries import next_moment
from bot.services.summaries import schedule_of
from bot.settings import DatabaseSettings, DiscordSettings, InboxSettings, Settings

log = logging.getLogger(__name__)

BOT_NAME = "engagebot"
DATABASE = "engagebot.db"
SETTLE = 0.001
"""How often a settle looks at the bot's pending work (seconds of real time)."""
BATCH = 200
"""Events sent between two settles while the clock runs fast."""
_MENTION = re.compile(r"\{@(\w+)\}")
_TOKEN = re.compile(r"<(@&|@!?|#)(\d+)>|<t:(\d+)(?::\w)?>")

Say = Callable[[str], None]


@dataclass
class Interaction:
    """A slash command or button press in the demo, and what the bot answered."""

    at: datetime
    user: str
    action: str
    answer: str


@dataclass
class Demo:
    """The running demo: the plan, the simulated server and the bot."""

    plan: Community
    env: simcord.Env
    bot: EngageBot
    resources: Resources
    say: Say
    guild: Any = None
    staff_role: Any = None
    channels: dict[str, Any] = field(default_factory=dict)
    users: dict[str, UserHandle] = field(default_factory=dict)
    members: dict[str, Any] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)
    """Plan message keys to Discord message ids (a thread's id is its starter's)."""
    where: dict[str, int] = field(default_factory=dict)
    interactions: list[Interaction] = field(default_factory=list)
    next_summaries: datetime | None = None

    @property
    def moderator(self) -> Any:
        return self.members[self.plan.people[1].key]

    @property
    def member(self) -> Any:
        """The most talkative member still in the server at the end (a viewer in the preview)."""
        present = [p for p in self.plan.people if not p.staff and p.present(self.plan.ends_at)]
        return self.members[max(present, key=lambda p: p.chattiness).key]

    # -- the server --------------------------------------------------------------------------

    def build_server(self) -> None:
        plan, env = self.plan, self.env
        env.backend.edit_bot_profile(BOT_NAME)
        for person in plan.people:
            self.users[person.key] = env.create_user(person.name, global_name=person.name.title())
        owner = next(p for p in plan.people if p.owner)
        self.guild = guild = env.create_guild(plan.guild_name, owner=self.users[owner.key])
        self.members[owner.key] = guild.add_member(self.users[owner.key])
        self.staff_role = guild.create_role(
            "Staff", permissions=discord.Permissions(manage_messages=True, kick_members=True)
        )
        everyone, bot_role = guild.default_role, guild.roles[BOT_NAME]
        hidden = discord.PermissionOverwrite(view_channel=False)
        shown = discord.PermissionOverwrite(view_channel=True, send_messages=True)
        read_only = discord.PermissionOverwrite(send_messages=False, add_reactions=True)
        channels = self.channels
        channels["announcements"] = guild.create_text_channel(
            "announcements",
            topic="News from the team",
            overwrites={everyone: read_only, bot_role: shown},
        )
        channels["general"] = guild.create_text_channel("general", topic="Talk about anything")
        channels["help"] = guild.create_text_channel("help", topic="Ask for help here")
        channels[FORUM] = guild.create_forum_channel(FORUM)
        channels["mod-inbox"] = guild.create_text_channel(
            "mod-inbox",
            topic="Unanswered questions and weekly reports (staff only)",
            overwrites={everyone: hidden, self.staff_role: shown, bot_role: shown},
        )

    # -- playing the plan --------------------------------------------------------------------

    def _channel_of(self, event: Message) -> int:
        if event.thread is not None:
            return self.ids[event.thread]
        return int(self.channels[event.channel].id)

    def _send(self, event: Message, live: bool) -> None:
        backend = self.env.backend
        author = self.users[event.author].id
        text = _MENTION.sub(lambda m: f"<@{self.users[m[1]].id}>", event.text)
        if event.post_title is not None:
            # A forum post: a thread whose opening message has the thread's id.
            post = backend.create_thread(
                self.channels[FORUM].id, event.post_title, author, broadcast=False
            )
            opening = backend.prepare_message(post.id, author, text)
            opening.id = post.id
            backend.commit_message(opening, broadcast=False)
            if live:
                backend.announce_thread_create(post)
                backend.announce_message_create(opening)
            self.ids[event.key] = self.where[event.key] = post.id
            return
        channel_id = self._channel_of(event)
        reference = None
        if event.reply_to is not None:
            target = event.reply_to
            reference = {"channel_id": str(self.where[target]), "message_id": str(self.ids[target])}
        sent = backend.create_message(channel_id, author, text, reference=reference, broadcast=live)
        self.ids[event.key], self.where[event.key] = sent.id, channel_id

    async def _apply(self, event: Event, live: bool) -> None:
        backend = self.env.backend
        if isinstance(event, Message):
            self._send(event, live)
        elif isinstance(event, Reaction):
            user = self.users[event.person].id
            mid = self.ids[event.message]
            backend.add_reaction(self.where[event.message], mid, event.emoji, user)
        elif isinstance(event, ThreadStart):
            owner = self.users[event.owner].id
            backend.create_thread(
                self.where[event.message],
                event.name,
                owner,
                message_id=self.ids[event.message],
                broadcast=live,
            )
        elif isinstance(event, Membership) and event.joined:
            staff = self.plan.by_key[event.person].staff
            roles = [self.staff_role] if staff else []
            self.members[event.person] = self.guild.add_member(
                self.users[event.person], roles=roles
            )
        elif isinstance(event, Membership):
            self.guild.remove_member(self.members.pop(event.person))
            await self.settle()  # the bot dates a leave by when it hears of it
        elif isinstance(event, ModeratorAction):
            await self.press(event)

    def _move_clock(self, at: datetime) -> None:
        ahead = (at - self.env.now()).total_seconds()
        if ahead > 0:
            self.env.backend.advance_clock(ahead)

    async def play_history(self) -> int:
        """The days before the bot joins: what is in the channels (and who is in the server)
        when it arrives. Nobody is listening yet; the bot reads it all when it connects."""
        played = 0
        for event in self.plan.timeline:
            if event.at >= self.plan.bot_joins_at:
                break
            if not isinstance(event, Message | Reaction | Membership | ThreadStart):
                raise ValueError(f"the plan has a {type(event).__name__} before the bot joins")
            self._move_clock(event.at)
            await self._apply(event, live=False)
            played += 1
        self._move_clock(self.plan.bot_joins_at)
        return played

    async def settle(self) -> None:
        await self.env.settle(idle=SETTLE)

    async def play_live(self, until: datetime) -> None:
        """Everything from the bot's arrival until ``until``, with the bot's jobs at each tick."""
        ticks = [t for t in self.plan.ticks() if self.env.now() < t <= until]
        events = [e for e in self.plan.timeline if self.env.now() <= e.at < until]
        position = 0
        for count, event in enumerate(events, 1):
            while position < len(ticks) and ticks[position] <= event.at:
                await self.tick(ticks[position])
                position += 1
            self._move_clock(event.at)
            await self._apply(event, live=True)
            if count % BATCH == 0:
                await self.settle()
        for at in ticks[position:]:
            await self.tick(at)

    async def tick(self, at: datetime) -> None:
        """The bot's scheduled jobs at a virtual moment: the inbox sweep, then due summaries."""
        await self.settle()
        ahead = (at - self.env.now()).total_seconds()
        if ahead > 0:
            await self.env.advance_time(ahead)
        inbox: Any = self.bot.get_cog("Inbox")
        await inbox.sweep([self.guild.id])
        summaries: Any = self.bot.get_cog("Summaries")
        if summaries is not None:
            if self.next_summaries is None:
                self.next_summaries = await self._next_summaries(at)
            if self.next_summaries <= at:
                await self.resources.writer.flush()
                await summaries.run_due([self.guild.id])
                self.next_summaries = await self._next_summaries(at)
        await self.settle()

    async def _next_summaries(self, now: datetime) -> datetime:
        settings = await self.resources.services.summaries.settings(self.guild.id)
        return next_moment(schedule_of(settings), now)

    # -- the moderator -----------------------------------------------------------------------

    async def slash(self, command: str, /, where: str = "mod-inbox", **options: Any) -> str:
        """The moderator runs a slash command in ``where``; returns what the bot answered."""
        result = await self.moderator.slash(self.channels[where], command, **options)
        shown = " ".join(f"{k}:{_option_text(v)}" for k, v in options.items())
        answer = _answer_text(result)
        self.interactions.append(
            Interaction(self.env.now(), self.moderator.name, f"/{command} {shown}".strip(), answer)
        )
        return answer

    async def press(self, action: ModeratorAction) -> None:
        await self.settle()
        question = self.ids[action.question]
        card = next(
            m
            for m in self.channels["mod-inbox"].history()
            if m.embeds and (m.embeds[0].url or "").endswith(f"/{question}")
        )
        result = await self.members[action.person].click(card, label=action.button)
        title = card.embeds[0].title or "card"
        self.interactions.append(
            Interaction(
                self.env.now(),
                self.plan.by_key[action.person].name,
                f"[{action.button}] on “{title}”",
                _answer_text(result) or "(the card changes)",
            )
        )

    async def set_up(self) -> None:
        """What a moderator does after inviting the bot: permissions, channels, roles, backfill."""
        commands = await self.bot.tree.fetch_commands()
        for command in commands:
            if command.default_member_permissions is not None:
                # What a server admin does in Integrations: let the Staff role use the command.
                self.guild.set_command_permissions(command, {self.staff_role: True})
        channels = self.channels
        await self.slash("engage inbox-channel", channel=channels["mod-inbox"])
        await self.slash("engage help-channel", channel=channels["help"])
        await self.slash("engage staff-role", role=self.staff_role)
        if self.bot.get_cog("Summaries") is not None:
            await self.slash("summary channel", kind="public", channel=channels["announcements"])
            await self.slash("summary channel", kind="staff", channel=channels["mod-inbox"])
        days = (self.plan.bot_joins_at - self.plan.opened_at).days + 1
        await self.slash("engage backfill", days=days)
        await self.tick(self.env.now())


class Names:
    """Turns mentions and timestamps in the bot's text into what a Discord client shows."""

    def __init__(self, demo: Demo) -> None:
        backend = demo.env.backend
        self.users = {u.id: u.name for u in backend.users.values()}
        self.channels = {cid: c.name or str(cid) for cid, c in backend.channels.items()}
        self.roles = {
            rid: role.name for guild in backend.guilds.values() for rid, role in guild.roles.items()
        }

    def __call__(self, text: str) -> str:
        def name(match: re.Match[str]) -> str:
            kind, ident, stamp = match[1], match[2], match[3]
            if stamp is not None:
                return f"{datetime.fromtimestamp(int(stamp), UTC):%a %d %b %H:%M}"
            if kind == "#":
                return "#" + self.channels.get(int(ident), "channel")
            table = self.roles if kind == "@&" else self.users
            return "@" + table.get(int(ident), "someone")

        return _TOKEN.sub(name, text)


def _option_text(value: Any) -> str:
    if hasattr(value, "name") and hasattr(value, "id"):
        prefix = "@" if "Role" in type(value).__name__ else "#"
        return f"{prefix}{value.name}"
    return str(value)


def _answer_text(result: Any) -> str:
    parts = [result.response.content] if result.response is not None else []
    return " ".join([*parts, *(f.content for f in result.followups)]).strip()


def settings_for(directory: Path) -> Settings:
    database = directory / DATABASE
    for stale in (
        database,
        database.with_name(DATABASE + "-wal"),
        database.with_name(DATABASE + "-shm"),
    ):
        stale.unlink(missing_ok=True)
    return Settings(
        database=DatabaseSettings(url=f"sqlite+aiosqlite:///{database}"),
        discord=DiscordSettings(shard_count=1),
        # The runner sweeps at virtual moments; the real-clock interval only has to stay quiet.
        inbox=InboxSettings(sweep_seconds=3600),
    )


@contextlib.asynccontextmanager
async def running(plan: Community, directory: Path, say: Say) -> AsyncIterator[Demo]:
    """The demo played to the end of the plan's live stretch; the bot keeps running inside."""
    async with open_resources(settings_for(directory)) as resources:
        bot = EngageBot(resources)
        env = simcord.Env(bot, shard_count=1, settle_timeout=120)
        demo = Demo(plan, env, bot, resources, say)
        demo.build_server()
        people = sum(p.present(plan.bot_joins_at) for p in plan.people)
        say(f"{plan.guild_name}: the server opened on {plan.opened_at:%A %d %B %Y}.")
        played = await demo.play_history()
        say(f"Before engagebot arrives: {people} members; {played} joins, messages and reactions.")
        await env.start()
        try:
            with env.time_context():
                await _play(demo)
                yield demo
        finally:
            await env.shutdown()


async def _play(demo: Demo) -> None:
    plan, say = demo.plan, demo.say
    ingest: Any = demo.bot.get_cog("Ingest")
    await ingest.caught_up()
    joined = f"{demo.env.now():%a %d %b %H:%M}"
    say(f"{joined} engagebot joins and reads the history; a moderator sets it up:")
    await demo.set_up()
    names = Names(demo)
    for line in demo.interactions:
        say(f"  {line.action}  →  {names(line.answer)}")
    weeks = round((plan.live_from - plan.bot_joins_at).days / 7)
    say(f"Playing {weeks} weeks of community life on the virtual clock…")
    await demo.play_live(plan.live_from)
    live = f"{plan.live_from:%a %d %b %H:%M}"
    say(f"{live} Live: new questions, a moderator works the inbox, weekly summaries at 09:00…")
    await demo.play_live(plan.ends_at)
    await demo.settle()
    await demo.resources.writer.flush()
    say(f"{demo.env.now():%a %d %b %H:%M} Done.")
