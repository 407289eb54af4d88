"""Charts as PNG bytes, drawn with matplotlib's object API on the Agg canvas.

Every chart is a plain function of plain inputs that returns PNG bytes. They block (0.1 to 0.3 s
each), so the bot calls them through `render`, which runs them in a worker thread.
matplotlib is not thread-safe (its font cache and text layout are shared between figures), so a
module-level lock lets one chart draw at a time whichever thread calls it.

Style: an opaque slate card with light text, so a chart reads the same on Discord's dark and light
themes; Okabe-Ito colours for lines and bars and viridis/cividis for heatmaps (both readable with
colour-blind vision); month names and number formats written out here rather than taken from the
process locale. The same input gives the same bytes: PNG metadata carries no software version.
"""

from __future__ import annotations

import asyncio
import functools
import io
import itertools
import logging
import math
import threading
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any, Final, ParamSpec

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import Colormap, Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator

log = logging.getLogger(__name__)

DPI: Final = 100
CHART_SIZE: Final = (1200, 600)
"""Width and height in pixels of the activity and response-time charts."""
HEATMAP_SIZE: Final = (1200, 600)
"""Width and height in pixels of the peak-hours heatmap."""
COHORT_SIZE: Final = (1200, 800)
"""Width and height in pixels of the retention cohort table."""

CARD: Final = "#1f2228"
TEXT: Final = "#e3e5e8"
MUTED: Final = "#a3a8b0"
GRID: Final = "#3a3e46"
SKY_BLUE: Final = "#56b4e9"
ORANGE: Final = "#e69f00"
YELLOW: Final = "#f0e442"
DARK_TEXT: Final = "#111318"

TITLE_SIZE: Final = 20
LABEL_SIZE: Final = 15
TICK_SIZE: Final = 13

MONTHS: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Tick steps for a time axis in minutes: each is a round number of minutes or hours.
MINUTE_STEPS: Final = (1, 2, 5, 10, 15, 20, 30, 60, 120, 180, 240, 360, 480, 720, 1440, 2880)
UNIT_NAMES: Final = {1: "min", 60: "h", 1440: "d"}
CENTRED: Final[dict[str, Any]] = {"ha": "center", "va": "center"}
MAX_TITLE: Final = 70  # characters that fit across the card at the title size

_lock = threading.Lock()
P = ParamSpec("P")


def _serialised(fn: Callable[P, bytes]) -> Callable[P, bytes]:
    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> bytes:
        with _lock:
            return fn(*args, **kwargs)

    return wrapper


async def render(fn: Callable[P, bytes], *args: P.args, **kwargs: P.kwargs) -> bytes:
    """Run a chart function in a worker thread, keeping the event loop free while it draws."""
    return await asyncio.to_thread(fn, *args, **kwargs)


# --- labels -------------------------------------------------------------------------------------


def day_label(day: date) -> str:
    """'3 Mar', the same in every locale."""
    return f"{day.day} {MONTHS[day.month - 1]}"


def year_span(days: Sequence[date]) -> str:
    first, last = min(days).year, max(days).year
    return str(first) if first == last else f"{first}–{last}"


def duration_label(minutes: float, unit: int | None = None) -> str:
    """'0', '45 min', '1.5 h', '2 d': in `unit` (1, 60 or 1440 minutes), else the value's own."""
    if minutes == 0:
        return "0"
    if unit is None:
        unit = 1 if abs(minutes) < 60 else 60 if abs(minutes) < 1440 else 1440
    number = f"{minutes / unit:.1f}".rstrip("0").rstrip(".")
    return f"{number} {UNIT_NAMES[unit]}"


def compact_count(n: float) -> str:
    """'950', '1.2k', '34k', '1.0M': short enough for a heatmap cell."""
    n = round(n)
    if abs(n) < 1000:
        return str(n)
    for divisor, suffix in ((1000, "k"), (1_000_000, "M")):
        value = n / divisor
        if abs(value) < 9.95:
            return f"{value:.1f}{suffix}"
        if abs(value) < 999.5:
            return f"{value:.0f}{suffix}"
    return f"{n / 1_000_000:,.0f}M"


def minute_step(top: float) -> int:
    """The smallest round step that puts at most six ticks under `top` minutes."""
    for step in MINUTE_STEPS:
        if top / step <= 6:
            return step
    return math.ceil(top / 6 / 1440) * 1440


def _date_ticks(axis_days: Sequence[date], ax: Axes, max_ticks: int = 12) -> None:
    """Label positions 0..n-1 with their dates, thinned to at most `max_ticks` labels."""
    n = len(axis_days)
    step = 1
    for candidate in (1, 2, 7, 14, 28, 56, 91):
        step = candidate
        if math.ceil(n / candidate) <= max_ticks:
            break
    positions = list(range(0, n, step))
    ax.set_xticks(positions, [day_label(axis_days[i]) for i in positions])


def _pad_x(ax: Axes, n: int) -> None:
    """Index positions 0..n-1 with half a slot either side; a few points stay a sensible width."""
    pad = max(0.0, (7 - n) / 2)
    ax.set_xlim(-0.6 - pad, n - 0.4 + pad)


def _is_weekly(days: Sequence[date]) -> bool:
    gaps = [(b - a).days for a, b in itertools.pairwise(days)]
    return bool(gaps) and min(gaps) >= 7


# --- figure plumbing ----------------------------------------------------------------------------


def _figure(size: tuple[int, int]) -> Figure:
    width, height = size
    fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, facecolor=CARD, layout="constrained")
    fig.get_layout_engine().set(w_pad=0.25, h_pad=0.2)  # type: ignore[union-attr, call-arg]
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, facecolor=CARD, metadata={"Software": None})
    return buffer.getvalue()


def _style_axes(ax: Axes, *, grid_axis: str | None = "y") -> None:
    ax.set_facecolor(CARD)
    for side, spine in ax.spines.items():
        spine.set_color(GRID)
        spine.set_visible(side in ("bottom", "left", "right"))
    ax.tick_params(colors=MUTED, labelcolor=TEXT, labelsize=TICK_SIZE, length=4)
    if grid_axis is not None:
        ax.grid(True, axis=grid_axis, color=GRID, linewidth=0.8)  # type: ignore[arg-type]
        ax.set_axisbelow(True)


def _title(fig: Figure, title: str, subtitle: str | None = None) -> None:
    if len(title) > MAX_TITLE:
        title = title[: MAX_TITLE - 1].rstrip() + "…"
    text = title if subtitle is None else f"{title}\n"
    fig.suptitle(text, x=0.02, ha="left", color=TEXT, fontsize=TITLE_SIZE, fontweight="bold")
    if subtitle is not None:
        # Drawn in the second line of the suptitle's box, so the layout leaves room for it.
        style: dict[str, Any] = {"ha": "left", "va": "top", "color": MUTED, "linespacing": 1.9}
        fig.text(0.02, 0.985, f"\n{subtitle}", fontsize=LABEL_SIZE, **style)


def _label(ax: Axes, *, x: str | None = None, y: str | None = None) -> None:
    if x is not None:
        ax.set_xlabel(x, color=TEXT, fontsize=LABEL_SIZE, labelpad=10)
    if y is not None:
        ax.set_ylabel(y, color=TEXT, fontsize=LABEL_SIZE, labelpad=10)


def _no_data(size: tuple[int, int], title: str, detail: str) -> bytes:
    fig = _figure(size)
    _title(fig, title)
    fig.text(0.5, 0.52, "No data yet", **CENTRED, color=TEXT, fontsize=34, fontweight="bold")
    fig.text(0.5, 0.40, detail, **CENTRED, color=MUTED, fontsize=LABEL_SIZE)
    return _png(fig)


def _line(ax: Axes, values: Any, colour: str, label: str, marker_size: float) -> Line2D:
    positions = np.arange(len(values))
    (line,) = ax.plot(
        positions, values, color=colour, lw=2.5, marker="o", ms=marker_size, label=label
    )
    return line


def _legend(ax: Axes, handles: list[Any]) -> None:
    ax.legend(
        handles=handles,
        loc="upper left",
        ncols=len(handles),
        frameon=False,
        fontsize=TICK_SIZE,
        labelcolor=TEXT,
    )


def _cell_text(ax: Axes, x: int, y: int, text: str, cell: tuple[float, ...], **style: Any) -> None:
    """Dark text on light cells, light text on dark cells (by WCAG relative luminance)."""
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in cell[:3]]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    ax.text(x, y, text, **CENTRED, color=DARK_TEXT if luminance > 0.22 else TEXT, **style)


def _colourbar(
    fig: Figure, image: Any, ax: Axes, label: str, formatter: FuncFormatter, ticks: Any = None
) -> None:
    bar = fig.colorbar(image, ax=ax, pad=0.015, fraction=0.04, format=formatter, ticks=ticks)
    bar.outline.set_edgecolor(GRID)
    bar.ax.tick_params(colors=MUTED, labelcolor=TEXT, labelsize=TICK_SIZE)
    bar.set_label(label, color=TEXT, fontsize=LABEL_SIZE, labelpad=10)


def _floats(values: Sequence[float | None]) -> np.ndarray[Any, np.dtype[np.float64]]:
    return np.array([math.nan if v is None else float(v) for v in values], dtype=np.float64)


def _same_length(**sequences: Sequence[object]) -> None:
    lengths = {name: len(values) for name, values in sequences.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"chart inputs differ in length: {lengths}")


# --- charts -------------------------------------------------------------------------------------


@_serialised
def activity_chart(
    days: Sequence[date],
    messages: Sequence[int],
    active_members: Sequence[int],
    tz_name: str,
    title: str,
) -> bytes:
    """Messages per day as bars, active members per day as a line on a second axis."""
    _same_length(days=days, messages=messages, active_members=active_members)
    if not any(messages) and not any(active_members):
        return _no_data(CHART_SIZE, title, "Messages and active members appear here day by day.")
    fig = _figure(CHART_SIZE)
    _title(fig, title)
    ax = fig.add_subplot()
    members_ax = ax.twinx()
    bars = ax.bar(
        np.arange(len(days)), messages, width=0.75, color=SKY_BLUE, label="Messages", zorder=2
    )
    line = _line(members_ax, active_members, ORANGE, "Active members", 5 if len(days) <= 45 else 0)
    scales = ((ax, max(messages), SKY_BLUE), (members_ax, max(active_members), ORANGE))
    for axes, peak, colour in scales:
        _style_axes(axes, grid_axis="y" if axes is ax else None)
        axes.set_ylim(0, max(peak, 5) * 1.22)  # headroom for the legend; whole-number ticks
        axes.yaxis.set_major_locator(MaxNLocator(nbins=6, integer=True, min_n_ticks=3))
        axes.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
        axes.tick_params(axis="y", labelcolor=colour)
    _pad_x(ax, len(days))
    _date_ticks(days, ax)
    _label(ax, x=f"Days in {tz_name}, {year_span(days)}", y="Messages per day")
    members_ax.set_ylabel("Active members", color=TEXT, fontsize=LABEL_SIZE, labelpad=10)
    _legend(ax, [bars, line])
    return _png(fig)


@_serialised
def response_time_chart(
    days_or_weeks: Sequence[date],
    median_minutes: Sequence[float | None],
    p90_minutes: Sequence[float | None],
    target_minutes: int,
    tz_name: str,
) -> bytes:
    """First-response time per day or week: median and 90th percentile against the target."""
    _same_length(
        days_or_weeks=days_or_weeks, median_minutes=median_minutes, p90_minutes=p90_minutes
    )
    title = "First response time"
    median, p90 = _floats(median_minutes), _floats(p90_minutes)
    if np.isnan(median).all() and np.isnan(p90).all():
        return _no_data(CHART_SIZE, title, "Appears once questions have been answered.")
    weekly = _is_weekly(days_or_weeks)
    period = "week" if weekly else "day"
    fig = _figure(CHART_SIZE)
    _title(fig, title, f"Time until a question's first answer, per {period}; lower is better")
    ax = fig.add_subplot()
    _style_axes(ax)
    # Markers keep a value visible when its neighbours are gaps.
    lines = [
        _line(ax, p90, ORANGE, "90% answered within", 6),
        _line(ax, median, SKY_BLUE, "Median", 6),
    ]
    target = f"Target: {duration_label(target_minutes)}"
    lines.append(ax.axhline(target_minutes, color=YELLOW, lw=2, ls=(0, (6, 4)), label=target))
    top = max(float(np.nanmax(np.concatenate([median, p90]))), float(target_minutes), 1.0) * 1.25
    step = minute_step(top)
    ax.set_ylim(0, top)
    ax.yaxis.set_major_locator(FixedLocator(np.arange(0, top + step, step).tolist()))
    unit = 1 if step < 60 else 60 if step < 1440 else 1440
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: duration_label(v, unit)))
    _pad_x(ax, len(days_or_weeks))
    _date_ticks(days_or_weeks, ax)
    span = year_span(days_or_weeks)
    x_label = f"Weeks starting, in {tz_name}, {span}" if weekly else f"Days in {tz_name}, {span}"
    _label(ax, x=x_label, y="First response time")
    _legend(ax, lines)
    return _png(fig)


@_serialised
def cohort_heatmap(
    cohort_starts: Sequence[date],
    sizes: Sequence[int],
    rates: Sequence[Sequence[float | None]],
    tz_name: str,
) -> bytes:
    """Retention by weekly join cohort: share of each cohort still active N weeks after joining.

    `rates[i][n]` is a fraction in [0, 1] for cohort i in week n, or None where that week has not
    happened yet; rows may be shorter than the longest row.
    """
    _same_length(cohort_starts=cohort_starts, sizes=sizes, rates=rates)
    title = "Member retention by join week"
    if not any(sizes) or all(r is None for row in rates for r in row):
        return _no_data(COHORT_SIZE, title, "Appears once members have joined and stayed a week.")
    weeks = max(len(row) for row in rates)
    table = np.full((len(rates), weeks), math.nan)
    for i, row in enumerate(rates):
        table[i, : len(row)] = _floats(row)
    cmap = _colormap("cividis")
    norm = Normalize(0.0, 1.0)
    fig = _figure(COHORT_SIZE)
    _title(fig, title, f"Share of each week's new members still active; weeks start in {tz_name}")
    ax = fig.add_subplot()
    _style_axes(ax, grid_axis=None)
    image = ax.imshow(
        np.ma.masked_invalid(table), cmap=cmap, norm=norm, aspect="auto", interpolation="nearest"
    )
    cell_size = TICK_SIZE if len(rates) <= 16 else 10
    for (i, n), rate in np.ndenumerate(table):
        if not math.isnan(rate):
            _cell_text(ax, n, i, f"{rate:.0%}", cmap(norm(rate)), fontsize=cell_size)
    ax.set_xticks(range(weeks), [str(n) for n in range(weeks)])
    ax.set_yticks(
        range(len(rates)),
        [
            f"{day_label(start)} {start.year} · {size:,} joined"
            for start, size in zip(cohort_starts, sizes, strict=True)
        ],
    )
    ax.tick_params(length=0)
    ax.xaxis.set_ticks_position("top")
    ax.xaxis.set_label_position("top")
    _label(ax, x="Week N after joining", y="Join week")
    _colourbar(fig, image, ax, "Still active", FuncFormatter(lambda v, _: f"{v:.0%}"))
    return _png(fig)


@_serialised
def peak_hours_heatmap(
    grid: Sequence[Sequence[int]],
    weekday_names: Sequence[str],
    tz_name: str,
) -> bytes:
    """Messages per weekday and hour; rows follow `weekday_names` (the guild's week order)."""
    title = "Busiest hours"
    counts = np.array(grid, dtype=np.float64).reshape(-1, 24) if len(grid) else np.zeros((0, 24))
    if counts.shape != (len(weekday_names), 24) or len(weekday_names) != 7:
        raise ValueError(
            f"peak hours need 7 rows of 24 counts, one per weekday, got {counts.shape}"
        )
    if not counts.any():
        return _no_data(HEATMAP_SIZE, title, "Appears once the community has talked for a while.")
    busiest = np.argsort(-counts, axis=None, kind="stable")[:5]
    day, hour = divmod(int(busiest[0]), 24)
    top_count = int(counts[day, hour])
    fig = _figure(HEATMAP_SIZE)
    plural = "" if top_count == 1 else "s"
    slot = f"{weekday_names[day]} {hour:02d}:00–{(hour + 1) % 24:02d}:00"
    _title(fig, title, f"Busiest: {slot}, {top_count:,} message{plural}; boxed: the busiest hours")
    ax = fig.add_subplot()
    _style_axes(ax, grid_axis=None)
    cmap = _colormap("viridis")
    norm = Normalize(0.0, float(counts.max()))
    image = ax.imshow(counts, cmap=cmap, norm=norm, aspect="auto", interpolation="nearest")
    for index in busiest:
        d, h = divmod(int(index), 24)
        if counts[d, h] <= 0:
            continue
        ax.add_patch(_cell_box(h, d))
        text = compact_count(counts[d, h])
        _cell_text(ax, h, d, text, cmap(norm(counts[d, h])), fontsize=11, fontweight="bold")
    ax.set_xticks(range(24), [f"{h:02d}" for h in range(24)])
    ax.set_yticks(range(7), list(weekday_names))
    ax.tick_params(length=0)
    _label(ax, x=f"Hour of day in {tz_name}")
    counts_format = FuncFormatter(lambda v, _: f"{v:,.0f}")
    _colourbar(fig, image, ax, "Messages", counts_format, MaxNLocator(nbins=6, integer=True))
    return _png(fig)


def _cell_box(x: int, y: int) -> Rectangle:
    # Dark and inset: the busiest cells are the brightest, and neighbours keep separate frames.
    return Rectangle((x - 0.45, y - 0.45), 0.9, 0.9, fill=False, edgecolor=DARK_TEXT, linewidth=2)


def _colormap(name: str) -> Colormap:
    # Missing cells are transparent, so they show the card: blank, as a table would leave them.
    return colormaps[name].with_extremes(bad=(0.0, 0.0, 0.0, 0.0))
