"""Members: growth, activation, retention cohorts and at-risk members (METRICS.md).

Conventions:
- Joins and leaves are membership events in the period (a member who joins twice counts twice).
  A ban is not counted apart: Discord reports the removal of a banned member as a leave too.
- Figures about "the first 7 days" (activation, fast churn) count only the joiners whose 7 days
  have elapsed at ``now``; the others are reported as pending.
- Member counts are humans whose join time is known.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.domain.metrics_activity import MemberDayRow
from bot.domain.metrics_base import plain, ratio
from bot.domain.periods import Period, Zone, local_today, week_start_of, zone_of

FIRST_DAYS = timedelta(days=7)
INSIGHTS_ACTIVATION_MESSAGES = 3
"""Discord Server Insights counts a new member as activated at 3+ messages."""
QUIET_DAYS = 14
QUIET_WEEKS = 4
QUIET_MIN_ACTIVE_WEEKS = 3
RETURN_INACTIVE_WEEKS = 4


@dataclass(frozen=True, slots=True)
class MemberEventRow:
    user_id: int
    kind: str
    """"join" or "leave" (also "ban", "unban", which the figures leave aside)."""
    at: datetime


@dataclass(frozen=True, slots=True)
class MemberSpan:
    """A ``members`` row: when the member last joined and, if gone, left."""

    user_id: int
    joined_at: datetime | None
    left_at: datetime | None
    is_bot: bool = False


def member_count_at(spans: Iterable[MemberSpan], moment: datetime) -> int:
    """Humans who had joined before ``moment`` and had not left by then."""
    return sum(
        1
        for s in spans
        if not s.is_bot
        and s.joined_at is not None
        and s.joined_at < moment
        and (s.left_at is None or s.left_at >= moment)
    )


@dataclass(frozen=True, slots=True)
class Growth:
    joins: int
    leaves: int
    member_count_at_start: int
    member_count_at_end: int

    @property
    def net_growth(self) -> int:
        return self.joins - self.leaves

    @property
    def churn_rate(self) -> float | None:
        """Leaves in the period / member count at its start."""
        return ratio(self.leaves, self.member_count_at_start)


def growth(
    events: Iterable[MemberEventRow], period: Period, count_at_start: int, count_at_end: int
) -> Growth:
    joins = leaves = 0
    for e in events:
        if period.contains(e.at):
            joins += e.kind == "join"
            leaves += e.kind == "leave"
    return Growth(joins, leaves, count_at_start, count_at_end)


@dataclass(frozen=True, slots=True)
class Joiner:
    """A join in the period, with what happened in the member's first 7 days."""

    user_id: int
    joined_at: datetime
    left_at: datetime | None
    """The first leave after this join, if any."""
    messages_within_7_days: int


@dataclass(frozen=True, slots=True)
class Activation:
    joiners: int
    """Joins in the period whose first 7 days have elapsed: the denominator of both rates."""
    pending: int
    """Joins still in their first 7 days."""
    activated: int
    """Of ``joiners``, those with 1+ counted message within 7 days of joining."""
    activated_insights: int
    """Of ``joiners``, those with 3+ (Discord Server Insights' variant)."""
    fast_churned: int
    """Of ``joiners``, those who left within 7 days of joining."""

    @property
    def activation_rate(self) -> float | None:
        return ratio(self.activated, self.joiners)

    @property
    def insights_activation_rate(self) -> float | None:
        return ratio(self.activated_insights, self.joiners)

    @property
    def fast_churn_rate(self) -> float | None:
        return ratio(self.fast_churned, self.joiners)


def activation(joiners: Iterable[Joiner], period: Period, now: datetime) -> Activation:
    done = pending = activated = insights = fast = 0
    for j in joiners:
        if not period.contains(j.joined_at):
            continue
        if j.joined_at + FIRST_DAYS > now:
            pending += 1
            continue
        done += 1
        activated += j.messages_within_7_days >= 1
        insights += j.messages_within_7_days >= INSIGHTS_ACTIVATION_MESSAGES
        fast += j.left_at is not None and j.left_at - j.joined_at <= FIRST_DAYS
    return Activation(done, pending, activated, insights, fast)


@dataclass(frozen=True, slots=True)
class Cohort:
    """Members who joined in one week, and the share of them active in each week after."""

    week_start: date
    size: int
    active: tuple[int | None, ...]
    """Cohort members active in week W+N, for N = 0..7; None where week W+N has not ended."""

    @property
    def retention(self) -> tuple[float | None, ...]:
        return tuple(None if n is None else ratio(n, self.size) for n in self.active)

    def to_dict(self) -> dict[str, object]:
        cells: dict[str, object] = {"cohort_week": self.week_start.isoformat(), "size": self.size}
        for n, value in enumerate(self.retention):
            cells[f"week_{n}_retention"] = value
        return cells


@dataclass(frozen=True, slots=True)
class RetentionReport:
    """Threado's cohort table: the last 8 weekly join cohorts by N = 0..7."""

    this_week_start: date
    cohorts: tuple[Cohort, ...]
    """Oldest first."""

    @property
    def week_1_retention(self) -> float | None:
        """Week-1 retention of the newest cohort whose week 1 has ended."""
        for cohort in reversed(self.cohorts):
            if len(cohort.active) > 1 and cohort.active[1] is not None:
                return cohort.retention[1]
        return None

    def to_dict(self) -> dict[str, object]:
        return {
            "this_week_start": self.this_week_start.isoformat(),
            "week_1_retention": self.week_1_retention,
            "cohort_table": plain(self.cohorts),
        }


def cohort_weeks(now: datetime, tz: Zone, week_start: int, weeks: int = 8) -> list[date]:
    """The first days of the last ``weeks`` full weeks, oldest first."""
    current = week_start_of(local_today(now, tz), week_start)
    return [current - timedelta(days=7 * (weeks - k)) for k in range(weeks)]


def cohort_table(
    joins: Iterable[MemberEventRow],
    activity: Iterable[MemberDayRow],
    now: datetime,
    tz: Zone,
    week_start: int,
    weeks: int = 8,
) -> RetentionReport:
    """Cohorts are the last ``weeks`` full weeks; a cohort member is active in week W+N if they
    posted a counted message in it. ``activity`` needs only the cohorts' members' rows."""
    zone = zone_of(tz)
    starts = cohort_weeks(now, zone, week_start, weeks)
    current = starts[-1] + timedelta(days=7)
    first = starts[0]
    members: dict[int, set[int]] = defaultdict(set)
    for e in joins:
        if e.kind != "join":
            continue
        day = e.at.astimezone(zone).date()
        if first <= day < current:
            members[(day - first).days // 7].add(e.user_id)
    active_weeks: dict[int, set[int]] = defaultdict(set)
    for row in activity:
        if first <= row.day < current and row.messages > 0:
            active_weeks[row.user_id].add((row.day - first).days // 7)
    cohorts = []
    for k, week in enumerate(starts):
        cohort = members.get(k, set())
        cells: list[int | None] = []
        for n in range(weeks):
            if k + n >= weeks:
                cells.append(None)
            else:
                cells.append(sum(1 for u in cohort if k + n in active_weeks.get(u, ())))
        cohorts.append(Cohort(week, len(cohort), tuple(cells)))
    return RetentionReport(current, tuple(cohorts))


@dataclass(frozen=True, slots=True)
class RecentActivity:
    """A member's counted messages in the 4 weeks before the last 14 days, and in those days."""

    user_id: int
    weekly_messages: tuple[int, ...]
    """Four 7-day blocks before the last 14 days, oldest first."""
    recent_messages: int
    """In the last 14 days (today included)."""
    last_active: date | None


def quiet_blocks(today: date) -> tuple[list[tuple[date, date]], date]:
    """The four 7-day blocks ``[start, end)`` before the last 14 days, and the first of those
    14 days (which end with today)."""
    quiet_start = today - timedelta(days=QUIET_DAYS - 1)
    blocks = [
        (
            quiet_start - timedelta(days=7 * (QUIET_WEEKS - i)),
            quiet_start - timedelta(days=7 * (QUIET_WEEKS - i - 1)),
        )
        for i in range(QUIET_WEEKS)
    ]
    return blocks, quiet_start


def recent_activity(rows: Iterable[MemberDayRow], today: date) -> list[RecentActivity]:
    """Per member, from member-day rows (the storage layer answers the same in SQL)."""
    blocks, quiet_start = quiet_blocks(today)
    first = blocks[0][0]
    weekly: dict[int, list[int]] = defaultdict(lambda: [0] * QUIET_WEEKS)
    recent: dict[int, int] = defaultdict(int)
    last: dict[int, date] = {}
    for row in rows:
        if row.messages <= 0 or not first <= row.day <= today:
            continue
        if row.day >= quiet_start:
            recent[row.user_id] += row.messages
        else:
            weekly[row.user_id][(row.day - first).days // 7] += row.messages
        if row.user_id not in last or last[row.user_id] < row.day:
            last[row.user_id] = row.day
    return [
        RecentActivity(u, tuple(weekly.get(u, [0] * QUIET_WEEKS)), recent.get(u, 0), last.get(u))
        for u in sorted(set(weekly) | set(recent))
    ]


@dataclass(frozen=True, slots=True)
class QuietMember:
    user_id: int
    active_weeks: int
    messages: int
    """In the four weeks before going quiet."""
    last_active: date | None


def went_quiet(summaries: Iterable[RecentActivity]) -> tuple[QuietMember, ...]:
    """Active in at least 3 of the 4 weeks before the last 14 days, silent in those 14 days.
    The most engaged first (more active weeks, then more messages)."""
    quiet = [
        QuietMember(
            s.user_id, sum(n > 0 for n in s.weekly_messages), sum(s.weekly_messages), s.last_active
        )
        for s in summaries
        if s.recent_messages == 0
        and sum(n > 0 for n in s.weekly_messages) >= QUIET_MIN_ACTIVE_WEEKS
    ]
    quiet.sort(key=lambda q: (-q.active_weeks, -q.messages, q.user_id))
    return tuple(quiet)


@dataclass(frozen=True, slots=True)
class ReturnCandidate:
    """A member active in the week, and the last day they were active before it."""

    user_id: int
    messages: int
    last_active_before: date | None


def return_candidates(rows: Iterable[MemberDayRow], week: Period) -> list[ReturnCandidate]:
    """From member-day rows (all of the members' history before the week is needed)."""
    messages: dict[int, int] = defaultdict(int)
    before: dict[int, date] = {}
    for row in rows:
        if row.messages <= 0:
            continue
        if week.contains_day(row.day):
            messages[row.user_id] += row.messages
        elif row.day < week.first_day and (
            row.user_id not in before or before[row.user_id] < row.day
        ):
            before[row.user_id] = row.day
    return [ReturnCandidate(u, n, before.get(u)) for u, n in sorted(messages.items())]


@dataclass(frozen=True, slots=True)
class Returner:
    user_id: int
    messages: int
    last_active_before: date
    inactive_weeks: int
    """Full weeks without a counted message before the week."""


def came_back(candidates: Iterable[ReturnCandidate], week: Period) -> tuple[Returner, ...]:
    """Active in the week after 4 or more inactive weeks (members never active before are
    newcomers, not returners). Longest absence first."""
    back = []
    for c in candidates:
        if c.messages <= 0 or c.last_active_before is None:
            continue
        idle_days = (week.first_day - c.last_active_before).days - 1
        if idle_days >= 7 * RETURN_INACTIVE_WEEKS:
            back.append(Returner(c.user_id, c.messages, c.last_active_before, idle_days // 7))
    back.sort(key=lambda r: (-r.inactive_weeks, -r.messages, r.user_id))
    return tuple(back)


@dataclass(frozen=True, slots=True)
class AtRiskReport:
    today: date
    week: Period
    went_quiet: tuple[QuietMember, ...]
    came_back: tuple[Returner, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "today": self.today.isoformat(),
            "week": plain(self.week),
            "went_quiet": plain(self.went_quiet),
            "came_back": plain(self.came_back),
        }
