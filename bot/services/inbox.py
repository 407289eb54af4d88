"""InboxService: unanswered questions become inbox items, and staff work them off.

The sweep is the inbox's clock: it runs every half minute (and once per guild after catching
up), opens items for questions whose target passed, lets items follow their questions (answered,
resolved, withdrawn, snooze over), claims escalations, and returns the cards that need posting or
editing. Everything it decides is stored first, with compare-and-set claims, so a crash or a second
process never repeats a step; the cog only does the Discord side and reports back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain.inbox import (
    Action,
    InboxItem,
    ItemState,
    QuestionFacts,
    Refusal,
    apply_action,
    due_for_escalation,
    follow,
    needs_item,
)
from bot.domain.metrics_base import nearest_rank
from bot.domain.periods import this_week
from bot.domain.records import MessageRecord, QuestionResolved, QuestionSource, Resolution
from bot.services.ingest import IngestService
from storage.inbox import InboxRepository

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class Escalation:
    item: InboxItem
    role_ids: tuple[int, ...]


@dataclass
class SweepResult:
    opened: int = 0
    changed: int = 0
    cards: list[InboxItem] = field(default_factory=list)
    escalations: list[Escalation] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class InboxStats:
    counts: dict[ItemState, int]
    asked: int
    answered: int
    median_first_response: timedelta | None
    p90_first_response: timedelta | None


class InboxService:
    def __init__(self, repo: InboxRepository, ingest: IngestService, clock: Clock) -> None:
        self.repo = repo
        self.ingest = ingest
        self.clock = clock

    async def sweep(self, guild_ids: Sequence[int]) -> SweepResult:
        """One pass over these guilds' inboxes at the injected clock's ``now``."""
        result = SweepResult()
        if not guild_ids:
            return result
        await self.ingest.writer.flush()
        now = self.clock()
        due = [q for q in await self.repo.due_questions(guild_ids, now) if needs_item(q, now)]
        created = await self.repo.open_items(due, now)
        result.opened = len(created)
        for item_id in created:
            log.info("question became inbox item %s", item_id)
        for item in await self.repo.items_to_follow(guild_ids):
            changed = follow(item, now)
            if changed is not item and await self.repo.save(changed, item.version, now):
                result.changed += 1
                item = changed
            if (
                due_for_escalation(item, now)
                # Without an inbox channel a reminder could not be posted: keep it for later.
                and await self.inbox_channel_id(item.question.guild_id) is not None
                and await self.repo.claim_escalation(item.item_id, now)
            ):
                roles = await self._escalation_roles(item.question.guild_id)
                result.escalations.append(Escalation(item, roles))
        result.cards = await self.repo.cards_behind(guild_ids)
        return result

    async def _escalation_roles(self, guild_id: int) -> tuple[int, ...]:
        settings = (await self.ingest.view(guild_id)).settings
        if settings.escalation_role_id is not None:
            return (settings.escalation_role_id,)
        return tuple(sorted(settings.staff_role_ids))

    async def inbox_channel_id(self, guild_id: int) -> int | None:
        return (await self.ingest.view(guild_id)).settings.inbox_channel_id

    async def act(
        self, guild_id: int, item_id: int, version: int, action: Action, user_id: int
    ) -> InboxItem | Refusal:
        """A staff member pressed a card button; the card's version must still be current."""
        await self.ingest.writer.flush()  # what already happened counts (an answer just sent)
        item = await self.repo.item(item_id)
        if item is None or item.question.guild_id != guild_id:
            return Refusal("This inbox item no longer exists (its question was erased).")
        now = self.clock()
        current = follow(item, now)
        if current is not item and await self.repo.save(current, item.version, now):
            item = current
        if item.version != version:
            return Refusal("This card was out of date; it now shows the question's current state.")
        changed = apply_action(item, action, user_id, now)
        if isinstance(changed, Refusal):
            return changed
        if not await self.repo.save(changed, item.version, now):
            return Refusal("Someone changed this item at the same moment; look at the card again.")
        log.info("inbox item %s: %s by %s", item_id, action.value, user_id)
        if action in (Action.RESOLVE, Action.DISMISS):
            how = Resolution.CARD if action is Action.RESOLVE else Resolution.DISMISSED
            await self.ingest.writer.put(
                QuestionResolved(guild_id, item.question.message_id, user_id, now, how)
            )
            await self.ingest.writer.flush()
        return changed

    async def item(self, item_id: int) -> InboxItem | None:
        return await self.repo.item(item_id)

    async def card_posted(self, item: InboxItem, channel_id: int, message_id: int) -> None:
        await self.repo.card_posted(item.item_id, item.version, channel_id, message_id)

    async def card_gone(self, item: InboxItem) -> None:
        await self.repo.card_gone(item.item_id)

    # -- by hand -----------------------------------------------------------------------------

    async def flag(self, record: MessageRecord) -> QuestionFacts | str:
        """A moderator's "Flag as question": the message becomes a question (once)."""
        view = await self.ingest.view(record.guild_id)
        if record.author_is_staff:
            return "Messages by staff are never questions (staff answer them)."
        if not record.counted or record.author_id in view.opted_out:
            return "That message does not count as community activity (a bot, or not watched)."
        await self.ingest.writer.put(record)
        await self.ingest.writer.put(self.ingest.question(view, record, QuestionSource.FLAGGED))
        await self.ingest.writer.flush()
        question = await self.repo.question(record.message_id)
        if question is None:
            return "That message could not be stored; the log says why."
        return question

    async def mark_answer(
        self, guild_id: int, message_id: int, user_id: int, user_is_staff: bool
    ) -> list[int]:
        await self.ingest.writer.flush()
        return await self.repo.mark_answer(
            guild_id, message_id, user_id, user_is_staff, self.clock()
        )

    # -- reading -----------------------------------------------------------------------------

    async def list_items(
        self,
        guild_id: int,
        states: Sequence[ItemState],
        channel_id: int | None,
        page: int,
        per_page: int,
    ) -> tuple[list[InboxItem], int]:
        await self.ingest.writer.flush()
        return await self.repo.list_items(guild_id, states, channel_id, page * per_page, per_page)

    async def stats(self, guild_id: int) -> InboxStats:
        """Item counts now, and first-response times of questions asked this week (the guild's
        week, in its time zone)."""
        await self.ingest.writer.flush()
        settings = (await self.ingest.view(guild_id)).settings
        week = this_week(self.clock(), settings.timezone, settings.week_start)
        counts = await self.repo.state_counts(guild_id)
        asked = await self.repo.questions_between(guild_id, week.start, week.end)
        asked = [q for q in asked if q.withdrawn_at is None]
        waits = [q.first_response_at - q.asked_at for q in asked if q.first_response_at is not None]
        return InboxStats(
            counts=counts,
            asked=len(asked),
            answered=len(waits),
            median_first_response=nearest_rank(waits, 50),
            p90_first_response=nearest_rank(waits, 90),
        )
