"""Questions and responses (METRICS.md, "Questions and responses").

Every figure here reads the ``questions`` rows of the questions asked in the period, whose
first-response fields the writer keeps up to date: never the message history.

Conventions, the same for every rate:
- A withdrawn question (deleted before any response) is left out of every figure but its own
  count.
- A "within T" rate counts only the questions whose T has elapsed at ``now`` (a question asked
  ten minutes ago is neither a success nor a failure of the 24-hour response rate yet).
  ``within`` means at most T: a response at exactly 30:00 is within 30 minutes.
- Durations are reported as median and 90th percentile by nearest rank (see
  :func:`bot.domain.metrics_base.nearest_rank`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.metrics_base import Distribution, distribution, plain, ratio
from bot.domain.periods import Period

RESPONSE_WINDOW = timedelta(hours=24)
BUCKETS = (
    ("30m", timedelta(minutes=30)),
    ("4h", timedelta(hours=4)),
    ("24h", timedelta(hours=24)),
    ("7d", timedelta(days=7)),
)
"""The reported buckets, the ones community managers ask for."""


@dataclass(frozen=True, slots=True)
class QuestionRow:
    """The fields of a ``questions`` row that the figures read."""

    message_id: int
    channel_id: int
    asker_id: int
    asked_at: datetime
    state: str
    target_minutes: int
    first_response_at: datetime | None = None
    first_responder_id: int | None = None
    first_response_by_staff: bool | None = None
    first_staff_response_at: datetime | None = None
    resolved_at: datetime | None = None
    withdrawn_at: datetime | None = None
    thread_id: int | None = None

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    @property
    def first_response_time(self) -> timedelta | None:
        return None if self.first_response_at is None else self.first_response_at - self.asked_at

    @property
    def staff_first_response_time(self) -> timedelta | None:
        at = self.first_staff_response_at
        return None if at is None else at - self.asked_at

    @property
    def community_first_response_time(self) -> timedelta | None:
        """The first response time of a question whose first response was not by staff."""
        return self.first_response_time if self.first_response_by_staff is False else None

    @property
    def time_to_resolution(self) -> timedelta | None:
        return None if self.resolved_at is None else self.resolved_at - self.asked_at

    def answered_within(self, limit: timedelta) -> bool:
        frt = self.first_response_time
        return frt is not None and frt <= limit


@dataclass(frozen=True, slots=True)
class Bucket:
    """Questions answered within ``limit``, of those whose ``limit`` has elapsed."""

    label: str
    limit: timedelta
    answered: int
    cases: int

    @property
    def rate(self) -> float | None:
        return ratio(self.answered, self.cases)

    def to_dict(self) -> dict[str, object]:
        return {
            "bucket": self.label,
            "limit_seconds": self.limit.total_seconds(),
            "answered": self.answered,
            "cases": self.cases,
            "rate": self.rate,
        }


@dataclass(frozen=True, slots=True)
class ResponseStats:
    questions: int
    """Questions asked in the period (not withdrawn)."""
    withdrawn: int
    answered: int
    """Questions with a response so far."""
    resolved: int
    response_rate_cases: int
    """Questions whose 24 hours have elapsed: the response rate's denominator."""
    responded_within_24h: int
    within_target: int
    within_target_cases: int
    """Questions whose own target (the channel's SLA) has elapsed."""
    buckets: tuple[Bucket, ...]
    first_response_time: Distribution
    staff_first_response_time: Distribution
    community_first_response_time: Distribution
    time_to_resolution: Distribution

    @property
    def response_rate(self) -> float | None:
        return ratio(self.responded_within_24h, self.response_rate_cases)

    @property
    def within_target_rate(self) -> float | None:
        return ratio(self.within_target, self.within_target_cases)

    def to_dict(self) -> dict[str, object]:
        figures: dict[str, object] = {
            "questions": self.questions,
            "withdrawn_questions": self.withdrawn,
            "answered_questions": self.answered,
            "resolved_questions": self.resolved,
            "response_rate": self.response_rate,
            "response_rate_cases": self.response_rate_cases,
            "within_target_rate": self.within_target_rate,
            "within_target_cases": self.within_target_cases,
        }
        for name in (
            "first_response_time",
            "staff_first_response_time",
            "community_first_response_time",
            "time_to_resolution",
        ):
            dist: Distribution = getattr(self, name)
            figures[f"{name}_median"] = plain(dist.median)
            figures[f"{name}_p90"] = plain(dist.p90)
            figures[f"{name}_cases"] = dist.count
        for bucket in self.buckets:
            figures[f"answered_within_{bucket.label}_rate"] = bucket.rate
            figures[f"answered_within_{bucket.label}_cases"] = bucket.cases
        return figures


def asked_in(questions: Iterable[QuestionRow], period: Period) -> list[QuestionRow]:
    return [q for q in questions if period.contains(q.asked_at)]


def response_stats(
    questions: Iterable[QuestionRow], period: Period, now: datetime
) -> ResponseStats:
    """Response figures of the questions asked in the period, as known at ``now``."""
    asked = asked_in(questions, period)
    live = [q for q in asked if not q.withdrawn]

    def elapsed(q: QuestionRow, limit: timedelta) -> bool:
        return q.asked_at + limit <= now

    due_24h = [q for q in live if elapsed(q, RESPONSE_WINDOW)]
    due_target = [q for q in live if elapsed(q, timedelta(minutes=q.target_minutes))]
    buckets = []
    for label, limit in BUCKETS:
        due = [q for q in live if elapsed(q, limit)]
        buckets.append(Bucket(label, limit, sum(q.answered_within(limit) for q in due), len(due)))
    return ResponseStats(
        questions=len(live),
        withdrawn=len(asked) - len(live),
        answered=sum(q.first_response_at is not None for q in live),
        resolved=sum(q.resolved_at is not None for q in live),
        response_rate_cases=len(due_24h),
        responded_within_24h=sum(q.answered_within(RESPONSE_WINDOW) for q in due_24h),
        within_target=sum(
            q.answered_within(timedelta(minutes=q.target_minutes)) for q in due_target
        ),
        within_target_cases=len(due_target),
        buckets=tuple(buckets),
        first_response_time=_durations(q.first_response_time for q in live),
        staff_first_response_time=_durations(q.staff_first_response_time for q in live),
        community_first_response_time=_durations(q.community_first_response_time for q in live),
        time_to_resolution=_durations(q.time_to_resolution for q in live),
    )


def _durations(values: Iterable[timedelta | None]) -> Distribution:
    return distribution(v for v in values if v is not None)


@dataclass(frozen=True, slots=True)
class ChannelResponses:
    channel_id: int
    stats: ResponseStats

    def to_dict(self) -> dict[str, object]:
        return {"channel_id": self.channel_id, **self.stats.to_dict()}


@dataclass(frozen=True, slots=True)
class Helper:
    """A member who gave first responses to other members' questions."""

    user_id: int
    staff: bool
    first_responses: int
    first_response_time: Distribution

    def to_dict(self) -> dict[str, object]:
        return {
            "user_id": self.user_id,
            "staff": self.staff,
            "first_responses": self.first_responses,
            "first_response_time_median": plain(self.first_response_time.median),
            "first_response_time_p90": plain(self.first_response_time.p90),
        }


def responders(questions: Iterable[QuestionRow], period: Period) -> tuple[Helper, ...]:
    """Everyone who gave a first response to a question asked in the period (not the asker),
    most first responses first; ties go to the faster median, then the smaller id."""
    given: dict[tuple[int, bool], list[timedelta]] = defaultdict(list)
    for q in asked_in(questions, period):
        who, frt = q.first_responder_id, q.first_response_time
        if q.withdrawn or who is None or who == q.asker_id or frt is None:
            continue
        given[(who, bool(q.first_response_by_staff))].append(frt)
    helpers = [
        Helper(user_id, staff, len(times), distribution(times))
        for (user_id, staff), times in given.items()
    ]
    helpers.sort(key=lambda h: (-h.first_responses, h.first_response_time.median, h.user_id))
    return tuple(helpers)


@dataclass(frozen=True, slots=True)
class HelpersReport:
    """Top helpers: most first responses in the period, staff and community ranked apart."""

    period: Period
    staff: tuple[Helper, ...]
    community: tuple[Helper, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "period": plain(self.period),
            "top_helpers_staff": plain(self.staff),
            "top_helpers_community": plain(self.community),
        }


def top_helpers(questions: Iterable[QuestionRow], period: Period, n: int = 10) -> HelpersReport:
    everyone = responders(questions, period)
    return HelpersReport(
        period,
        staff=tuple(h for h in everyone if h.staff)[:n],
        community=tuple(h for h in everyone if not h.staff)[:n],
    )


@dataclass(frozen=True, slots=True)
class ResponsesReport:
    """Response figures for the whole guild, by channel and by responder."""

    period: Period
    overall: ResponseStats
    by_channel: tuple[ChannelResponses, ...]
    by_responder: tuple[Helper, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "period": plain(self.period),
            **self.overall.to_dict(),
            "by_channel": plain(self.by_channel),
            "by_responder": plain(self.by_responder),
        }


def responses_report(
    questions: Iterable[QuestionRow], period: Period, now: datetime
) -> ResponsesReport:
    """Channels ordered by questions asked (most first), then id."""
    asked = asked_in(questions, period)
    per_channel: dict[int, list[QuestionRow]] = defaultdict(list)
    for q in asked:
        per_channel[q.channel_id].append(q)
    by_channel = [
        ChannelResponses(channel_id, response_stats(rows, period, now))
        for channel_id, rows in per_channel.items()
    ]
    by_channel.sort(key=lambda c: (-c.stats.questions, c.channel_id))
    return ResponsesReport(
        period,
        overall=response_stats(asked, period, now),
        by_channel=tuple(by_channel),
        by_responder=responders(asked, period),
    )
