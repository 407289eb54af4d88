"""Figures written for people: "1 h 20 min", "42%", "▲ +12%", "too little data".

Shared by the ``/stats`` embeds and the offline report, so a figure reads the same in Discord
and in a terminal. Which kind a headline figure is (a count, a share, a ratio or a duration)
decides how it and its week-over-week change are written: counts change in percent, shares in
percentage points, ratios and durations by their difference (METRICS.md, "Week-over-week").
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from enum import Enum

from bot.domain.metrics_base import Change
from bot.domain.periods import Period, previous

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MINUS = "−"
UP, DOWN, SAME = "▲", "▼", "="
TOO_LITTLE_DATA = "too little data"
NO_DATA = "no data"


class Kind(Enum):
    COUNT = "count"
    MEAN = "mean"
    """A mean of counts (DAU): one decimal, changes in percent."""
    SHARE = "share"
    """A fraction of a whole, shown in percent; changes in percentage points."""
    RATIO = "ratio"
    """Per-message rates that may exceed 1 (conversation, applause, amplification)."""
    DURATION = "duration"
    """Seconds, shown as "1 h 20 min"."""


HEADLINES: dict[str, tuple[str, Kind]] = {
    "messages": ("Messages", Kind.COUNT),
    "active_members": ("Active members", Kind.COUNT),
    "dau": ("Daily active (mean)", Kind.MEAN),
    "wau": ("Weekly active", Kind.COUNT),
    "mau": ("Monthly active (28 days)", Kind.COUNT),
    "stickiness": ("Stickiness (DAU / MAU)", Kind.SHARE),
    "communicators": ("Communicators (3+ messages)", Kind.COUNT),
    "conversation_rate": ("Conversation rate", Kind.RATIO),
    "applause_rate": ("Applause rate", Kind.RATIO),
    "amplification_rate": ("Amplification rate", Kind.RATIO),
    "questions": ("Questions", Kind.COUNT),
    "response_rate": ("Answered within 24 h", Kind.SHARE),
    "within_target_rate": ("Answered within target", Kind.SHARE),
    "first_response_time_median": ("First response, median", Kind.DURATION),
    "first_response_time_p90": ("First response, 90th percentile", Kind.DURATION),
    "staff_first_response_time_median": ("Staff first response, median", Kind.DURATION),
    "community_first_response_time_median": ("Community first response, median", Kind.DURATION),
    "time_to_resolution_median": ("Time to resolution, median", Kind.DURATION),
    "joins": ("Joins", Kind.COUNT),
    "leaves": ("Leaves", Kind.COUNT),
    "net_growth": ("Net growth", Kind.COUNT),
    "member_count": ("Member count", Kind.COUNT),
    "churn_rate": ("Churn rate", Kind.SHARE),
    "activation_rate": ("Activation (1+ message in 7 days)", Kind.SHARE),
    "insights_activation_rate": ("Activation, Insights (3+ messages)", Kind.SHARE),
    "fast_churn_rate": ("Fast churn (left within 7 days)", Kind.SHARE),
}
"""Every headline figure of an overview: its label and kind, by its METRICS.md key."""

SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Activity", ("messages", "active_members", "dau", "wau", "mau", "stickiness",
                  "communicators")),
    ("Conversation", ("conversation_rate", "applause_rate", "amplification_rate")),
    ("Questions", ("questions", "response_rate", "within_target_rate",
                   "first_response_time_median", "first_response_time_p90",
                   "staff_first_response_time_median", "community_first_response_time_median",
                   "time_to_resolution_median")),
    ("Members", ("joins", "leaves", "net_growth", "member_count", "churn_rate",
                 "activation_rate", "insights_activation_rate", "fast_churn_rate")),
)  # fmt: skip
"""The overview's headline figures, grouped as the embed and the report show them."""


def signed(text: str, negative: bool) -> str:
    return f"{MINUS if negative else '+'}{text}"


def count(value: float) -> str:
    """'1,234'; a negative count with a real minus sign."""
    text = f"{abs(round(value)):,}"
    return f"{MINUS}{text}" if value < 0 and round(value) != 0 else text


def mean(value: float) -> str:
    """'12.4'; two decimals under 1, so a quiet server's 0.04 does not read as 0."""
    return f"{value:.2f}" if 0 < abs(value) < 1 else f"{value:,.1f}"


def percent(fraction: float) -> str:
    """'42%'; one decimal under 10% so a small share never reads as 0%."""
    value = fraction * 100
    if value != 0 and abs(value) < 10:
        return f"{value:.1f}%"
    return f"{value:.0f}%"


def ratio(value: float) -> str:
    return f"{value:.2f}"


def duration(seconds: float) -> str:
    """'45 s', '12 min', '1 h 20 min', '2 d 3 h' (no sign; see :func:`change_text`)."""
    total = abs(seconds)
    if round(total) < 60:
        return f"{round(total)} s"
    minutes = round(total / 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 24 * 60:
        hours, rest = divmod(minutes, 60)
        return f"{hours} h {rest} min" if rest else f"{hours} h"
    hours = round(total / 3600)
    days, rest = divmod(hours, 24)
    return f"{days} d {rest} h" if rest else f"{days} d"


def duration_of(value: timedelta | None) -> str:
    return NO_DATA if value is None else duration(value.total_seconds())


def value_text(value: float | None, kind: Kind) -> str:
    if value is None:
        return NO_DATA
    if kind is Kind.COUNT:
        return count(value)
    if kind is Kind.MEAN:
        return mean(value)
    if kind is Kind.SHARE:
        return percent(value)
    if kind is Kind.RATIO:
        return ratio(value)
    return duration(value)


def figure_text(change: Change, kind: Kind) -> str:
    """The current value; "too little data" where it rests on 1 to 4 cases, "no data" on none."""
    if change.current is None:
        return NO_DATA
    if change.too_little_data:
        return TOO_LITTLE_DATA
    return value_text(change.current, kind)


def change_text(change: Change, kind: Kind, *, arrows: bool = True) -> str:
    """'▲ +12%', '▼ −3 pp', '▲ +4 min', '= no change' (without ``arrows``: '+12%', 'no change');
    empty when there is nothing to compare."""
    if change.too_little_data or change.delta is None:
        return ""
    delta = change.delta
    if delta == 0:
        return f"{SAME} no change" if arrows else "no change"
    if not arrows:
        return change_text(change, kind).split(" ", 1)[1]
    arrow = UP if delta > 0 else DOWN
    negative = delta < 0
    if kind in (Kind.COUNT, Kind.MEAN):
        if change.percent is not None:
            return f"{arrow} {signed(f'{abs(change.percent):.0f}%', change.percent < 0)}"
        shown = count(abs(delta)) if kind is Kind.COUNT else mean(abs(delta))
        return f"{arrow} {signed(shown, negative)}"
    if kind is Kind.SHARE:
        points = abs(delta) * 100
        shown = f"{points:.1f}" if points < 10 else f"{points:.0f}"
        return f"{arrow} {signed(shown, negative)} pp"
    if kind is Kind.RATIO:
        shown = ratio(abs(delta)) if abs(delta) >= 0.005 else f"{abs(delta):.3f}"
        return f"{arrow} {signed(shown, negative)}"
    return f"{arrow} {signed(duration(delta), negative)}"


def day_text(day: date, *, year: bool = True) -> str:
    """'3 Mar 2026', the same in every locale."""
    text = f"{day.day} {MONTHS[day.month - 1]}"
    return f"{text} {day.year}" if year else text


def days_text(period: Period) -> str:
    """'2 Mar – 8 Mar 2026' (or one day, or across years)."""
    first, last = period.first_day, period.last_day
    if first == last:
        return day_text(first)
    return f"{day_text(first, year=first.year != last.year)} – {day_text(last)}"


def period_text(period: Period) -> str:
    """'last week (2 Mar – 8 Mar 2026, Europe/Berlin)': the label, its days and the time zone."""
    days = days_text(period)
    if period.label == period_dates_label(period):
        return f"{days} ({period.timezone})"
    return f"{period.label} ({days}, {period.timezone})"


def period_dates_label(period: Period) -> str:
    return f"{period.first_day.isoformat()}..{period.last_day.isoformat()}"


def previous_name(period: Period) -> str:
    """What "previous period" means for this one: "last week", "the 28 days before"."""
    if period.label == "this week":
        return "last week"
    if period.label == "last week":
        return "the week before"
    before = previous(period)
    if period.label.startswith("last ") and period.label.endswith(" days"):
        return f"the {period.day_count} days before"
    return f"the {period.day_count} days before ({days_text(before)})"


def sparkline(values: list[int] | tuple[int, ...]) -> str:
    """'▁▃█▅': one character per value, scaled to the largest."""
    bars = "▁▂▃▄▅▆▇█"
    top = max(values, default=0)
    if top <= 0:
        return bars[0] * len(values)
    return "".join(bars[min(len(bars) - 1, math.ceil(v / top * len(bars)) - 1 if v else 0)]
                   for v in values)  # fmt: skip
