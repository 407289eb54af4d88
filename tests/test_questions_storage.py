"""Questions and their responses in the database: linked in the writer's transaction, the same
whatever order or batching the events arrive in, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.records import (
    Event,
    MessageDelete,
    MessageRecord,
    QuestionAsked,
    QuestionResolved,
    QuestionSource,
    Resolution,
)
from bot.domain.snowflakes import snowflake_at
from storage import migrate
from storage.engine import create_engine
from storage.writer import EventWriter
from tests.dbstate import differences, dump

GUILD, GENERAL, FORUM, POST = 1, 10, 20, 0
ALICE, BOB, CAROL, MOD = 100, 101, 102, 7
T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def mid(minutes: float) -> int:
    return snowflake_at(at(minutes))


def msg(minutes: float, author: int, **fields: object) -> MessageRecord:
    values: dict[str, object] = {"channel_id": GENERAL}
    values.update(fields)
    return MessageRecord(
        message_id=mid(minutes),
        guild_id=GUILD,
        author_id=author,
        created_at=at(minutes),
        **values,  # type: ignore[arg-type]
    )


def asked(record: MessageRecord, source: QuestionSource = QuestionSource.DETECTED) -> QuestionAsked:
    return QuestionAsked(
        record.message_id,
        record.guild_id,
        record.channel_id,
        record.thread_id,
        record.author_id,
        record.created_at,
        source,
        target_minutes=60,
    )


Q_ALICE = msg(0, ALICE)
Q_CAROL = msg(1, CAROL)
POST_ID = mid(2)
Q_POST = msg(2, CAROL, channel_id=FORUM, thread_id=POST_ID, is_thread_starter=True)
Q_GONE = msg(3, CAROL)

CONVERSATION: list[Event] = [
    Q_ALICE,
    asked(Q_ALICE),
    Q_CAROL,
    asked(Q_CAROL),
    Q_POST,
    asked(Q_POST, QuestionSource.FORUM_POST),
    Q_GONE,
    asked(Q_GONE),
    # Bob mentions Alice 10 minutes in; the moderator replies to her at 25 minutes.
    msg(10, BOB, mention_user_ids=(ALICE,)),
    msg(25, MOD, reply_to_id=Q_ALICE.message_id, author_is_staff=True),
    # Alice replies to her own question: no response.
    msg(26, ALICE, reply_to_id=Q_ALICE.message_id),
    # Alice answers in Carol's forum post; a bot's message there does not count.
    msg(40, ALICE, channel_id=FORUM, thread_id=POST_ID),
    msg(41, 999, channel_id=FORUM, thread_id=POST_ID, is_bot=True, counted=False),
    # The last question is deleted before anyone answers: withdrawn.
    MessageDelete(Q_GONE.message_id, GUILD, GENERAL, at(50)),
    msg(55, BOB, mention_user_ids=(ALICE,)),
]
RESOLUTIONS: list[Event] = [
    # Alice reacts ✅ to the moderator's answer; Bob's ✅ resolves nothing: he did not ask.
    QuestionResolved(GUILD, mid(25), ALICE, at(30), Resolution.REACTION, asker_only=True),
    QuestionResolved(GUILD, mid(25), BOB, at(29), Resolution.REACTION, asker_only=True),
]


async def apply(engine: AsyncEngine, batches: Sequence[Sequence[Event]]) -> None:
    async with EventWriter(engine) as writer:
        for batch in batches:
            await writer.write_transaction(batch)


async def rows(engine: AsyncEngine, sql: str) -> list[tuple[object, ...]]:
    async with engine.connect() as conn:
        return [tuple(r) for r in (await conn.execute(text(sql))).all()]


async def test_responses_follow_the_metrics_rules(engine: AsyncEngine) -> None:
    await apply(engine, [CONVERSATION, RESOLUTIONS])
    questions = await rows(
        engine,
        "SELECT message_id, state, first_response_id, first_responder_id, "
        "first_staff_response_id, resolved_by, resolution, "
        "CASE WHEN withdrawn_at IS NULL THEN 0 ELSE 1 END "
        "FROM questions ORDER BY message_id",
    )
    assert questions == [
        (Q_ALICE.message_id, "resolved", mid(10), BOB, mid(25), ALICE, "reaction", 0),
        (Q_CAROL.message_id, "open", None, None, None, None, None, 0),
        (POST_ID, "answered", mid(40), ALICE, None, None, None, 0),
        (Q_GONE.message_id, "withdrawn", None, None, None, None, None, 1),
    ]
    responses = await rows(
        engine, "SELECT question_id, message_id, rule FROM responses ORDER BY message_id"
    )
    assert responses == [
        (Q_ALICE.message_id, mid(10), "mention"),
        (Q_ALICE.message_id, mid(25), "reply"),
        (POST_ID, mid(40), "thread"),
        (Q_ALICE.message_id, mid(55), "mention"),  # later responses are kept too
    ]


def orders() -> list[tuple[str, list[list[Event]]]]:
    reversed_events = list(reversed(CONVERSATION))
    return [
        ("one event per batch", [[e] for e in CONVERSATION]),
        ("reversed", [reversed_events]),
        ("reversed, one per batch", [[e] for e in reversed_events]),
        ("answers before questions", [CONVERSATION[8:], CONVERSATION[:8]]),
        ("every event twice", [CONVERSATION, CONVERSATION]),
        ("pairs", [CONVERSATION[i : i + 2] for i in range(0, len(CONVERSATION), 2)]),
    ]


@pytest.mark.parametrize(("case", "batches"), orders(), ids=[c for c, _ in orders()])
async def test_any_order_or_batching_ends_the_same(
    new_db_url: object, case: str, batches: list[list[Event]]
) -> None:
    states = []
    # Resolutions act on what is stored when they arrive (live, a reaction follows its answer).
    for plan in ([CONVERSATION, RESOLUTIONS], [*batches, RESOLUTIONS]):
        engine = create_engine(new_db_url())  # type: ignore[operator]
        try:
            await migrate.upgrade(engine)
            await apply(engine, plan)
            states.append(await dump(engine, ("questions", "responses")))
        finally:
            await engine.dispose()
    assert differences(states[1], states[0]) == {}, case


async def test_a_response_before_the_deletion_means_not_withdrawn(engine: AsyncEngine) -> None:
    question = msg(0, ALICE)
    answer = msg(5, BOB, reply_to_id=question.message_id)
    deletion = MessageDelete(question.message_id, GUILD, GENERAL, at(20))
    # The deletion is seen first (a replay), the answer written before it arrives later.
    await apply(engine, [[question, asked(question), deletion], [answer]])
    assert await rows(engine, "SELECT state, withdrawn_at FROM questions") == [("answered", None)]


async def test_an_earlier_resolution_wins(engine: AsyncEngine) -> None:
    question = msg(0, ALICE)
    later = QuestionResolved(GUILD, question.message_id, MOD, at(90), Resolution.CARD)
    earlier = QuestionResolved(GUILD, question.message_id, ALICE, at(30), Resolution.MARKED)
    await apply(engine, [[question, asked(question), later], [earlier], [later]])
    assert await rows(engine, "SELECT resolved_by, resolution FROM questions") == [
        (ALICE, "marked")
    ]
