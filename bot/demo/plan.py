"""The plan of the demo's community: who is there, and everything that happens, in order.

Plain frozen dataclasses, made by ``community.build(seed)``; the runner plays them to the bot and
tests check what the bot posted against them. Message text writes mentions as ``{@key}``, which the
runner turns into real mentions.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

OPENED_AT = datetime(2026, 1, 1, tzinfo=UTC)
"""The server opens (simcord's virtual clock starts here)."""
BOT_JOINS_AT = datetime(2026, 1, 5, 10, tzinfo=UTC)
FIRST_WEEK = datetime(2026, 1, 5, tzinfo=UTC)
WEEKS = 8
LIVE_FROM = FIRST_WEEK + WEEKS * 7 * DAY + 6 * HOUR
"""Monday 2 March, 06:00: the live stretch, with the weekly summaries due at 09:00."""
ENDS_AT = LIVE_FROM + 4 * HOUR
TARGET = timedelta(minutes=60)
"""The response target: an unanswered question becomes an inbox card after it."""
FAST_TICK = timedelta(minutes=5)
"""How often the runner runs the bot's inbox sweep in the live stretch (every other hour before)."""

FORUM = "questions"
"""The forum channel; the others are #announcements, #general, #help and #mod-inbox."""

# Messages per hour of the day (UTC; members in Europe and the Americas) and per weekday.
HOUR_WEIGHTS = (4, 3, 2, 2, 1, 1, 1, 2, 3, 4, 5, 6, 7, 7, 8, 9, 10, 11, 12, 13, 13, 11, 8, 6)
WEEKDAY_WEIGHTS = (0.85, 0.9, 0.95, 0.95, 1.1, 1.35, 1.3)
PRE_BOT_LIMIT = 90
"""At most this many messages per channel before the bot joins: its first catch-up reads them
(simcord 3.2 pages ``after=`` history newest page first, so one page is what it reads whole)."""


@dataclass(frozen=True, slots=True)
class Person:
    key: str
    name: str
    joined_at: datetime
    left_at: datetime | None = None
    staff: bool = False
    owner: bool = False
    chattiness: float = 0.0
    """Relative share of the chat (0: a lurker)."""
    helpfulness: float = 0.0
    from_giveaway: bool = False

    def present(self, at: datetime) -> bool:
        return self.joined_at <= at and (self.left_at is None or at < self.left_at)


@dataclass(frozen=True, slots=True)
class Message:
    key: str
    at: datetime
    author: str
    channel: str
    text: str
    thread: str | None = None
    """The key of the message whose thread (or forum post) this is in."""
    reply_to: str | None = None
    mentions: tuple[str, ...] = ()
    question: bool = False
    post_title: str | None = None
    """This message opens a forum post with this title."""


@dataclass(frozen=True, slots=True)
class ThreadStart:
    at: datetime
    message: str
    name: str
    owner: str


@dataclass(frozen=True, slots=True)
class Reaction:
    at: datetime
    message: str
    person: str
    emoji: str


@dataclass(frozen=True, slots=True)
class Membership:
    at: datetime
    person: str
    joined: bool


@dataclass(frozen=True, slots=True)
class ModeratorAction:
    """A moderator presses a button on the inbox card of a question."""

    at: datetime
    person: str
    question: str
    button: str


@dataclass(frozen=True, slots=True)
class Question:
    key: str
    asker: str
    channel: str
    at: datetime
    first_response_at: datetime | None
    """None: nobody answers before the demo ends."""
    answered_by_staff: bool | None = None


Event = Membership | Message | ThreadStart | Reaction | ModeratorAction


@dataclass(frozen=True, slots=True)
class Giveaway:
    announced_at: datetime
    closes_at: datetime
    drawn_at: datetime


@dataclass(frozen=True)
class Community:
    seed: int
    guild_name: str
    people: tuple[Person, ...]
    timeline: tuple[Event, ...]
    """Everything that happens, in order of time."""
    questions: tuple[Question, ...]
    giveaway: Giveaway
    opened_at: datetime = OPENED_AT
    bot_joins_at: datetime = BOT_JOINS_AT
    live_from: datetime = LIVE_FROM
    ends_at: datetime = ENDS_AT
    target: timedelta = TARGET
    by_key: dict[str, Person] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_key", {p.key: p for p in self.people})

    def messages(self) -> list[Message]:
        return [e for e in self.timeline if isinstance(e, Message)]

    def ticks(self) -> Iterator[datetime]:
        """When the runner runs the bot's scheduled jobs (the inbox sweep, due summaries): when
        it joins, then at every odd hour (09:00, the summaries' time, is one), then every few
        minutes in the live stretch. Weeks of sweeps every few minutes would only cost time."""
        yield self.bot_joins_at
        at = self.bot_joins_at.replace(minute=0, second=0) + HOUR
        while at <= self.ends_at:
            if at >= self.live_from or at.hour % 2 == 1:
                yield at
            at += HOUR if at < self.live_from else FAST_TICK
