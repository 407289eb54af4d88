"""Erasing a member leaves nothing that names them, only the anonymous history."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.records import (
    ChannelKind,
    ChannelRecord,
    GuildRecord,
    MemberForget,
    QuestionAsked,
    QuestionResolved,
    QuestionSource,
    Resolution,
)
from tests.dbstate import EVENT_TABLES, dump
from tests.test_writer import GENERAL, GUILD, T0, msg, scalar, write_all

HELPER = 777_777
"""The member who is erased: they answered, resolved and started a thread."""
THREAD = 55


async def test_an_erased_member_is_named_nowhere_but_their_opt_out(engine: AsyncEngine) -> None:
    question = msg(1, author=100, content="how do I get the event role?")
    answer = msg(
        2,
        author=HELPER,
        at=T0 + timedelta(minutes=3),
        reply_to_id=question.message_id,
        author_is_staff=True,
    )
    in_thread = msg(3, author=HELPER, at=T0 + timedelta(minutes=5), thread_id=THREAD)
    events = [
        GuildRecord(GUILD, "Test guild", T0),
        ChannelRecord(GUILD, GENERAL, ChannelKind.TEXT, "general"),
        ChannelRecord(GUILD, THREAD, ChannelKind.PUBLIC_THREAD, "t", GENERAL, owner_id=HELPER),
        question,
        QuestionAsked(
            question.message_id, GUILD, GENERAL, None, 100, T0, QuestionSource.DETECTED, 60
        ),
        answer,
        in_thread,
        QuestionResolved(GUILD, answer.message_id, HELPER, answer.created_at, Resolution.MARKED),
    ]
    await write_all(engine, events)
    assert await scalar(engine, "SELECT first_responder_id FROM questions") == HELPER
    await write_all(engine, [MemberForget(GUILD, HELPER, T0 + timedelta(days=1), opt_out=True)])

    theirs = {HELPER, answer.message_id, in_thread.message_id}
    # A channel's newest message id stays: it marks where reading history resumes.
    state = await dump(engine, EVENT_TABLES, without={"channels": ["newest_message_id"]})
    naming = {
        table: [row for row in rows if theirs.intersection(row)]
        for table, rows in state.items()
        if table != "members"
    }
    assert not any(naming.values()), naming
    assert [row for row in state["members"] if HELPER in row], "the opt-out is remembered"
    # The question keeps its history: when it was answered and resolved, and its state.
    answered = "SELECT first_response_at IS NOT NULL AND first_staff_response_at IS NOT NULL"
    assert await scalar(engine, f"{answered} FROM questions") in (True, 1)
    assert await scalar(engine, "SELECT state FROM questions") == "resolved"
