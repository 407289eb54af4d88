"""What every figure shares: rates, percentiles, week-over-week changes, plain output."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Any

MIN_CASES = 5
"""A rate resting on fewer cases is shown as "too little data", never as a percentage."""


def ratio(numerator: float, denominator: float) -> float | None:
    """A rate, or None when there is nothing to divide by (shown as "no data", never 0)."""
    return numerator / denominator if denominator else None


def nearest_rank(values: Iterable[Any], percent: int) -> Any:
    """The nearest-rank percentile: the smallest value with at least ``percent``% of the values
    at or below it, i.e. the ``ceil(percent / 100 * n)``-th smallest (1-based). None if empty.

    It is always one of the observed values (no interpolation), so "median 12 min" is a time a
    member really waited. With an even count the median is the lower middle value.
    """
    if not 0 < percent <= 100:
        raise ValueError("percent is in (0, 100]")
    ordered = sorted(values)
    if not ordered:
        return None
    rank = -(-percent * len(ordered) // 100)
    return ordered[max(rank, 1) - 1]


@dataclasses.dataclass(frozen=True, slots=True)
class Distribution:
    """A duration reported as median and 90th percentile (nearest rank), never a mean alone."""

    count: int
    median: timedelta | None
    p90: timedelta | None


def distribution(durations: Iterable[timedelta]) -> Distribution:
    values = sorted(durations)
    return Distribution(len(values), nearest_rank(values, 50), nearest_rank(values, 90))


@dataclasses.dataclass(frozen=True, slots=True)
class Change:
    """A headline figure next to its previous-period value.

    Counts change in percent; rates and durations change absolutely (``percent`` stays None).
    ``too_little_data`` marks a rate whose current value rests on fewer than 5 cases; ``delta``
    is None whenever either side is missing or too thin to compare.
    """

    current: float | None
    previous: float | None
    delta: float | None
    percent: float | None
    too_little_data: bool = False


def count_change(current: float | None, previous: float | None) -> Change:
    if current is None or previous is None:
        return Change(current, previous, None, None)
    delta = current - previous
    percent = delta / previous * 100 if previous > 0 else None
    return Change(current, previous, delta, percent)


def rate_change(
    current: float | None,
    previous: float | None,
    current_cases: int,
    previous_cases: int,
    min_cases: int = MIN_CASES,
) -> Change:
    too_little = current_cases < min_cases
    comparable = not too_little and previous_cases >= min_cases
    if current is None or previous is None or not comparable:
        return Change(current, previous, None, None, too_little)
    return Change(current, previous, current - previous, None, too_little)


def seconds(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


def duration_change(
    current: timedelta | None,
    previous: timedelta | None,
    current_cases: int,
    previous_cases: int,
) -> Change:
    """A duration (median response time, ...) as seconds, changing absolutely like a rate."""
    return rate_change(seconds(current), seconds(previous), current_cases, previous_cases)


def plain(value: Any) -> Any:
    """JSON-ready data: dataclasses to dicts (field names are the METRICS.md terms), dates and
    times to ISO 8601, durations to seconds, tuples to lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        to_dict = getattr(value, "to_dict", None)
        if to_dict is not None:
            return to_dict()
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, dict):
        return {str(plain(k)): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | frozenset | set):
        return [plain(v) for v in value]
    return value
