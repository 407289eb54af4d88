"""Questions, their responses and resolutions, kept in the same transaction as the messages.

Answer linking itself is pure (``bot.domain.linking``); this module gathers what a batch can link
to, stores the links in ``responses`` and keeps each question's first-response fields equal to its
earliest link. Every step is a minimum or an idempotent insert, so the questions table ends up the
same whatever order the messages, questions, deletions and resolutions arrive in.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.linking import (
    PostedMessage,
    ResponseLink,
    first_links,
    link_response,
)
from bot.domain.records import MessageDelete, MessageRecord, QuestionAsked, QuestionResolved
from bot.domain.snowflakes import snowflake_at
from storage.link_window import (
    POSTED_COLUMNS,
    WINDOW,
    LinkWindow,
    posted_messages,
    read_context,
    read_messages,
)
from storage.statements import (
    GUILD_HOURS,
    MENTIONS,
    MESSAGES,
    QUESTIONS,
    RESPONSES,
    TOMBSTONES,
    execute_many,
    insert_new_rows,
)


def posted(r: MessageRecord) -> PostedMessage:
    # Positional, in the fields' order: keyword arguments cost three times as much.
    return PostedMessage(
        r.message_id,
        r.guild_id,
        r.author_id,
        r.channel_id,
        r.thread_id,
        r.created_at,
        r.counted,
        r.author_is_staff,  # by_staff
        r.reply_to_id,
        r.inferred_reply_to_id,
        r.mention_user_ids,
    )


def _may_respond(message: PostedMessage) -> bool:
    """Only these can link to anything; most chat (top level, no mention) skips the lookups."""
    return message.counted and (
        message.reply_to_id is not None
        or message.thread_id is not None
        or bool(message.mention_user_ids)
        or message.inferred_reply_to_id is not None
    )


class QuestionApplier:
    _window: LinkWindow | None = None
    _counted_until: datetime | None = None
    """No counted message stored before the current batch is newer than this (an upper bound,
    read once from the hourly rollups, then raised by every batch; ``None``: not read yet)."""
    _counted_known = False

    async def _stored_counted_until(self, conn: AsyncConnection) -> datetime | None:
        if not self._counted_known:
            newest = await conn.scalar(select(func.max(GUILD_HOURS.c.hour)))
            if newest is not None:
                self._counted_until = newest + timedelta(hours=1)
            else:  # rollups empty: messages written by other means (or none at all)
                self._counted_until = await conn.scalar(select(func.max(MESSAGES.c.created_at)))
            self._counted_known = True
        return self._counted_until

    def _counted_stored(self, records: Iterable[MessageRecord]) -> None:
        """Raise the bound for a batch's new messages (before its commit: too high is safe)."""
        times = [r.created_at for r in records if r.counted]
        if times:
            newest = max(times)
            if self._counted_until is None or newest > self._counted_until:
                self._counted_until = newest

    async def _ask(
        self, conn: AsyncConnection, asked: Sequence[QuestionAsked], counted_until: datetime | None
    ) -> None:
        """Record new questions; ``counted_until`` bounds the counted messages stored earlier."""
        unique = {q.message_id: q for q in asked}
        inserted = await insert_new_rows(
            conn,
            QUESTIONS,
            ("message_id",),
            [
                {
                    "message_id": q.message_id,
                    "guild_id": q.guild_id,
                    "channel_id": q.channel_id,
                    "thread_id": q.thread_id,
                    "asker_id": q.asker_id,
                    "asked_at": q.asked_at,
                    "source": q.source.value,
                    "state": "open",
                    "target_minutes": q.target_minutes,
                }
                for q in unique.values()
            ],
            near="message_id",
        )
        new = [unique[row[0]] for row in inserted]
        self.link_window.asked(unique.values())
        if not new:
            return
        ids = [q.message_id for q in new]
        # A question deleted before it was recorded (replayed out of order) is withdrawn.
        tombstoned = await conn.execute(
            select(TOMBSTONES.c.message_id, TOMBSTONES.c.deleted_at).where(
                TOMBSTONES.c.message_id.in_(ids)
            )
        )
        deletes = [MessageDelete(mid, 0, 0, at) for mid, at in tombstoned]
        # A response comes after its question: when every counted message stored before this
        # batch is older than a question, only this batch's messages can answer it, and those
        # are linked with the rest of the batch. Live questions all take this shortcut.
        earlier = [q for q in new if counted_until is not None and q.asked_at <= counted_until]
        if earlier:
            await self._responses_before(conn, earlier)
        if deletes:
            await self._withdraw(conn, deletes)

    async def _responses_before(self, conn: AsyncConnection, new: Sequence[QuestionAsked]) -> None:
        """Messages stored before their question was (a flag, or a replay) may answer it.

        Three indexed lookups for the whole batch (replies to, messages in the threads of, and
        mentions of the askers near the new questions); fresh questions find nothing quickly.
        """
        m = MESSAGES.c
        ids = [q.message_id for q in new]
        low = min(ids)
        high = max(snowflake_at(q.asked_at + WINDOW) for q in new)
        threads = {q.thread_id for q in new if q.thread_id is not None} | set(ids)
        askers = {q.asker_id for q in new}
        guilds = {q.guild_id for q in new}
        mentioning = (
            select(MENTIONS.c.message_id)
            .where(
                MENTIONS.c.guild_id.in_(guilds),
                MENTIONS.c.kind == "user",
                MENTIONS.c.target_id.in_(askers),
                MENTIONS.c.message_id > low,
                MENTIONS.c.message_id <= high,
            )
            .scalar_subquery()
        )
        found: dict[int, PostedMessage] = {}
        for condition in (
            m.reply_to_id.in_(ids),
            and_(m.thread_id.in_(threads), m.id > low),
            m.id.in_(mentioning),
        ):
            query = select(*POSTED_COLUMNS).where(
                condition, m.counted.is_(True), m.guild_id.in_(guilds)
            )
            for message in await posted_messages(conn, query):
                found[message.message_id] = message
        if found:
            await self._link(conn, sorted(found.values(), key=lambda p: p.message_id))

    @property
    def link_window(self) -> LinkWindow:
        if self._window is None:
            self._window = LinkWindow()
        return self._window

    def forget_links(self) -> None:
        """After a failed transaction or an erasure, the window may hold what is not stored."""
        self.link_window.forget()

    async def _link_new_messages(
        self, conn: AsyncConnection, records: Iterable[MessageRecord]
    ) -> None:
        messages = list(map(posted, records))
        self.link_window.written(messages)
        candidates = [p for p in messages if _may_respond(p)]
        if candidates:
            await self._link(conn, candidates)

    async def _link(self, conn: AsyncConnection, messages: Sequence[PostedMessage]) -> None:
        read = functools.partial(read_messages, conn)
        context = await self.link_window.context(conn, messages, read) or await read_context(
            conn, messages
        )
        if not context.questions:
            return
        links = [link for m in messages for link in link_response(m, context)]
        if links:
            await store_links(conn, links)

    async def _withdraw(self, conn: AsyncConnection, deletes: Sequence[MessageDelete]) -> None:
        """A question deleted before any response is withdrawn (it leaves the inbox and rates)."""
        q = QUESTIONS.c
        await conn.execute(
            update(QUESTIONS)
            .where(q.message_id == bindparam("mid"), q.resolved_at.is_(None))
            .where(or_(q.first_response_at.is_(None), q.first_response_at > bindparam("at")))
            .where(or_(q.withdrawn_at.is_(None), q.withdrawn_at > bindparam("at")))
            .values(withdrawn_at=bindparam("at"), state="withdrawn"),
            [{"mid": d.message_id, "at": d.deleted_at} for d in deletes],
        )

    async def _resolve(self, conn: AsyncConnection, events: Sequence[QuestionResolved]) -> None:
        for event in events:
            await resolve(conn, event)


async def resolve(conn: AsyncConnection, event: QuestionResolved) -> list[int]:
    """Resolve the question ``event.message_id`` is, or responds to; the earliest wins."""
    q = QUESTIONS.c
    linked = select(RESPONSES.c.question_id).where(RESPONSES.c.message_id == event.message_id)
    query = select(q.message_id).where(
        q.guild_id == event.guild_id,
        or_(q.message_id == event.message_id, q.message_id.in_(linked)),
    )
    if event.asker_only:
        query = query.where(q.asker_id == event.user_id)
    ids = [row[0] for row in await conn.execute(query)]
    if not ids:
        return []
    await conn.execute(
        update(QUESTIONS)
        .where(q.message_id.in_(ids))
        .where(or_(q.resolved_at.is_(None), q.resolved_at > event.at))
        .values(
            resolved_at=event.at,
            resolved_by=event.user_id,
            resolution=event.how.value,
            state="resolved",
        )
    )
    return ids


async def store_links(conn: AsyncConnection, links: Sequence[ResponseLink]) -> None:
    """Insert response links; each question's first response becomes its earliest link."""
    fresh = await insert_new_rows(
        conn,
        RESPONSES,
        ("question_id", "message_id"),
        [
            {
                "question_id": link.question_id,
                "message_id": link.message_id,
                "guild_id": link.guild_id,
                "responder_id": link.responder_id,
                "responded_at": link.responded_at,
                "by_staff": link.by_staff,
                "rule": link.rule.value,
            }
            for link in links
        ],
        near="message_id",
    )
    new_links = [link for link in links if (link.question_id, link.message_id) in fresh]
    if not new_links:
        return
    firsts = first_links(new_links)
    await execute_many(
        conn,
        _FIRST_RESPONSE,
        [
            {
                "qid": qid,
                "at": pair[0].responded_at,
                "mid": pair[0].message_id,
                "who": pair[0].responder_id,
                "staff": pair[0].by_staff,
            }
            for qid, pair in firsts.items()
        ],
    )
    await execute_many(
        conn,
        _FIRST_STAFF_RESPONSE,
        [
            {"qid": qid, "at": pair[-1].responded_at, "mid": pair[-1].message_id}
            for qid, pair in firsts.items()
            if pair[-1].by_staff
        ],
    )


_Q = QUESTIONS.c
_FIRST_RESPONSE = (
    update(QUESTIONS)
    .where(_Q.message_id == bindparam("qid"))
    .where(or_(_Q.first_response_at.is_(None), _Q.first_response_at > bindparam("at")))
    .values(
        first_response_at=bindparam("at"),
        first_response_id=bindparam("mid"),
        first_responder_id=bindparam("who"),
        first_response_by_staff=bindparam("staff"),
        # A response from before the question's deletion means it was not withdrawn.
        withdrawn_at=case((_Q.withdrawn_at > bindparam("at"), None), else_=_Q.withdrawn_at),
        # Its state, from the row as this statement leaves it (each SET reads the old row).
        state=case(
            (_Q.resolved_at.is_not(None), "resolved"),
            (and_(_Q.withdrawn_at.is_not(None), _Q.withdrawn_at <= bindparam("at")), "withdrawn"),
            else_="answered",
        ),
    )
)
_FIRST_STAFF_RESPONSE = (
    update(QUESTIONS)
    .where(_Q.message_id == bindparam("qid"))
    .where(or_(_Q.first_staff_response_at.is_(None), _Q.first_staff_response_at > bindparam("at")))
    .values(first_staff_response_at=bindparam("at"), first_staff_response_id=bindparam("mid"))
)
