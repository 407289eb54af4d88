"""The recent questions and messages, kept by the writer so that linking reads nothing back.

Linking a new message needs the questions it may answer (by id, in its thread, and those its
mentions' authors asked nearby) and the messages it replies to. Read from the database, that is
a handful of queries per batch, each returning again the questions the previous batch read.

The window holds every question asked since its ``floor`` (or with an id from then on) of the
guilds it has seen, and the messages this writer stored. It is only trusted when that is
certain, otherwise the caller reads the database as before:

- at each batch, one indexed count per guild must equal the window's (questions are only ever
  added, except by erasure): another process adding questions (an import) makes the window
  read that guild again;
- what a message can link to must lie inside the window: ids and times from the floor on;
- a failed transaction, or a member's erasure, empties the window (see :meth:`forget`).

Messages are only remembered as stored by this writer (the first write of a message wins), so
a remembered reply target is exactly what the database holds. ``read_context`` is the reading
of the database it stands in for, used whenever it cannot answer.
"""

from __future__ import annotations

import operator
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.linking import (
    EXCHANGE_WINDOW,
    MENTION_WINDOW,
    AskedQuestion,
    LinkContext,
    PostedMessage,
)
from bot.domain.records import QuestionAsked
from bot.domain.snowflakes import snowflake_at
from storage.statements import MENTIONS, MESSAGES, QUESTIONS

WINDOW = max(MENTION_WINDOW, EXCHANGE_WINDOW)
"""How far back a new message can link (by time)."""
REACH = 4 * WINDOW
"""How far the floor may trail the newest message before it is moved up (and older questions
dropped)."""
MESSAGES_KEPT = 50_000
"""Messages remembered as reply targets; the older half is dropped beyond this."""

Reader = Callable[[set[int]], Awaitable[Sequence[PostedMessage]]]

_TARGET = operator.attrgetter("guild_id", "author_id", "channel_id", "thread_id", "created_at")
"""A remembered message's fields, in PostedMessage's order (after its id)."""

_Q = QUESTIONS.c
_COLUMNS = (_Q.message_id, _Q.asker_id, _Q.channel_id, _Q.thread_id, _Q.asked_at, _Q.guild_id)


class LinkWindow:
    def __init__(self) -> None:
        self.forget()

    def forget(self) -> None:
        """Drop everything: the next batch reads the database and starts a new window."""
        self.floor: datetime | None = None
        self._floor_id = 0
        self._questions: dict[int, tuple[int, AskedQuestion]] = {}
        """Question id -> (guild, question), every one held."""
        self._counts: dict[int, int] = {}
        self._context = LinkContext()
        self.messages: dict[int, tuple[Any, ...]] = {}
        """Message id -> what a reply to it needs, as a plain tuple (which the garbage
        collector does not follow; the window can hold many)."""

    # -- kept up to date by the writer, inside its transaction ---------------------------------

    def asked(self, questions: Iterable[QuestionAsked]) -> None:
        """Questions now in the database (inserted, or there already)."""
        if self.floor is None:
            return
        for q in questions:
            self._hold(q.guild_id, _question(q))

    def written(self, messages: Iterable[PostedMessage]) -> None:
        """Messages this writer has just inserted (not those that were there before)."""
        self.messages.update((m.message_id, _TARGET(m)) for m in messages)
        if len(self.messages) > MESSAGES_KEPT:
            keep = sorted(self.messages)[len(self.messages) // 2 :]
            self.messages = {mid: self.messages[mid] for mid in keep}

    # -- read by linking --------------------------------------------------------------------------

    async def context(
        self, conn: AsyncConnection, messages: Sequence[PostedMessage], read: Reader
    ) -> LinkContext | None:
        """What ``messages`` can link to, when the window holds all of it; None otherwise.
        ``read`` reads reply targets the window does not remember from the database."""
        needed = min(m.created_at for m in messages) - WINDOW
        if self.floor is None or needed - self.floor > REACH:
            self._move(needed)
        if self.floor is None or needed < self.floor:
            return None
        if any(m.thread_id is not None and m.thread_id < self._floor_id for m in messages):
            return None  # a thread from before the window: its questions may be older
        await self._check(conn, {m.guild_id for m in messages})
        wanted = _targets(messages) - self._context.questions.keys()
        if any(target < self._floor_id for target in wanted):
            return None  # it may be a question from before the window
        targets = {t: PostedMessage(t, *self.messages[t]) for t in wanted if t in self.messages}
        unknown = wanted - targets.keys()
        if unknown:
            targets.update((m.message_id, m) for m in await read(unknown))
        # A reply to the asker's follow-up looks for their question before it (the exchange).
        for target in targets.values():
            if target.created_at - WINDOW < self.floor or (
                target.thread_id is not None and target.thread_id < self._floor_id
            ):
                return None
        return self._context.with_messages(targets)

    # -- inside --------------------------------------------------------------------------------

    def _holds(self, question: AskedQuestion) -> bool:
        floor = self.floor
        return floor is not None and (
            question.asked_at >= floor or question.message_id >= self._floor_id
        )

    def _hold(self, guild_id: int, question: AskedQuestion) -> None:
        if question.message_id in self._questions or not self._holds(question):
            return
        self._questions[question.message_id] = (guild_id, question)
        self._counts[guild_id] = self._counts.get(guild_id, 0) + 1
        self._context.add_question(question)

    def _move(self, floor: datetime) -> None:
        """Start the window at ``floor`` (dropping what is older): guilds are read again as
        their batches come (their counts then differ)."""
        self.floor, self._floor_id = floor, snowflake_at(floor)
        self._keep(lambda _guild_id: True)

    def _keep(self, guild: Callable[[int], bool]) -> None:
        """Hold again only the questions of these guilds that the floor still holds."""
        kept = [(g, q) for g, q in self._questions.values() if guild(g)]
        self._questions, self._counts, self._context = {}, {}, LinkContext()
        for guild_id, question in kept:
            self._hold(guild_id, question)

    async def _check(self, conn: AsyncConnection, guilds: set[int]) -> None:
        """Read again every guild whose questions in the database differ from the window's."""
        held = or_(_Q.asked_at >= self.floor, _Q.message_id >= self._floor_id)
        found = await conn.execute(
            select(_Q.guild_id, func.count())
            .where(_Q.guild_id.in_(guilds), held)
            .group_by(_Q.guild_id)
        )
        counts: dict[int, int] = {guild_id: count for guild_id, count in found}
        stale = {g for g in guilds if counts.get(g, 0) != self._counts.get(g, 0)}
        if not stale:
            return
        self._keep(lambda guild_id: guild_id not in stale)
        rows = await conn.execute(select(*_COLUMNS).where(_Q.guild_id.in_(stale), held))
        for row in rows:
            self._hold(row.guild_id, _question(row))


# -- reading the database (what the window stands in for) ----------------------------------


POSTED_COLUMNS = (
    MESSAGES.c.id,
    MESSAGES.c.guild_id,
    MESSAGES.c.author_id,
    MESSAGES.c.channel_id,
    MESSAGES.c.thread_id,
    MESSAGES.c.created_at,
    MESSAGES.c.counted,
    MESSAGES.c.author_is_staff,
    MESSAGES.c.reply_to_id,
)


async def read_context(conn: AsyncConnection, messages: Sequence[PostedMessage]) -> LinkContext:
    """What ``messages`` can link to, read from the database (when the window cannot say)."""
    q = QUESTIONS.c
    guilds = {m.guild_id for m in messages}
    by_id = {m.message_id: m for m in messages}
    target_ids = _targets(messages)
    threads = {m.thread_id for m in messages if m.thread_id is not None}
    known = await conn.execute(
        select(*_COLUMNS).where(q.guild_id.in_(guilds), q.message_id.in_(target_ids | threads))
    )
    context = LinkContext.of(map(_question, known))
    missing = target_ids - context.questions.keys()
    targets = [by_id[i] for i in missing if i in by_id]
    unknown = missing - by_id.keys()
    if unknown:
        targets += await read_messages(conn, unknown)
    for target in targets:
        context.messages[target.message_id] = target
        if target.thread_id is not None:
            threads.add(target.thread_id)
    channels = {m.channel_id for m in (*messages, *targets) if m.thread_id is None}
    times = [m.created_at for m in (*messages, *targets)]
    low, high = min(times) - WINDOW, max(times)
    # In a channel, only a mentioned member's question (the mention rule) or a reply target's
    # author's (the exchange rule) can be answered: a busy channel has many more.
    askers = {u for m in messages for u in m.mention_user_ids} | {t.author_id for t in targets}
    conditions: list[ColumnElement[bool]] = []
    if threads:
        conditions.append(q.thread_id.in_(threads))
    if channels and askers:
        conditions.append(
            and_(
                q.channel_id.in_(channels),
                q.thread_id.is_(None),
                q.asker_id.in_(askers),
                q.asked_at >= low,
                q.asked_at <= high,
            )
        )
    if conditions:
        nearby = await conn.execute(
            select(*_COLUMNS).where(q.guild_id.in_(guilds), or_(*conditions))
        )
        for row in nearby:
            context.add_question(_question(row))
    return context


def _targets(messages: Sequence[PostedMessage]) -> set[int]:
    """The messages these reply to (by reference, or as the answer linker inferred)."""
    return {
        target
        for m in messages
        for target in (m.reply_to_id, m.inferred_reply_to_id)
        if target is not None
    }


async def read_messages(conn: AsyncConnection, ids: set[int]) -> list[PostedMessage]:
    """Stored messages by id (those not stored are left out)."""
    return await posted_messages(conn, select(*POSTED_COLUMNS).where(MESSAGES.c.id.in_(ids)))


async def posted_messages(conn: AsyncConnection, query: Any) -> list[PostedMessage]:
    rows = list(await conn.execute(query))
    if not rows:
        return []
    ids = [row.id for row in rows]
    mentions: dict[int, list[int]] = {}
    found = await conn.execute(
        select(MENTIONS.c.message_id, MENTIONS.c.target_id).where(
            MENTIONS.c.message_id.in_(ids), MENTIONS.c.kind == "user"
        )
    )
    for mid, target in found:
        mentions.setdefault(mid, []).append(target)
    return [
        PostedMessage(
            message_id=row.id,
            guild_id=row.guild_id,
            author_id=row.author_id,
            channel_id=row.channel_id,
            thread_id=row.thread_id,
            created_at=row.created_at,
            counted=row.counted,
            by_staff=row.author_is_staff,
            reply_to_id=row.reply_to_id,
            mention_user_ids=tuple(sorted(mentions.get(row.id, ()))),
        )
        for row in rows
    ]


def _question(row: Any) -> AskedQuestion:
    """From a questions row, or a QuestionAsked (the same names)."""
    return AskedQuestion(row.message_id, row.asker_id, row.channel_id, row.thread_id, row.asked_at)
