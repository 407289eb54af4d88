"""Activity and engagement figures (METRICS.md, "Activity" and the engagement rates).

Inputs are rollup rows: per guild and local day, per member and local day, per channel and local
day, and per UTC hour. A summary reads rows proportional to its period, never the history.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from bot.domain.metrics_base import plain, ratio
from bot.domain.periods import Period, local_days, trailing_days

COMMUNICATOR_MESSAGES = 3
"""Discord Server Insights' communicator: 3 or more counted messages in the period."""
WAU_DAYS = 7
MAU_DAYS = 28
BUSIEST_SLOTS = 3


@dataclass(frozen=True, slots=True)
class GuildDayRow:
    """The ``guild_days`` rollup: counted-message totals of one local day."""

    day: date
    messages: int = 0
    top_level: int = 0
    replies: int = 0
    threads_started: int = 0
    forwards: int = 0
    reactions_received: int = 0


@dataclass(frozen=True, slots=True)
class MemberDayRow:
    """The ``member_days`` rollup: one member's counted messages on one local day."""

    day: date
    user_id: int
    messages: int


@dataclass(frozen=True, slots=True)
class ChannelDayRow:
    """The ``channel_days`` rollup (threads count in their parent channel)."""

    day: date
    channel_id: int
    messages: int


@dataclass(frozen=True, slots=True)
class HourRow:
    """The ``guild_hours`` rollup: counted messages in one UTC hour."""

    hour_start_utc: datetime
    messages: int


@dataclass(frozen=True, slots=True)
class Engagement:
    """Counted messages of a period and the three engagement rates built on them."""

    messages: int
    top_level: int
    replies: int
    threads_started: int
    forwards: int
    reactions_received: int

    @property
    def conversation_rate(self) -> float | None:
        """Replies / top-level messages."""
        return ratio(self.replies, self.top_level)

    @property
    def applause_rate(self) -> float | None:
        """Reactions received / counted messages."""
        return ratio(self.reactions_received, self.messages)

    @property
    def amplification_rate(self) -> float | None:
        """(Threads started from a message + forwards) / top-level messages."""
        return ratio(self.threads_started + self.forwards, self.top_level)


def engagement(rows: Iterable[GuildDayRow], period: Period) -> Engagement:
    """Sums the guild-day rows that fall in the period (rows outside it are ignored)."""
    totals = [0] * 6
    for row in rows:
        if period.contains_day(row.day):
            for i, value in enumerate(
                (
                    row.messages,
                    row.top_level,
                    row.replies,
                    row.threads_started,
                    row.forwards,
                    row.reactions_received,
                )
            ):
                totals[i] += value
    return Engagement(*totals)


@dataclass(frozen=True, slots=True)
class MemberActivity:
    """Who was active: the figures that need distinct members (from ``member_days``)."""

    daily_active: tuple[int, ...]
    """DAU on each day of the period that has begun, oldest first."""
    active_members: int
    """Members with at least one counted message in the period."""
    communicators: int
    """Members with 3 or more counted messages in the period."""
    wau: int
    """Active members in the 7 local days ending with the period's last day."""
    mau: int
    """Active members in the 28 local days ending with the period's last day."""

    @property
    def dau(self) -> float | None:
        """Mean DAU over the period's days that have begun."""
        return ratio(sum(self.daily_active), len(self.daily_active))

    @property
    def stickiness(self) -> float | None:
        """Mean DAU / MAU."""
        mean = self.dau
        return None if mean is None else ratio(mean, self.mau)


def activity_windows(period: Period) -> tuple[Period, Period]:
    """The WAU and MAU windows of a period: 7 and 28 local days ending with its last day."""
    return trailing_days(period, WAU_DAYS, "WAU window"), trailing_days(
        period, MAU_DAYS, "MAU window"
    )


def member_activity(
    rows: Iterable[MemberDayRow], period: Period, days: Sequence[date] | None = None
) -> MemberActivity:
    """The activity figures of a period from member-day rows covering its MAU window.

    ``days`` are the days whose DAU is averaged (by default all of the period's days; a running
    period passes the days that have begun, so days to come do not pull the mean down).
    """
    wau_window, mau_window = activity_windows(period)
    counted_days = list(days) if days is not None else local_days(period)
    per_day: dict[date, set[int]] = defaultdict(set)
    in_period: dict[int, int] = defaultdict(int)
    wau: set[int] = set()
    mau: set[int] = set()
    for row in rows:
        if row.messages <= 0:
            continue
        if period.contains_day(row.day):
            per_day[row.day].add(row.user_id)
            in_period[row.user_id] += row.messages
        if wau_window.contains_day(row.day):
            wau.add(row.user_id)
        if mau_window.contains_day(row.day):
            mau.add(row.user_id)
    return MemberActivity(
        daily_active=tuple(len(per_day.get(day, ())) for day in counted_days),
        active_members=len(in_period),
        communicators=sum(1 for n in in_period.values() if n >= COMMUNICATOR_MESSAGES),
        wau=len(wau),
        mau=len(mau),
    )


@dataclass(frozen=True, slots=True)
class Ranked:
    """A channel or member and its counted messages in a period."""

    id: int
    messages: int


def ranked(totals: Mapping[int, int], n: int) -> tuple[Ranked, ...]:
    """The ``n`` largest totals, most messages first; ties go to the smaller id (stable)."""
    best = sorted(((-count, key) for key, count in totals.items() if count > 0))[:n]
    return tuple(Ranked(key, -neg) for neg, key in best)


def top_channels(rows: Iterable[ChannelDayRow], period: Period, n: int = 5) -> tuple[Ranked, ...]:
    totals: dict[int, int] = defaultdict(int)
    for row in rows:
        if period.contains_day(row.day):
            totals[row.channel_id] += row.messages
    return ranked(totals, n)


def top_members(rows: Iterable[MemberDayRow], period: Period, n: int = 5) -> tuple[Ranked, ...]:
    totals: dict[int, int] = defaultdict(int)
    for row in rows:
        if period.contains_day(row.day):
            totals[row.user_id] += row.messages
    return ranked(totals, n)


def daily_messages(
    rows: Iterable[ChannelDayRow | MemberDayRow | GuildDayRow], period: Period
) -> tuple[int, ...]:
    """Counted messages on each local day of the period (for a chart), oldest first."""
    per_day: dict[date, int] = defaultdict(int)
    for row in rows:
        per_day[row.day] += row.messages
    return tuple(per_day.get(day, 0) for day in local_days(period))


@dataclass(frozen=True, slots=True)
class HourSlot:
    weekday: int
    """0 is Monday, as in ``date.weekday()``."""
    hour: int
    """The local hour, 0-23."""
    messages: int


@dataclass(frozen=True, slots=True)
class PeakHours:
    """Counted messages by local weekday x hour over a period (the last four full weeks)."""

    period: Period
    grid: tuple[tuple[int, ...], ...]
    """Seven rows, Monday first, of 24 local hours."""
    busiest: tuple[HourSlot, ...]
    """The busiest three hour-slots, busiest first (ties: earlier in the week first)."""

    def to_dict(self) -> dict[str, object]:
        return {
            "period": plain(self.period),
            "peak_hours": [list(row) for row in self.grid],
            "busiest_hours": [plain(slot) for slot in self.busiest],
        }


def peak_hours(rows: Iterable[HourRow], period: Period) -> PeakHours:
    """Attributes each UTC hour to the local weekday and hour in which it starts.

    In zones with whole-hour offsets this is exact. In half-hour zones (India, parts of
    Australia) each slot is shifted by the odd half hour, because the rollup is hourly in UTC.
    Around a DST change a local hour may receive two UTC hours, or none.
    """
    zone = period.zone
    grid = [[0] * 24 for _ in range(7)]
    for row in rows:
        if period.contains(row.hour_start_utc):
            local = row.hour_start_utc.astimezone(zone)
            grid[local.weekday()][local.hour] += row.messages
    slots = sorted(
        (
            HourSlot(weekday, hour, grid[weekday][hour])
            for weekday in range(7)
            for hour in range(24)
        ),
        key=lambda slot: (-slot.messages, slot.weekday, slot.hour),
    )
    busiest = tuple(slot for slot in slots[:BUSIEST_SLOTS] if slot.messages > 0)
    return PeakHours(period, tuple(tuple(row) for row in grid), busiest)
