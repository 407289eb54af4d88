"""When weekly summaries are due, and for which week (pure; the scheduler only wakes us up).

A guild's summaries are scheduled on its summary day and time, in its time zone (default Monday
09:00). Each scheduled moment reports the last full week that ended at or before it. After a
restart, every scheduled moment within the grace window that passed is still due (each is posted
once: the database claim decides); older ones are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.domain.inbox import InboxItem
from bot.domain.metrics import Overview
from bot.domain.metrics_activity import PeakHours
from bot.domain.metrics_members import AtRiskReport, RetentionReport
from bot.domain.metrics_questions import HelpersReport
from bot.domain.periods import Period, from_days, week_start_of

DEFAULT_GRACE = timedelta(days=3)
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30))
"""Back-off between attempts after a failed post; after the last one the failure is reported."""


class SummaryKind(StrEnum):
    PUBLIC = "public"
    """For the community: celebrating activity, helpers, milestones, newcomers."""
    STAFF = "staff"
    """For moderators: response times, backlog, retention, churn, members who went quiet."""


@dataclass(frozen=True, slots=True)
class Schedule:
    timezone: str
    week_start: int
    summary_day: int
    """0 is Monday."""
    summary_time: time

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True, slots=True)
class DueSummary:
    scheduled_at: datetime
    """The scheduled moment (aware UTC)."""
    period: Period


def scheduled_at(schedule: Schedule, day: date) -> datetime:
    """The moment the summary of ``day``'s schedule happens, in UTC.

    A wall time that a DST change skips (02:30 on the spring-forward night) is read with the
    offset before the change, so it happens an hour "late" (03:30 new time); a repeated wall time
    happens the first time (``fold=0``).
    """
    return datetime.combine(day, schedule.summary_time, tzinfo=schedule.zone).astimezone(UTC)


def period_for(schedule: Schedule, moment: datetime) -> Period:
    """The last full week (by the guild's week start) that ended at or before ``moment``."""
    today = moment.astimezone(schedule.zone).date()
    this_week_starts = week_start_of(today, schedule.week_start)
    first = this_week_starts - timedelta(days=7)
    return from_days(first, this_week_starts, schedule.zone, "last week")


def latest_moments(schedule: Schedule, now: datetime, window: timedelta) -> list[datetime]:
    """The scheduled moments in ``(now - window, now]``, oldest first."""
    zone = schedule.zone
    found = []
    day = (now - window).astimezone(zone).date() - timedelta(days=1)
    last = now.astimezone(zone).date()
    while day <= last:
        if day.weekday() == schedule.summary_day:
            moment = scheduled_at(schedule, day)
            if now - window < moment <= now:
                found.append(moment)
        day += timedelta(days=1)
    return found


def due_summaries(
    schedule: Schedule, now: datetime, grace: timedelta = DEFAULT_GRACE
) -> list[DueSummary]:
    """What should have been posted by ``now`` and is still within the grace window."""
    return [DueSummary(m, period_for(schedule, m)) for m in latest_moments(schedule, now, grace)]


def skipped_summaries(
    schedule: Schedule, now: datetime, grace: timedelta, lookback: timedelta
) -> list[DueSummary]:
    """Scheduled moments older than the grace window (within ``lookback``): too late to post."""
    older = latest_moments(schedule, now - grace, lookback)
    return [DueSummary(m, period_for(schedule, m)) for m in older]


def next_moment(schedule: Schedule, now: datetime) -> datetime:
    """The next scheduled moment strictly after ``now``."""
    day = now.astimezone(schedule.zone).date()
    for offset in range(15):
        candidate_day = day + timedelta(days=offset)
        if candidate_day.weekday() == schedule.summary_day:
            moment = scheduled_at(schedule, candidate_day)
            if moment > now:
                return moment
    raise AssertionError("a weekly schedule always has a moment within two weeks")


def retry_at(attempts: int, failed_at: datetime) -> datetime | None:
    """When a failed summary may be tried again; None when it has failed too often."""
    if attempts > len(RETRY_DELAYS):
        return None
    return failed_at + RETRY_DELAYS[attempts - 1]


MILESTONES = (100, 250, 500, 1000, 2500, 5000, 10_000, 25_000, 50_000, 100_000, 250_000)


def milestones_crossed(previous: float | None, current: float | None) -> tuple[int, ...]:
    """Member-count milestones passed during the period (100, 250, 500, 1000, ...)."""
    if previous is None or current is None:
        return ()
    return tuple(m for m in MILESTONES if previous < m <= current)


@dataclass(frozen=True, slots=True)
class Summary:
    """Everything one weekly summary shows (the renderer turns it into an embed and charts)."""

    kind: SummaryKind
    guild_id: int
    period: Period
    timezone: str
    target_minutes: int
    overview: Overview
    days: tuple[date, ...]
    daily_messages: tuple[int, ...]
    daily_active: tuple[int, ...]
    helpers: HelpersReport
    peak_hours: PeakHours | None = None
    milestones: tuple[int, ...] = ()
    retention: RetentionReport | None = None
    at_risk: AtRiskReport | None = None
    backlog: tuple[InboxItem, ...] = ()
    backlog_total: int = 0
    newcomers: Overview | None = None
    """The week before ``period``: its joiners' first 7 days have passed, so their activation
    and fast churn are known (the moderators' summary)."""
