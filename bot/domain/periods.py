"""Reporting periods: half-open ``[start, end)`` spans of whole local days (METRICS.md).

Every period is made of whole days in the guild's IANA time zone, so the day rollups (kept in
local days) answer it exactly. ``start`` and ``end`` are aware UTC datetimes at local midnights:
UTC because arithmetic and comparisons on aware datetimes that share a ``ZoneInfo`` ignore the
offset (a week with a DST change would be off by an hour), and so that the storage layer can
bind them as they are. Day arithmetic is done on local dates, never by adding hours, so a
calendar week across a DST change is 167 or 169 hours long and still a week.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MAX_DAYS = 366
"""The longest period a command accepts (a year, leap years included)."""

Zone = ZoneInfo | str


class PeriodError(ValueError):
    """A period a user typed that cannot be understood; the message says how to fix it."""


@dataclass(frozen=True, slots=True)
class Period:
    start: datetime
    """Local midnight of the first day, as an aware UTC datetime."""
    end: datetime
    """Local midnight after the last day (exclusive), as an aware UTC datetime."""
    label: str
    """How the period reads in a report: "last week", "2026-03-01..2026-03-07"."""
    timezone: str = "UTC"
    """The IANA zone whose local days make up the period."""

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("a period needs aware datetimes")
        if self.end <= self.start:
            raise ValueError("a period must end after it starts")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def first_day(self) -> date:
        return self.start.astimezone(self.zone).date()

    @property
    def end_day(self) -> date:
        """The local day after the last one (exclusive, like ``end``)."""
        return self.end.astimezone(self.zone).date()

    @property
    def last_day(self) -> date:
        return self.end_day - timedelta(days=1)

    @property
    def day_count(self) -> int:
        return (self.end_day - self.first_day).days

    @property
    def duration(self) -> timedelta:
        """The real time the period spans (a DST week is 167 or 169 hours)."""
        return self.end - self.start

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def contains_day(self, day: date) -> bool:
        return self.first_day <= day < self.end_day


def zone_of(tz: Zone) -> ZoneInfo:
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)


def local_midnight(day: date, tz: Zone) -> datetime:
    """The first instant of a local day, in UTC.

    Where a zone skips midnight itself (a DST change at 00:00), ``fold=0`` maps the missing
    00:00 to the instant of the change, which is exactly when that day begins.
    """
    return datetime.combine(day, time(0), tzinfo=zone_of(tz)).astimezone(UTC)


def local_today(now: datetime, tz: Zone) -> date:
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    return now.astimezone(zone_of(tz)).date()


def from_days(first_day: date, end_day: date, tz: Zone, label: str | None = None) -> Period:
    """The period of local days ``[first_day, end_day)``."""
    zone = zone_of(tz)
    return Period(
        start=local_midnight(first_day, zone),
        end=local_midnight(end_day, zone),
        label=label if label is not None else date_range_label(first_day, end_day),
        timezone=zone.key,
    )


def date_range_label(first_day: date, end_day: date) -> str:
    return f"{first_day.isoformat()}..{(end_day - timedelta(days=1)).isoformat()}"


def week_start_of(day: date, week_start: int) -> date:
    """The first day of the week holding ``day``; ``week_start`` 0 is Monday."""
    if not 0 <= week_start <= 6:
        raise ValueError("week_start is a weekday number, 0 (Monday) to 6 (Sunday)")
    return day - timedelta(days=(day.weekday() - week_start) % 7)


def this_week(now: datetime, tz: Zone, week_start: int) -> Period:
    """The calendar week holding ``now`` (still running: its end is in the future)."""
    first = week_start_of(local_today(now, tz), week_start)
    return from_days(first, first + timedelta(days=7), tz, "this week")


def last_week(now: datetime, tz: Zone, week_start: int) -> Period:
    """The last full calendar week before the one holding ``now``."""
    end = week_start_of(local_today(now, tz), week_start)
    return from_days(end - timedelta(days=7), end, tz, "last week")


def last_full_weeks(now: datetime, tz: Zone, week_start: int, weeks: int) -> Period:
    """The ``weeks`` full calendar weeks before the one holding ``now`` (peak hours use four)."""
    end = week_start_of(local_today(now, tz), week_start)
    return from_days(end - timedelta(days=7 * weeks), end, tz, f"last {weeks} full weeks")


def last_days(now: datetime, tz: Zone, n: int) -> Period:
    """The ``n`` local days ending with today: ``[today - (n - 1), tomorrow)``.

    Today is included although it is still running, so that "last 7 days" always holds the
    latest activity; a figure that needs elapsed time (response rate) says so itself.
    """
    if not 1 <= n <= MAX_DAYS:
        raise PeriodError(f"a period is 1 to {MAX_DAYS} days long, not {n}")
    today = local_today(now, tz)
    return from_days(today - timedelta(days=n - 1), today + timedelta(days=1), tz, f"last {n} days")


def between(start_date: date, end_date_inclusive: date, tz: Zone) -> Period:
    """The local days from ``start_date`` through ``end_date_inclusive``."""
    if end_date_inclusive < start_date:
        raise PeriodError(
            f"the period ends ({end_date_inclusive}) before it starts ({start_date}); "
            "write the earlier date first"
        )
    days = (end_date_inclusive - start_date).days + 1
    if days > MAX_DAYS:
        raise PeriodError(f"a period is at most {MAX_DAYS} days long; this one is {days} days")
    return from_days(start_date, end_date_inclusive + timedelta(days=1), tz)


def previous(period: Period) -> Period:
    """The period of the same number of local days just before (week-over-week).

    The previous calendar week of a week is the previous calendar week even across a DST
    change, when the two differ in hours.
    """
    first = period.first_day - timedelta(days=period.day_count)
    return from_days(first, period.first_day, period.timezone)


def trailing_days(period: Period, n: int, label: str | None = None) -> Period:
    """The ``n`` local days ending with the period's last day (MAU uses 28, WAU 7)."""
    return from_days(period.end_day - timedelta(days=n), period.end_day, period.timezone, label)


def local_days(period: Period, tz: Zone | None = None) -> list[date]:
    """The local dates the period is made of (in its own zone unless ``tz`` is given)."""
    zone = zone_of(tz) if tz is not None else period.zone
    first = period.start.astimezone(zone).date()
    end = period.end.astimezone(zone).date()
    return [first + timedelta(days=i) for i in range((end - first).days)]


def started_days(period: Period, now: datetime) -> list[date]:
    """The period's days that have begun at ``now`` (all of them for a past period)."""
    today = local_today(now, period.zone)
    return [day for day in local_days(period) if day <= today]


_NAMED = {
    "this week": "this_week",
    "this-week": "this_week",
    "last week": "last_week",
    "last-week": "last_week",
}
_LAST_DAYS = re.compile(r"^(?:last[ -]?(\d+)[ -]?days|(\d+)d)$")
_DATE_RANGE = re.compile(r"^(\S+)\s*\.\.\s*(\S+)$")
ACCEPTED_DAY_COUNTS = (7, 28, 90)
PERIOD_HELP = (
    'use "this week", "last week", "last 7 days", "last 28 days", "last 90 days" '
    '(or "7d", "28d", "90d"), or dates as "2026-03-01..2026-03-31"'
)


def parse_period(text: str, now: datetime, tz: Zone, week_start: int) -> Period:
    """A period from what a moderator typed; raises :class:`PeriodError` saying what to type."""
    cleaned = " ".join(text.strip().lower().split())
    if not cleaned:
        raise PeriodError(f"no period given: {PERIOD_HELP}")
    named = _NAMED.get(cleaned)
    if named == "this_week":
        return this_week(now, tz, week_start)
    if named == "last_week":
        return last_week(now, tz, week_start)
    days = _LAST_DAYS.match(cleaned)
    if days:
        n = int(days.group(1) or days.group(2))
        if n not in ACCEPTED_DAY_COUNTS:
            raise PeriodError(f"{n} days is not a reporting period: {PERIOD_HELP}")
        return last_days(now, tz, n)
    dates = _DATE_RANGE.match(cleaned)
    if dates:
        return between(_parse_date(dates.group(1)), _parse_date(dates.group(2)), tz)
    raise PeriodError(f'"{text.strip()}" is not a period: {PERIOD_HELP}')


def _parse_date(text: str) -> date:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise PeriodError(f'"{text}" is not a date: write it as YYYY-MM-DD, e.g. 2026-03-01')
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PeriodError(f'"{text}" is not a real date (check the month and day)') from None
