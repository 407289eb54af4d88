"""Answer linking: which questions a new message responds to (the rules of METRICS.md).

A message responds to a question when it is by someone other than the asker, counted (bots never
count), and, in priority order, the first rule that finds a question:

1. **reply**: its reply reference is the question, or a later message by the asker in the same
   exchange (in the same channel or thread, at most ``EXCHANGE_WINDOW`` after the question);
2. **thread**: it is in the question's thread or forum post (a thread started from the question,
   the forum post it opens, or a thread the question was asked in);
3. **mention**: it mentions the asker in the same channel within ``MENTION_WINDOW`` of the
   question;
4. **inferred**: only where the channel's inferred linking is on, the answer linker's parent
   (see ``answer_linker``) stands in for a reply reference.

Everything here is pure: the storage layer gathers the questions and messages a batch can link to
and calls :func:`link_response` for each new message, so replaying messages in any order finds the
same links, and the first response of a question is the earliest of its links. Its values are
never changed once built; they are not frozen dataclasses only because the writer builds several
per message and a frozen constructor costs about five times as much.
"""

from __future__ import annotations

from bisect import bisect_right, insort
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

MENTION_WINDOW = timedelta(hours=2)
EXCHANGE_WINDOW = timedelta(hours=2)


class LinkRule(StrEnum):
    REPLY = "reply"
    THREAD = "thread"
    MENTION = "mention"
    INFERRED = "inferred"
    MARKED = "marked"
    """Staff or the asker marked the message as the answer by hand."""


@dataclass(slots=True, unsafe_hash=True)
class AskedQuestion:
    message_id: int
    asker_id: int
    channel_id: int
    thread_id: int | None
    asked_at: datetime

    @property
    def place(self) -> int:
        return self.thread_id if self.thread_id is not None else self.channel_id


@dataclass(slots=True, unsafe_hash=True)
class PostedMessage:
    """What linking needs to know about a message."""

    message_id: int
    guild_id: int
    author_id: int
    channel_id: int
    thread_id: int | None
    created_at: datetime
    counted: bool = True
    by_staff: bool = False
    reply_to_id: int | None = None
    inferred_reply_to_id: int | None = None
    mention_user_ids: tuple[int, ...] = ()

    @property
    def place(self) -> int:
        return self.thread_id if self.thread_id is not None else self.channel_id


@dataclass(slots=True, unsafe_hash=True)
class ResponseLink:
    question_id: int
    message_id: int
    guild_id: int
    responder_id: int
    responded_at: datetime
    by_staff: bool
    rule: LinkRule


@dataclass
class LinkContext:
    """The questions and messages that a batch of new messages may link to."""

    questions: dict[int, AskedQuestion] = field(default_factory=dict)
    messages: dict[int, PostedMessage] = field(default_factory=dict)
    """Reply targets (and inferred parents) that are not questions themselves."""
    _by_place: dict[int, list[AskedQuestion]] = field(default_factory=dict)
    _by_asker: dict[tuple[int, int], list[AskedQuestion]] = field(default_factory=dict)
    """Per place and asker, sorted by time: the mention and exchange rules look up one asker."""

    @classmethod
    def of(
        cls, questions: Iterable[AskedQuestion], messages: Iterable[PostedMessage] = ()
    ) -> LinkContext:
        context = cls()
        for question in questions:
            context.add_question(question)
        for message in messages:
            context.messages[message.message_id] = message
        return context

    def with_messages(self, messages: dict[int, PostedMessage]) -> LinkContext:
        """These questions (shared, not copied) with other reply targets."""
        return LinkContext(self.questions, messages, self._by_place, self._by_asker)

    def add_question(self, question: AskedQuestion) -> None:
        if question.message_id in self.questions:
            return
        self.questions[question.message_id] = question
        place = self._by_place.setdefault(question.place, [])
        insort(place, question, key=_asked_order)
        mine = self._by_asker.setdefault((question.place, question.asker_id), [])
        insort(mine, question, key=_asked_order)

    def in_place(self, place: int) -> Sequence[AskedQuestion]:
        return self._by_place.get(place, ())

    def latest_by(
        self, place: int, asker_id: int, at: datetime, window: timedelta
    ) -> AskedQuestion | None:
        """The asker's newest question in ``place`` asked in ``[at - window, at]``."""
        mine = self._by_asker.get((place, asker_id))
        if not mine:
            return None
        index = bisect_right(mine, at, key=_asked_at)
        if index == 0:
            return None
        question = mine[index - 1]
        return question if question.asked_at >= at - window else None


def _asked_order(question: AskedQuestion) -> tuple[datetime, int]:
    return question.asked_at, question.message_id


def _asked_at(question: AskedQuestion) -> datetime:
    return question.asked_at


def link_response(message: PostedMessage, context: LinkContext) -> list[ResponseLink]:
    """The questions ``message`` responds to, by the first rule that finds any."""
    if not message.counted:
        return []
    # Each rule runs only when the ones before it found nothing (this runs for every message).
    rule = LinkRule.REPLY
    found = _by_reference(message, message.reply_to_id, context)
    if not found:
        rule, found = LinkRule.THREAD, _in_thread(message, context)
    if not found:
        rule, found = LinkRule.MENTION, _by_mention(message, context)
    if not found:
        rule = LinkRule.INFERRED
        found = _by_reference(message, message.inferred_reply_to_id, context)
    return [_link(question, message, rule) for question in found]


def _link(question: AskedQuestion, message: PostedMessage, rule: LinkRule) -> ResponseLink:
    return ResponseLink(
        question.message_id,
        message.message_id,
        message.guild_id,
        message.author_id,
        message.created_at,
        message.by_staff,
        rule,
    )


def _answerable(question: AskedQuestion, message: PostedMessage) -> bool:
    return question.asker_id != message.author_id and (
        question.asked_at,
        question.message_id,
    ) < (message.created_at, message.message_id)


def _by_reference(
    message: PostedMessage, target_id: int | None, context: LinkContext
) -> list[AskedQuestion]:
    if target_id is None:
        return []
    question = context.questions.get(target_id)
    if question is not None:
        return [question] if _answerable(question, message) else []
    target = context.messages.get(target_id)
    if target is None or target.author_id == message.author_id:
        return []
    # A reply to the asker's follow-up ("also, I tried X") answers their question.
    exchange = context.latest_by(target.place, target.author_id, target.created_at, EXCHANGE_WINDOW)
    return [exchange] if exchange is not None and _answerable(exchange, message) else []


def _in_thread(message: PostedMessage, context: LinkContext) -> list[AskedQuestion]:
    if message.thread_id is None:
        return []
    found: list[AskedQuestion] = []
    starter = context.questions.get(message.thread_id)
    if starter is not None and _answerable(starter, message):
        found.append(starter)
    found.extend(
        q
        for q in context.in_place(message.thread_id)
        if q is not starter and _answerable(q, message)
    )
    return found


def _by_mention(message: PostedMessage, context: LinkContext) -> list[AskedQuestion]:
    found: list[AskedQuestion] = []
    for user_id in dict.fromkeys(message.mention_user_ids):
        if user_id == message.author_id:
            continue
        question = context.latest_by(message.place, user_id, message.created_at, MENTION_WINDOW)
        if question is not None and _answerable(question, message):
            found.append(question)
    return found


def first_links(links: Iterable[ResponseLink]) -> Mapping[int, tuple[ResponseLink, ...]]:
    """Per question, its earliest response and its earliest staff response (if different)."""
    first: dict[int, ResponseLink] = {}
    first_staff: dict[int, ResponseLink] = {}
    for link in links:
        key = (link.responded_at, link.message_id)
        known = first.get(link.question_id)
        if known is None or key < (known.responded_at, known.message_id):
            first[link.question_id] = link
        if link.by_staff:
            known = first_staff.get(link.question_id)
            if known is None or key < (known.responded_at, known.message_id):
                first_staff[link.question_id] = link
    return {
        qid: (link, first_staff[qid]) if qid in first_staff else (link,)
        for qid, link in first.items()
    }
