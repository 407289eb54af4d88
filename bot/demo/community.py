"""The demo's community: a seeded generator of its plan (``bot.demo.plan``).

The same seed gives the same plan. It follows the rhythms of a real server: busy evenings and
weekends, a few very active members and a long tail of lurkers, questions answered by staff and by
the community after realistic delays (some hours late, some never), replies with and without
Discord's reply feature, reactions, threads, forum posts, and a giveaway that brings a spike of
joins and then fast churn.
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.demo import phrases as say
from bot.demo.plan import (
    BOT_JOINS_AT,
    DAY,
    ENDS_AT,
    FIRST_WEEK,
    FORUM,
    HOUR,
    HOUR_WEIGHTS,
    LIVE_FROM,
    MINUTE,
    OPENED_AT,
    PRE_BOT_LIMIT,
    TARGET,
    WEEKDAY_WEIGHTS,
    Community,
    Event,
    Giveaway,
    Membership,
    Message,
    ModeratorAction,
    Person,
    Question,
    Reaction,
    ThreadStart,
)


def build(seed: int = 7) -> Community:
    """The community of this seed: about 420 people and 3,800 messages over nine weeks."""
    return _Generator(random.Random(seed), seed).build()  # noqa: S311 - a plan, not a secret


@dataclass(frozen=True, slots=True)
class _Plan:
    at: datetime
    asker: str
    channel: str
    delay: timedelta | None
    """Until the first answer; None: never answered."""
    staff: bool | None = None
    live: bool = False


class _Generator:
    def __init__(self, rng: random.Random, seed: int) -> None:
        self.rng = rng
        self.seed = seed
        self.people: list[Person] = []
        self.events: list[Event] = []
        self.questions: list[Question] = []
        self.plans: list[_Plan] = []
        self.live_questions: list[str] = []
        self.asking: dict[str, list[tuple[datetime, datetime]]] = {}
        self.pre_bot: dict[str, int] = {}
        self._keys = itertools.count(1)
        self._names: set[str] = set()

    # -- helpers -------------------------------------------------------------------------------

    def _fill(self, text: str) -> str:
        r = self.rng
        return text.format(
            thing=r.choice(say.THINGS),
            resource=r.choice(say.RESOURCES),
            platform=r.choice(say.PLATFORMS),
        )

    def _name(self) -> str:
        while True:
            name = "_".join(self.rng.choice(words) for words in say.NAMES)
            if name in self._names:
                name += str(self.rng.randint(2, 99))
            if name not in self._names:
                self._names.add(name)
                return name

    def _time_in(self, day: datetime) -> datetime:
        hour = self.rng.choices(range(24), HOUR_WEIGHTS)[0]
        return day + timedelta(hours=hour, seconds=self.rng.randrange(3600))

    def _poisson(self, mean: float) -> int:
        threshold, k, p = math.exp(-mean), 0, 1.0
        while True:
            p *= self.rng.random()
            if p <= threshold:
                return k
            k += 1

    def _busy(self, key: str, start: datetime, end: datetime) -> bool:
        """Whether someone's own question waits then: words by them, replied to or mentioned,
        would count as answers to it (the answer-linking rules of METRICS.md)."""
        return any(a < end and start < b for a, b in self.asking.get(key, ()))

    def _pick(
        self, at: datetime, weight: str, *, staff: bool = False, exclude: tuple[str, ...] = ()
    ) -> Person | None:
        until = at + 45 * MINUTE
        found = [
            p
            for p in self.people
            if p.staff == staff
            and getattr(p, weight) > 0
            and p.key not in exclude
            and p.present(at)
            and p.present(until)
            and not self._busy(p.key, at, until)
        ]
        if not found:
            return None
        return self.rng.choices(found, [getattr(p, weight) for p in found])[0]

    def _message(
        self, at: datetime, author: str, channel: str, text: str, **extra: Any
    ) -> str | None:
        """Adds a message to the plan; None when it falls after the end (or the pre-bot cap)."""
        if at >= ENDS_AT:
            return None
        if at < BOT_JOINS_AT:
            place = extra.get("thread") or channel
            if self.pre_bot.get(place, 0) >= PRE_BOT_LIMIT:
                return None
            self.pre_bot[place] = self.pre_bot.get(place, 0) + 1
        key = f"m{next(self._keys):05d}"
        self.events.append(Message(key, at, author, channel, text, **extra))
        return key

    def _react(
        self, at: datetime, message: str | None, author: str, count: int, emoji: str
    ) -> None:
        taken = {author}
        for _ in range(count if message else 0):
            when = at + self.rng.uniform(1, 90) * MINUTE
            found = [p for p in self.people if p.present(when) and p.key not in taken]
            if not found or when >= ENDS_AT:
                return
            person = self.rng.choices(found, [0.3 + p.chattiness for p in found])[0]
            taken.add(person.key)
            self.events.append(Reaction(when, str(message), person.key, emoji))

    # -- the plan ------------------------------------------------------------------------------

    def build(self) -> Community:
        final_week = FIRST_WEEK + 7 * 7 * DAY  # its summary is the live stretch's
        giveaway = Giveaway(
            announced_at=final_week + 2 * DAY + 17 * HOUR,  # Wednesday evening
            closes_at=final_week + 4 * DAY + 20 * HOUR,
            drawn_at=final_week + 5 * DAY + 18 * HOUR,  # Saturday
        )
        self._members(giveaway)
        self._plan_questions()
        day = OPENED_AT
        while day < ENDS_AT:
            self._day(day)
            day += DAY
        self._giveaway(giveaway)
        moderator = self.people[1].key
        first = self.live_questions[0]
        self.events.append(ModeratorAction(LIVE_FROM + 100 * MINUTE, moderator, first, "Claim"))
        self.events.append(ModeratorAction(LIVE_FROM + 125 * MINUTE, moderator, first, "Resolved"))
        timeline = sorted(self.events, key=lambda e: e.at)  # stable: causes stay first
        return Community(
            self.seed,
            "Lanternfall Community",
            tuple(self.people),
            tuple(timeline),
            tuple(sorted(self.questions, key=lambda q: q.at)),
            giveaway,
        )

    def _members(self, giveaway: Giveaway) -> None:
        r = self.rng
        for i, name in enumerate(("mara", "oskar", "ines", "tobi")):
            joined = OPENED_AT + i * 7 * MINUTE
            self.people.append(Person(f"s{i}", name, joined, None, True, i == 0, 0.6, 1 + i % 2))
        # (joined at, chance to leave, from the giveaway): founders (most on opening day), a
        # steady trickle of newcomers, and the giveaway's entrants (most in its first hours).
        lives = []
        for _ in range(215):
            lives.append(
                (self._time_in(OPENED_AT + DAY * min(3, int(r.expovariate(1.2)))), 0.03, False)
            )
        day = FIRST_WEEK
        while day < LIVE_FROM - 6 * HOUR:
            for _ in range(self._poisson(2.3 * WEEKDAY_WEIGHTS[day.weekday()])):
                lives.append((self._time_in(day), 0.25, False))
            day += DAY
        span = (giveaway.closes_at - giveaway.announced_at).total_seconds()
        for _ in range(85):
            offset = min(span, r.expovariate(4 / span))
            lives.append((giveaway.announced_at + timedelta(seconds=offset), 0.7, True))
        rank = itertools.count(1)
        for joined_at, leaves, from_giveaway in sorted(lives):
            left_at: datetime | None = None
            if r.random() < leaves:
                if from_giveaway:
                    left_at = giveaway.drawn_at + r.expovariate(1 / 16) * HOUR
                else:
                    left_at = max(joined_at, BOT_JOINS_AT) + r.uniform(1, 25) * DAY
                left_at = left_at if left_at < LIVE_FROM + 3 * HOUR else None
            lurker = from_giveaway or r.random() < (0.45 if joined_at < FIRST_WEEK else 0.6)
            chat = 0.0 if lurker else 1 / next(rank) ** 1.05 + 0.02
            helps = chat * 3 if chat > 0.08 else (0.05 if chat else 0.0)
            key = f"u{len(self.people):03d}"
            name = self._name()
            self.people.append(
                Person(key, name, joined_at, left_at, False, False, chat, helps, from_giveaway)
            )
        for p in self.people:
            if not p.owner:
                self.events.append(Membership(p.joined_at, p.key, True))
            if p.left_at is not None:
                self.events.append(Membership(p.left_at, p.key, False))

    def _plan_questions(self) -> None:
        """Who asks what and when, first: answers and chat then keep clear of waiting askers."""
        r = self.rng
        day = OPENED_AT
        while day < LIVE_FROM - 6 * HOUR:
            factor = WEEKDAY_WEIGHTS[day.weekday()] * (0.5 if day < FIRST_WEEK else 1.0)
            for channel, mean in (("help", 2.0), ("general", 1.5), (FORUM, 0.8)):
                for _ in range(self._poisson(mean * factor)):
                    outcome = r.choices(("soon", "late", "never"), (80, 14, 6))[0]
                    if outcome == "soon":  # minutes: a median of a quarter of an hour
                        delay = max(1.0, r.lognormvariate(math.log(14), 0.9))
                    else:  # hours: overnight, or when someone who knows comes by
                        delay = 60 * math.exp(r.uniform(math.log(1.5), math.log(30)))
                    wait = None if outcome == "never" else min(delay, 30 * 60) * MINUTE
                    self._plan(self._time_in(day), channel, wait)
            day += DAY
        # The live stretch: (minutes after 06:00, channel, minutes until answered or None).
        script = (
            (20, "help", None),
            (35, "general", 13),
            (50, FORUM, 135),
            (70, "help", None),
            (85, "general", 15),
            (125, "help", None),
            (150, "general", None),
            (200, "help", 11),
        )
        for minutes, channel, answer_after in script:
            wait = None if answer_after is None else answer_after * MINUTE
            staff = channel == FORUM or None
            self._plan(LIVE_FROM + minutes * MINUTE, channel, wait, staff=staff, live=True)

    def _plan(self, at: datetime, channel: str, delay: timedelta | None, **kw: Any) -> None:
        found = [
            p
            for p in self.people
            if not p.staff
            and not p.from_giveaway
            and p.present(at)
            and p.present(at + 3 * HOUR)
            and not self._busy(p.key, at - 3 * HOUR, at + 3 * HOUR)
        ]
        if found:
            weights = [0.3 + p.chattiness + (at - p.joined_at < 10 * DAY) for p in found]
            asker = self.rng.choices(found, weights)[0]
            self.asking.setdefault(asker.key, []).append((at - 10 * MINUTE, at + 150 * MINUTE))
            self.plans.append(_Plan(at, asker.key, channel, delay, **kw))

    def _day(self, day: datetime) -> None:
        r = self.rng
        week = (day - FIRST_WEEK).days // 7
        factor = WEEKDAY_WEIGHTS[day.weekday()] * (1 + 0.03 * max(0, week))
        for _ in range(self._poisson(5 * factor * (0.3 if day < FIRST_WEEK else 1))):
            self._burst(self._time_in(day))
        if day.weekday() == 1 and day >= FIRST_WEEK:
            text = f"**Patch 1.{week + 3}** is live: a new {r.choice(say.THINGS)} and many fixes."
            self._announce(day + 16 * HOUR, text, 8, 30)
        if day.weekday() == 4 and week % 2 == 0:
            self._announce(day + 18 * HOUR, "Community night this Saturday, 19:00 UTC! 🏮", 6, 20)
        for plan in self.plans:
            if day <= plan.at < day + DAY:
                key = self._ask(plan)
                if plan.live and key is not None:
                    self.live_questions.append(key)
                    self._burst(plan.at - 4 * MINUTE)

    def _announce(self, at: datetime, text: str, low: int, high: int) -> str | None:
        author = self.rng.choice([p for p in self.people if p.staff])
        key = self._message(at, author.key, "announcements", text)
        self._react(at, key, author.key, self.rng.randint(low, high), self.rng.choice(("🎉", "❤️")))
        return key

    def _burst(self, start: datetime) -> None:
        """A conversation in #general: a few people, replies with and without the reply feature."""
        r = self.rng
        people: list[Person] = []
        for _ in range(min(6, 2 + self._poisson(1.5))):
            person = self._pick(start, "chattiness", staff=r.random() < 0.08)
            if person is not None and person not in people:
                people.append(person)
        if len(people) < 2:
            return
        at, sent = start, list[tuple[str, str, datetime]]()
        for _ in range(3 + self._poisson(5)):
            author = r.choice(people)
            at += timedelta(seconds=10 + r.expovariate(1 / 80))
            earlier = [k for k, a, _ in sent[-3:] if a != author.key]
            text, reply, mentions = self._fill(r.choice(say.CHAT)), None, tuple[str, ...]()
            if earlier and r.random() < 0.25:
                reply, text = r.choice(earlier), r.choice(say.CHAT_REPLIES)
            elif r.random() < 0.06:
                other = r.choice([p for p in people if p is not author])
                text, mentions = f"{{@{other.key}}} {text}", (other.key,)
            key = self._message(at, author.key, "general", text, reply_to=reply, mentions=mentions)
            if key is not None:
                sent.append((key, author.key, at))
                if r.random() < 0.25:
                    self._react(at, key, author.key, r.randint(1, 3), r.choice(say.EMOJI))
        if sent and start >= BOT_JOINS_AT and r.random() < 0.12:
            self._thread(sent[0][2], sent[0][0], people)

    def _thread(self, started: datetime, starter: str, people: list[Person]) -> None:
        r = self.rng
        at = started + r.uniform(2, 10) * MINUTE
        owner = r.choice(people)
        if at >= ENDS_AT:
            return
        self.events.append(ThreadStart(at, starter, r.choice(say.THREAD_NAMES), owner.key))
        for _ in range(r.randint(3, 8)):
            at += r.uniform(3, 50) * MINUTE
            author = self._pick(at, "chattiness") or owner
            if author.present(at) and not self._busy(author.key, at, at + MINUTE):
                self._message(at, author.key, "general", r.choice(say.THREAD_CHAT), thread=starter)

    def _ask(self, plan: _Plan) -> str | None:
        """A question, the asker's follow-ups, and the answers (if any) after its delay."""
        r, at, asker, channel = self.rng, plan.at, plan.asker, plan.channel
        title = None
        if channel == FORUM:
            title, text = (self._fill(t) for t in r.choice(say.FORUM_POSTS))
        else:
            text = self._fill(
                r.choice(say.HELP_QUESTIONS if channel == "help" else say.GENERAL_QUESTIONS)
            )
        key = self._message(at, asker, channel, text, question=True, post_title=title)
        if key is None:
            return None
        place: dict[str, Any] = {"thread": key} if channel == FORUM else {"reply_to": key}
        if r.random() < 0.3:
            clarification = r.choice(say.CLARIFICATIONS)
            self._message(at + r.uniform(1, 4) * MINUTE, asker, channel, clarification, **place)
        if plan.delay is None:
            if r.random() < 0.4:
                bump = at + r.uniform(3, 9) * HOUR
                self._message(bump, asker, channel, r.choice(say.BUMPS), **place)
            self.questions.append(Question(key, asker, channel, at, None))
            return key
        answered_at = at + plan.delay
        staff_share = 0.45 if 9 <= answered_at.hour < 22 else 0.15
        staff = plan.staff if plan.staff is not None else r.random() < staff_share
        who = self._pick(answered_at, "helpfulness", staff=staff, exclude=(asker,))
        who = who or self._pick(answered_at, "helpfulness", staff=True)
        if who is None:
            raise RuntimeError("no staff member present: staff never leave, so this cannot be")
        words = self._fill(r.choice(say.STAFF_ANSWERS if who.staff else say.ANSWERS))
        mentions: tuple[str, ...] = ()
        reply = dict(place)
        if channel != FORUM and plan.delay < 90 * MINUTE and r.random() < 0.3:
            words, mentions, reply = f"{{@{asker}}} {words}", (asker,), {}  # no reply feature
        answer = self._message(answered_at, who.key, channel, words, mentions=mentions, **reply)
        first = answered_at if answer is not None else None
        self.questions.append(
            Question(key, asker, channel, at, first, who.staff if first else None)
        )
        if answer is None:
            return key
        if plan.delay < TARGET and r.random() < 0.35:
            other = self._pick(answered_at + 5 * MINUTE, "helpfulness", exclude=(asker, who.key))
            if other is not None:
                when = answered_at + r.uniform(2, 15) * MINUTE
                self._message(when, other.key, channel, r.choice(say.SECOND_ANSWERS), **place)
        thanks_at = answered_at + r.uniform(2, 25) * MINUTE
        if r.random() < 0.65:
            where = place if channel == FORUM else {"reply_to": answer}
            self._message(thanks_at, asker, channel, r.choice(say.THANKS), **where)
        if r.random() < 0.35 and thanks_at < ENDS_AT:
            self.events.append(Reaction(thanks_at, answer, asker, "✅"))
        return key

    def _giveaway(self, giveaway: Giveaway) -> None:
        r = self.rng
        text = (
            "🎉 **Giveaway!** Five copies of the soundtrack. React with 🎉 to enter; winners "
            "are drawn on Saturday."
        )
        key = self._announce(giveaway.announced_at, text, 25, 35)
        for p in self.people:
            if p.from_giveaway and key is not None:
                at = p.joined_at + r.uniform(1, 20) * MINUTE
                self.events.append(Reaction(at, key, p.key, "🎉"))
                if r.random() < 0.4:
                    self._message(at + MINUTE, p.key, "general", r.choice(say.HELLOS))
        thanks = "Congratulations to our five winners, and thanks to everyone who joined! 💛"
        self._announce(giveaway.drawn_at, thanks, 10, 25)
