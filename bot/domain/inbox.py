"""The moderators' inbox: item states and what each button and each event does to an item.

An unanswered question becomes an **open** item when its channel's target elapses. Staff can
**claim** it (someone is on it), **snooze** it (out of the way until a time), mark it **resolved**
or **dismiss** it. Events move it too: a response makes it **answered** (the card stays, updated),
the asker's own resolution makes it **resolved**, and the question's deletion before any response
makes it **withdrawn**. Pure functions: the service stores what they decide.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum


class ItemState(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    SNOOZED = "snoozed"
    ANSWERED = "answered"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"
    WITHDRAWN = "withdrawn"

    @property
    def active(self) -> bool:
        """Still waiting for someone (shown with buttons, counted as open work)."""
        return self in (ItemState.OPEN, ItemState.CLAIMED, ItemState.SNOOZED)


class Action(StrEnum):
    CLAIM = "claim"
    RESOLVE = "resolve"
    DISMISS = "dismiss"
    SNOOZE_1H = "snooze1h"
    SNOOZE_4H = "snooze4h"
    SNOOZE_24H = "snooze24h"


SNOOZES = {
    Action.SNOOZE_1H: timedelta(hours=1),
    Action.SNOOZE_4H: timedelta(hours=4),
    Action.SNOOZE_24H: timedelta(hours=24),
}


@dataclass(frozen=True, slots=True)
class QuestionFacts:
    """The question behind an item, as stored (response fields filled by answer linking)."""

    message_id: int
    guild_id: int
    channel_id: int
    thread_id: int | None
    asker_id: int
    asked_at: datetime
    target_minutes: int
    first_response_at: datetime | None = None
    first_responder_id: int | None = None
    first_response_id: int | None = None
    resolved_at: datetime | None = None
    resolved_by: int | None = None
    resolution: str | None = None
    withdrawn_at: datetime | None = None
    excerpt: str | None = None

    @property
    def target(self) -> timedelta:
        return timedelta(minutes=self.target_minutes)

    @property
    def due_at(self) -> datetime:
        return self.asked_at + self.target

    @property
    def escalate_at(self) -> datetime:
        return self.asked_at + 2 * self.target


@dataclass(frozen=True, slots=True)
class InboxItem:
    item_id: int
    question: QuestionFacts
    state: ItemState
    version: int
    opened_at: datetime
    claimed_by: int | None = None
    snoozed_until: datetime | None = None
    escalated_at: datetime | None = None
    closed_by: int | None = None
    closed_at: datetime | None = None
    card_channel_id: int | None = None
    card_message_id: int | None = None


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a button press changed nothing, in words for the person who pressed it."""

    reason: str


def apply_action(
    item: InboxItem, action: Action, user_id: int, now: datetime
) -> InboxItem | Refusal:
    """What a staff member's button press does to an item (the version moves on a change)."""
    if not item.state.active:
        return Refusal(f"This question is already {item.state.value}; the card shows why.")
    if action is Action.CLAIM:
        if item.state is ItemState.CLAIMED and item.claimed_by == user_id:
            return Refusal("You have already claimed this question.")
        changed = replace(item, state=ItemState.CLAIMED, claimed_by=user_id, snoozed_until=None)
    elif action in SNOOZES:
        changed = replace(item, state=ItemState.SNOOZED, snoozed_until=now + SNOOZES[action])
    else:
        state = ItemState.RESOLVED if action is Action.RESOLVE else ItemState.DISMISSED
        changed = replace(item, state=state, closed_by=user_id, closed_at=now, snoozed_until=None)
    return replace(changed, version=item.version + 1)


def follow(item: InboxItem, now: datetime) -> InboxItem:
    """The item after what happened to its question meanwhile, and after its snooze ran out."""
    question = item.question
    state = item.state
    changed = item
    if question.withdrawn_at is not None and state.active:
        changed = replace(item, state=ItemState.WITHDRAWN, closed_at=question.withdrawn_at)
    elif question.resolved_at is not None and state in (*_ACTIVE, ItemState.ANSWERED):
        changed = replace(
            item,
            state=ItemState.RESOLVED,
            closed_by=question.resolved_by,
            closed_at=question.resolved_at,
            snoozed_until=None,
        )
    elif question.first_response_at is not None and state.active:
        changed = replace(item, state=ItemState.ANSWERED, snoozed_until=None)
    elif state is ItemState.SNOOZED and (item.snoozed_until or now) <= now:
        changed = replace(item, state=ItemState.OPEN, snoozed_until=None)
    if changed is item:
        return item
    return replace(changed, version=item.version + 1)


_ACTIVE = (ItemState.OPEN, ItemState.CLAIMED, ItemState.SNOOZED)


def needs_item(question: QuestionFacts, now: datetime) -> bool:
    """An unanswered, unresolved question whose target has elapsed becomes an inbox item."""
    return (
        question.first_response_at is None
        and question.resolved_at is None
        and question.withdrawn_at is None
        and question.due_at <= now
    )


def due_for_escalation(item: InboxItem, now: datetime) -> bool:
    """Still open (nobody claimed or snoozed it) at twice its target: remind staff, once.

    An item that only opened after that moment (history read late, or an inbox channel set up
    after the fact) is announced by its card alone: a reminder for it would be noise.
    """
    return (
        item.state is ItemState.OPEN
        and item.escalated_at is None
        and item.opened_at < item.question.escalate_at <= now
    )


def describe_wait(delta: timedelta) -> str:
    """A duration the way people say it: 45 min, 3 h 20 min, 2 d 5 h."""
    minutes = max(0, int(delta.total_seconds() // 60))
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"
