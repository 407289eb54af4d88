"""Answer linking rules (METRICS.md), as tables of small conversations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.linking import (
    AskedQuestion,
    LinkContext,
    LinkRule,
    PostedMessage,
    first_links,
    link_response,
)

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
GUILD, GENERAL, HELP, THREAD = 1, 10, 11, 500
ALICE, BOB, CAROL = 100, 101, 102


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def question(mid: int, asker: int = ALICE, minutes: float = 0, *, channel: int = GENERAL,
             thread: int | None = None) -> AskedQuestion:  # fmt: skip
    return AskedQuestion(mid, asker, channel, thread, at(minutes))


def message(mid: int, author: int = BOB, minutes: float = 5, **fields: object) -> PostedMessage:
    values: dict[str, object] = {"channel_id": GENERAL, "thread_id": None}
    values.update(fields)
    return PostedMessage(mid, GUILD, author, created_at=at(minutes), **values)  # type: ignore[arg-type]


Q1 = question(1000)
Q2 = question(1010, CAROL, 1)
FOLLOW_UP = message(1005, ALICE, 2)  # Alice adds detail to her question, without replying
IN_THREAD = question(THREAD, ALICE, 0, thread=THREAD)  # a forum post's opening message
ASKED_IN_THREAD = question(1020, CAROL, 3, thread=THREAD)


@pytest.mark.parametrize(
    ("case", "new", "questions", "targets", "expected"),
    [
        ("a reply to the question", message(2000, reply_to_id=1000), [Q1], [], [(1000, "reply")]),
        (
            "the asker replying to their own question is no response",
            message(2000, ALICE, reply_to_id=1000),
            [Q1],
            [],
            [],
        ),
        (
            "a reply to the asker's follow-up answers the question",
            message(2000, reply_to_id=1005),
            [Q1],
            [FOLLOW_UP],
            [(1000, "reply")],
        ),
        (
            "a follow-up three hours later is another exchange",
            message(2000, minutes=200, reply_to_id=1006),
            [Q1],
            [message(1006, ALICE, 180)],
            [],
        ),
        (
            "a reply to someone else's message answers nothing",
            message(2000, reply_to_id=1007),
            [Q1],
            [message(1007, CAROL, 1)],
            [],
        ),
        (
            "a message in the question's forum post",
            message(2000, thread_id=THREAD),
            [IN_THREAD],
            [],
            [(THREAD, "thread")],
        ),
        (
            "a message in a thread answers every earlier question there by others",
            message(2000, minutes=5, thread_id=THREAD),
            [IN_THREAD, ASKED_IN_THREAD],
            [],
            [(THREAD, "thread"), (1020, "thread")],
        ),
        (
            "the thread's asker talking in it is no response",
            message(2000, ALICE, thread_id=THREAD),
            [IN_THREAD],
            [],
            [],
        ),
        (
            "a question asked later in the thread is not answered by an earlier message",
            message(2000, minutes=2, thread_id=THREAD),
            [IN_THREAD, ASKED_IN_THREAD],
            [],
            [(THREAD, "thread")],
        ),
        (
            "mentioning the asker within two hours",
            message(2000, minutes=90, mention_user_ids=(ALICE,)),
            [Q1],
            [],
            [(1000, "mention")],
        ),
        (
            "mentioning the asker after two hours",
            message(2000, minutes=121, mention_user_ids=(ALICE,)),
            [Q1],
            [],
            [],
        ),
        (
            "mentioning the asker in another channel",
            message(2000, channel_id=HELP, mention_user_ids=(ALICE,)),
            [Q1],
            [],
            [],
        ),
        (
            "the mention finds the asker's newest question",
            message(2000, minutes=30, mention_user_ids=(ALICE,)),
            [Q1, question(1001, ALICE, 20)],
            [],
            [(1001, "mention")],
        ),
        (
            "one message mentioning two askers answers both",
            message(2000, minutes=30, mention_user_ids=(ALICE, CAROL)),
            [Q1, Q2],
            [],
            [(1000, "mention"), (1010, "mention")],
        ),
        (
            "a reply outranks a mention",
            message(2000, reply_to_id=1010, mention_user_ids=(ALICE,)),
            [Q1, Q2],
            [],
            [(1010, "reply")],
        ),
        (
            "an inferred link stands in for a reply",
            message(2000, inferred_reply_to_id=1000),
            [Q1],
            [],
            [(1000, "inferred")],
        ),
        (
            "an inferred link is the last rule",
            message(2000, inferred_reply_to_id=1000, mention_user_ids=(CAROL,)),
            [Q1, Q2],
            [],
            [(1010, "mention")],
        ),
        (
            "bots and uncounted messages never respond",
            message(2000, reply_to_id=1000, counted=False),
            [Q1],
            [],
            [],
        ),
        ("a plain message answers nothing", message(2000), [Q1], [], []),
        (
            "a message older than the question answers nothing",
            message(900, minutes=-1, mention_user_ids=(ALICE,)),
            [Q1],
            [],
            [],
        ),
    ],
)
def test_link_rules(
    case: str,
    new: PostedMessage,
    questions: list[AskedQuestion],
    targets: list[PostedMessage],
    expected: list[tuple[int, str]],
) -> None:
    links = link_response(new, LinkContext.of(questions, targets))
    assert [(link.question_id, link.rule.value) for link in links] == expected, case
    for link in links:
        assert (link.message_id, link.responder_id, link.responded_at) == (
            new.message_id,
            new.author_id,
            new.created_at,
        )


def test_links_do_not_depend_on_the_order_questions_are_known() -> None:
    new = message(2000, minutes=30, mention_user_ids=(ALICE,))
    questions = [Q1, question(1001, ALICE, 20), Q2]
    forward = link_response(new, LinkContext.of(questions))
    backward = link_response(new, LinkContext.of(reversed(questions)))
    assert forward == backward


def test_first_links_are_the_earliest_overall_and_by_staff() -> None:
    community = link_response(message(2001, CAROL, 10, reply_to_id=1000), LinkContext.of([Q1]))
    staff = link_response(
        message(2002, BOB, 20, reply_to_id=1000, by_staff=True), LinkContext.of([Q1])
    )
    later_staff = link_response(
        message(2003, BOB, 30, reply_to_id=1000, by_staff=True), LinkContext.of([Q1])
    )
    firsts = first_links([*later_staff, *staff, *community])
    first, first_staff = firsts[1000]
    assert (first.message_id, first_staff.message_id) == (2001, 2002)
    only_community = first_links(community)
    assert [link.message_id for link in only_community[1000]] == [2001]
    assert community[0].rule is LinkRule.REPLY
