"""Inbox item states: what buttons and events do to an item, as tables."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.inbox import (
    Action,
    InboxItem,
    ItemState,
    QuestionFacts,
    Refusal,
    apply_action,
    describe_wait,
    due_for_escalation,
    follow,
    needs_item,
)

ASKED = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
MOD, OTHER_MOD, ASKER = 7, 8, 100


def minutes(n: float) -> datetime:
    return ASKED + timedelta(minutes=n)


QUESTION = QuestionFacts(1000, 1, 10, None, ASKER, ASKED, target_minutes=60)
OPEN = InboxItem(1, QUESTION, ItemState.OPEN, version=1, opened_at=minutes(60))


def item(state: ItemState, **fields: object) -> InboxItem:
    return replace(OPEN, state=state, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("before", "action", "state", "fields"),
    [
        (OPEN, Action.CLAIM, ItemState.CLAIMED, {"claimed_by": MOD}),
        (item(ItemState.CLAIMED, claimed_by=OTHER_MOD), Action.CLAIM, ItemState.CLAIMED,
         {"claimed_by": MOD}),
        (OPEN, Action.SNOOZE_1H, ItemState.SNOOZED, {"snoozed_until": minutes(90 + 60)}),
        (OPEN, Action.SNOOZE_4H, ItemState.SNOOZED, {"snoozed_until": minutes(90 + 240)}),
        (OPEN, Action.SNOOZE_24H, ItemState.SNOOZED, {"snoozed_until": minutes(90 + 1440)}),
        (item(ItemState.SNOOZED, snoozed_until=minutes(200)), Action.CLAIM, ItemState.CLAIMED,
         {"claimed_by": MOD, "snoozed_until": None}),
        (OPEN, Action.RESOLVE, ItemState.RESOLVED, {"closed_by": MOD, "closed_at": minutes(90)}),
        (OPEN, Action.DISMISS, ItemState.DISMISSED, {"closed_by": MOD, "closed_at": minutes(90)}),
    ],
)  # fmt: skip
def test_buttons(
    before: InboxItem, action: Action, state: ItemState, fields: dict[str, object]
) -> None:
    after = apply_action(before, action, MOD, minutes(90))
    assert isinstance(after, InboxItem)
    assert after.state is state
    assert after.version == before.version + 1
    for name, value in fields.items():
        assert getattr(after, name) == value, name


@pytest.mark.parametrize(
    ("before", "action", "reason"),
    [
        (item(ItemState.RESOLVED), Action.CLAIM, "already resolved"),
        (item(ItemState.ANSWERED), Action.SNOOZE_1H, "already answered"),
        (item(ItemState.WITHDRAWN), Action.RESOLVE, "already withdrawn"),
        (item(ItemState.CLAIMED, claimed_by=MOD), Action.CLAIM, "already claimed"),
    ],
)
def test_refused_buttons(before: InboxItem, action: Action, reason: str) -> None:
    refusal = apply_action(before, action, MOD, minutes(90))
    assert isinstance(refusal, Refusal)
    assert reason in refusal.reason


ANSWERED_Q = replace(QUESTION, first_response_at=minutes(70), first_responder_id=5)
RESOLVED_Q = replace(ANSWERED_Q, resolved_at=minutes(80), resolved_by=ASKER)
WITHDRAWN_Q = replace(QUESTION, withdrawn_at=minutes(75))


@pytest.mark.parametrize(
    ("before", "question", "now", "state"),
    [
        (OPEN, QUESTION, minutes(90), ItemState.OPEN),
        (OPEN, ANSWERED_Q, minutes(90), ItemState.ANSWERED),
        (item(ItemState.CLAIMED, claimed_by=MOD), ANSWERED_Q, minutes(90), ItemState.ANSWERED),
        (OPEN, RESOLVED_Q, minutes(90), ItemState.RESOLVED),
        (item(ItemState.ANSWERED), RESOLVED_Q, minutes(90), ItemState.RESOLVED),
        (OPEN, WITHDRAWN_Q, minutes(90), ItemState.WITHDRAWN),
        (item(ItemState.DISMISSED), ANSWERED_Q, minutes(90), ItemState.DISMISSED),
        (item(ItemState.SNOOZED, snoozed_until=minutes(120)), QUESTION, minutes(119),
         ItemState.SNOOZED),
        (item(ItemState.SNOOZED, snoozed_until=minutes(120)), QUESTION, minutes(120),
         ItemState.OPEN),
    ],
)  # fmt: skip
def test_items_follow_their_questions(
    before: InboxItem, question: QuestionFacts, now: datetime, state: ItemState
) -> None:
    after = follow(replace(before, question=question), now)
    assert after.state is state
    assert after.version == before.version + (state is not before.state)


@pytest.mark.parametrize(
    ("question", "now", "expected"),
    [
        (QUESTION, minutes(59), False),
        (QUESTION, minutes(60), True),
        (ANSWERED_Q, minutes(90), False),
        (WITHDRAWN_Q, minutes(90), False),
        (replace(QUESTION, resolved_at=minutes(30)), minutes(90), False),
    ],
)
def test_which_questions_enter_the_inbox(
    question: QuestionFacts, now: datetime, expected: bool
) -> None:
    assert needs_item(question, now) is expected


@pytest.mark.parametrize(
    ("before", "now", "expected"),
    [
        (OPEN, minutes(119), False),
        (OPEN, minutes(120), True),
        (item(ItemState.OPEN, escalated_at=minutes(120)), minutes(200), False),
        (item(ItemState.CLAIMED, claimed_by=MOD), minutes(200), False),
        (item(ItemState.SNOOZED, snoozed_until=minutes(300)), minutes(200), False),
        (item(ItemState.OPEN, opened_at=minutes(180)), minutes(200), False),
    ],
)
def test_escalation_once_at_twice_the_target(
    before: InboxItem, now: datetime, expected: bool
) -> None:
    assert due_for_escalation(before, now) is expected


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(seconds=30), "0 min"),
        (timedelta(minutes=45), "45 min"),
        (timedelta(hours=3), "3 h"),
        (timedelta(hours=3, minutes=20), "3 h 20 min"),
        (timedelta(days=2, hours=5), "2 d 5 h"),
        (timedelta(days=2), "2 d"),
        (timedelta(minutes=-5), "0 min"),
    ],
)
def test_waits_read_the_way_people_say_them(delta: timedelta, text: str) -> None:
    assert describe_wait(delta) == text
