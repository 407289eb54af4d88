"""The inbox's storage: items, their cards and the claims that make each step happen once.

Every change to an item is a compare-and-set on its ``version``: two moderators pressing buttons
at once, or two bot processes sweeping the same guild, never both win. A card is posted or edited
until ``card_version`` catches up with ``version``, so a crash between the two only delays it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, null, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.inbox import InboxItem, ItemState, QuestionFacts
from bot.domain.linking import LinkRule, ResponseLink
from bot.domain.records import QuestionResolved, Resolution
from storage.questions import resolve, store_links
from storage.statements import INBOX_ITEMS, MESSAGES, QUESTIONS, RESPONSES, insert_new

_ACTIVE = [s.value for s in ItemState if s.active]


def _facts(row: Any) -> QuestionFacts:
    return QuestionFacts(
        message_id=row.message_id,
        guild_id=row.guild_id,
        channel_id=row.channel_id,
        thread_id=row.thread_id,
        asker_id=row.asker_id,
        asked_at=row.asked_at,
        target_minutes=row.target_minutes,
        first_response_at=row.first_response_at,
        first_responder_id=row.first_responder_id,
        first_response_id=row.first_response_id,
        resolved_at=row.resolved_at,
        resolved_by=row.resolved_by,
        resolution=row.resolution,
        withdrawn_at=row.withdrawn_at,
        excerpt=row.content,
    )


def _item(row: Any) -> InboxItem:
    return InboxItem(
        item_id=row.id,
        question=_facts(row),
        state=ItemState(row.state),
        version=row.version,
        opened_at=row.opened_at,
        claimed_by=row.claimed_by,
        snoozed_until=row.snoozed_until,
        escalated_at=row.escalated_at,
        closed_by=row.closed_by,
        closed_at=row.closed_at,
        card_channel_id=row.card_channel_id,
        card_message_id=row.card_message_id,
    )


_Q = QUESTIONS.c
_I = INBOX_ITEMS.c
_QUESTION_FIELDS = (
    _Q.message_id,
    _Q.guild_id,
    _Q.channel_id,
    _Q.thread_id,
    _Q.asker_id,
    _Q.asked_at,
    _Q.target_minutes,
    _Q.first_response_at,
    _Q.first_responder_id,
    _Q.first_response_id,
    _Q.resolved_at,
    _Q.resolved_by,
    _Q.resolution,
    _Q.withdrawn_at,
    MESSAGES.c.content,
)
_ITEM_FIELDS = (
    _I.id,
    _I.state,
    _I.version,
    _I.opened_at,
    _I.claimed_by,
    _I.snoozed_until,
    _I.escalated_at,
    _I.closed_by,
    _I.closed_at,
    _I.card_channel_id,
    _I.card_message_id,
)


def _items_query() -> Select[Any]:
    return (
        select(*_ITEM_FIELDS, *_QUESTION_FIELDS)
        .select_from(INBOX_ITEMS)
        .join(QUESTIONS, _Q.message_id == _I.question_id)
        .outerjoin(MESSAGES, MESSAGES.c.id == _Q.message_id)
    )


class InboxRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def due_questions(self, guild_ids: Sequence[int], now: datetime) -> list[QuestionFacts]:
        """Open questions without an item whose earliest possible target has passed."""
        if not guild_ids:
            return []
        query = (
            select(*_QUESTION_FIELDS)
            .select_from(QUESTIONS)
            .outerjoin(INBOX_ITEMS, _I.question_id == _Q.message_id)
            .outerjoin(MESSAGES, MESSAGES.c.id == _Q.message_id)
            .where(_Q.guild_id.in_(guild_ids), _Q.state == "open", _I.id.is_(None))
            .where(_Q.asked_at <= now)
            .order_by(_Q.asked_at)
        )
        async with self.engine.connect() as conn:
            return [_facts(row) for row in await conn.execute(query)]

    async def open_items(self, questions: Sequence[QuestionFacts], now: datetime) -> list[int]:
        """Create items for these questions; returns the ids this call created (others lost)."""
        if not questions:
            return []
        async with self.engine.begin() as conn:
            created = await conn.execute(
                insert_new(conn.dialect.name, INBOX_ITEMS, "id"),
                [
                    {
                        "guild_id": q.guild_id,
                        "question_id": q.message_id,
                        "state": ItemState.OPEN.value,
                        "opened_at": now,
                        "updated_at": now,
                        "version": 1,
                    }
                    for q in questions
                ],
            )
            return [row[0] for row in created]

    async def items_to_follow(self, guild_ids: Sequence[int]) -> list[InboxItem]:
        """Items that may change on their own (active, or answered) or whose card is behind."""
        if not guild_ids:
            return []
        query = _items_query().where(
            _I.guild_id.in_(guild_ids),
            or_(
                _I.state.in_([*_ACTIVE, ItemState.ANSWERED.value]),
                _I.card_version.is_(None),
                _I.card_version < _I.version,
            ),
        )
        async with self.engine.connect() as conn:
            return [_item(row) for row in await conn.execute(query)]

    async def cards_behind(self, guild_ids: Sequence[int]) -> list[InboxItem]:
        if not guild_ids:
            return []
        query = _items_query().where(
            _I.guild_id.in_(guild_ids),
            or_(_I.card_version.is_(None), _I.card_version < _I.version),
        )
        async with self.engine.connect() as conn:
            return [_item(row) for row in await conn.execute(query)]

    async def item(self, item_id: int) -> InboxItem | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(_items_query().where(_I.id == item_id))).first()
        return _item(row) if row is not None else None

    async def item_for_question(self, question_id: int) -> InboxItem | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(_items_query().where(_I.question_id == question_id))).first()
        return _item(row) if row is not None else None

    async def save(self, item: InboxItem, expected_version: int, now: datetime) -> bool:
        """Store a changed item if nobody changed it meanwhile (compare-and-set on version)."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(INBOX_ITEMS)
                .where(_I.id == item.item_id, _I.version == expected_version)
                .values(
                    state=item.state.value,
                    version=item.version,
                    updated_at=now,
                    claimed_by=item.claimed_by,
                    claimed_at=now if item.claimed_by is not None else None,
                    snoozed_until=item.snoozed_until,
                    closed_by=item.closed_by,
                    closed_at=item.closed_at,
                )
            )
        return bool(result.rowcount)

    async def card_posted(
        self, item_id: int, version: int, channel_id: int, message_id: int
    ) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(INBOX_ITEMS)
                .where(_I.id == item_id)
                .where(or_(_I.card_version.is_(None), _I.card_version < version))
                .values(
                    card_version=version, card_channel_id=channel_id, card_message_id=message_id
                )
            )

    async def card_gone(self, item_id: int) -> None:
        """The card message was deleted: the next sweep posts a new one."""
        async with self.engine.begin() as conn:
            await conn.execute(
                update(INBOX_ITEMS)
                .where(_I.id == item_id)
                .values(card_version=None, card_channel_id=None, card_message_id=None)
            )

    async def claim_escalation(self, item_id: int, now: datetime) -> bool:
        """True for the one caller that escalates this item (its card then says so)."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(INBOX_ITEMS)
                .where(_I.id == item_id, _I.escalated_at.is_(None))
                .values(escalated_at=now, version=_I.version + 1, updated_at=now)
            )
        return bool(result.rowcount)

    async def list_items(
        self,
        guild_id: int,
        states: Sequence[ItemState],
        channel_id: int | None,
        offset: int,
        limit: int,
    ) -> tuple[list[InboxItem], int]:
        """A page of items, oldest question first, and how many match in all."""
        conditions = [_I.guild_id == guild_id, _I.state.in_([s.value for s in states])]
        if channel_id is not None:
            conditions.append(or_(_Q.channel_id == channel_id, _Q.thread_id == channel_id))
        query = _items_query().where(*conditions).order_by(_Q.asked_at, _I.id)
        count = (
            select(func.count())
            .select_from(INBOX_ITEMS)
            .join(QUESTIONS, _Q.message_id == _I.question_id)
            .where(*conditions)
        )
        async with self.engine.connect() as conn:
            total = (await conn.execute(count)).scalar_one()
            rows = await conn.execute(query.offset(offset).limit(limit))
            return [_item(row) for row in rows], int(total)

    async def state_counts(self, guild_id: int) -> dict[ItemState, int]:
        query = select(_I.state, func.count()).where(_I.guild_id == guild_id).group_by(_I.state)
        async with self.engine.connect() as conn:
            return {ItemState(state): int(n) for state, n in await conn.execute(query)}

    async def questions_between(
        self, guild_id: int, start: datetime, end: datetime
    ) -> list[QuestionFacts]:
        query = select(*_QUESTION_FIELDS[:-1], null().label("content")).where(
            _Q.guild_id == guild_id, _Q.asked_at >= start, _Q.asked_at < end
        )
        async with self.engine.connect() as conn:
            return [_facts(row) for row in await conn.execute(query)]

    async def question(self, question_id: int) -> QuestionFacts | None:
        query = (
            select(*_QUESTION_FIELDS)
            .select_from(QUESTIONS)
            .outerjoin(MESSAGES, MESSAGES.c.id == _Q.message_id)
            .where(_Q.message_id == question_id)
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return _facts(row) if row is not None else None

    async def mark_answer(
        self, guild_id: int, message_id: int, user_id: int, user_is_staff: bool, now: datetime
    ) -> list[int]:
        """Mark a message as the answer: to the questions it responds to, or else to the latest
        open question before it in its channel or thread. The asker may only mark answers to
        their own questions. Returns the questions resolved (none: nothing it could answer)."""
        async with self.engine.begin() as conn:
            message = (
                await conn.execute(select(MESSAGES).where(MESSAGES.c.id == message_id))
            ).first()
            if message is None or message.guild_id != guild_id:
                return []
            linked = await conn.execute(
                select(_Q.message_id, _Q.asker_id)
                .join(RESPONSES, RESPONSES.c.question_id == _Q.message_id)
                .where(RESPONSES.c.message_id == message_id)
            )
            allowed = [qid for qid, asker in linked if user_is_staff or asker == user_id]
            if not allowed:
                place = message.thread_id if message.thread_id is not None else message.channel_id
                nearby = await conn.execute(
                    select(_Q.message_id, _Q.asker_id, _Q.channel_id, _Q.thread_id, _Q.asked_at)
                    .where(
                        _Q.guild_id == guild_id,
                        or_(_Q.thread_id == place, _Q.message_id == place, _Q.channel_id == place),
                        _Q.message_id < message_id,
                        _Q.asker_id != message.author_id,
                        _Q.resolved_at.is_(None),
                        _Q.withdrawn_at.is_(None),
                    )
                    .order_by(_Q.asked_at.desc())
                    .limit(20)
                )
                candidates = [
                    row
                    for row in nearby
                    if (user_is_staff or row.asker_id == user_id)
                    and (row.thread_id == place or row.message_id == place or row.thread_id is None)
                ]
                if not candidates:
                    return []
                chosen = candidates[0]
                await store_links(
                    conn,
                    [
                        ResponseLink(
                            chosen.message_id,
                            message_id,
                            guild_id,
                            message.author_id,
                            message.created_at,
                            message.author_is_staff,
                            LinkRule.MARKED,
                        )
                    ],
                )
            return await resolve(
                conn,
                QuestionResolved(
                    guild_id,
                    message_id,
                    user_id,
                    now,
                    Resolution.MARKED,
                    asker_only=not user_is_staff,
                ),
            )
