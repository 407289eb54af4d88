"""Charts: PNGs of a fixed size with real content, the same bytes for the same input, a 'no data'
image instead of an error, locale-free labels, and drawing kept off the event loop."""

from __future__ import annotations

import asyncio
import io
import struct
import threading
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from PIL import Image

from bot.render import charts

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
DAYS = [date(2025, 12, 22) + timedelta(days=i) for i in range(21)]
WEEKS = [date(2025, 11, 3) + timedelta(weeks=i) for i in range(10)]
WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
COHORT_STARTS = WEEKS[:8]
COHORT_SIZES = [40, 12, 0, 75, 30, 22, 9, 51]
COHORT_RATES: list[list[float | None]] = [
    [1.0, *[(0.55 - 0.06 * n) if row + n < 8 else None for n in range(1, 8)]] for row in range(8)
]
PEAK_GRID = [[(day * 11 + hour * 7) % 37 + (40 if 18 <= hour <= 22 else 0) for hour in range(24)]
             for day in range(7)]  # fmt: skip


def draw_activity() -> bytes:
    messages = [(i * 37) % 90 + 20 for i in range(len(DAYS))]
    members = [m // 4 + 3 for m in messages]
    return charts.activity_chart(DAYS, messages, members, "Europe/Berlin", "Activity, 3 weeks")


def draw_response_times() -> bytes:
    median: list[float | None] = [12.0, 30.5, None, 22.0, 45.0, 18.0, None, 25.0, 9.0, 14.0]
    p90: list[float | None] = [60.0, 120.0, None, 90.0, 240.0, 70.0, 300.0, 100.0, 40.0, 55.0]
    return charts.response_time_chart(WEEKS, median, p90, 60, "America/New_York")


def draw_cohorts() -> bytes:
    return charts.cohort_heatmap(COHORT_STARTS, COHORT_SIZES, COHORT_RATES, "Asia/Tokyo")


def draw_peak_hours() -> bytes:
    return charts.peak_hours_heatmap(PEAK_GRID, WEEKDAYS, "Australia/Sydney")


CHARTS: list[tuple[str, Callable[[], bytes], tuple[int, int]]] = [
    ("activity", draw_activity, charts.CHART_SIZE),
    ("response times", draw_response_times, charts.CHART_SIZE),
    ("cohorts", draw_cohorts, charts.COHORT_SIZE),
    ("peak hours", draw_peak_hours, charts.HEATMAP_SIZE),
]
EMPTY: list[tuple[str, Callable[[], bytes], tuple[int, int]]] = [
    ("activity, no days", lambda: charts.activity_chart([], [], [], "UTC", "Activity"),
     charts.CHART_SIZE),
    ("activity, all zero", lambda: charts.activity_chart(DAYS, [0] * 21, [0] * 21, "UTC",
                                                         "Activity"), charts.CHART_SIZE),
    ("response times, no days", lambda: charts.response_time_chart([], [], [], 30, "UTC"),
     charts.CHART_SIZE),
    ("response times, all gaps", lambda: charts.response_time_chart(
        WEEKS, [None] * 10, [None] * 10, 30, "UTC"), charts.CHART_SIZE),
    ("cohorts, none", lambda: charts.cohort_heatmap([], [], [], "UTC"), charts.COHORT_SIZE),
    ("cohorts, nobody joined", lambda: charts.cohort_heatmap(
        WEEKS[:2], [0, 0], [[None] * 8, [None] * 8], "UTC"), charts.COHORT_SIZE),
    ("peak hours, all zero", lambda: charts.peak_hours_heatmap(
        [[0] * 24 for _ in range(7)], WEEKDAYS, "UTC"), charts.HEATMAP_SIZE),
]  # fmt: skip


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which always comes first."""
    assert png[:8] == PNG_MAGIC
    length, kind = struct.unpack(">I4s", png[8:16])
    assert (length, kind) == (13, b"IHDR")
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def distinct_colours(png: bytes) -> int:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    colours = image.getcolors(maxcolors=image.width * image.height)
    assert colours is not None
    return len(colours)


@pytest.mark.parametrize(("name", "draw", "size"), CHARTS, ids=[c[0] for c in CHARTS])
def test_a_chart_is_a_png_of_its_size_with_content(
    name: str, draw: Callable[[], bytes], size: tuple[int, int]
) -> None:
    png = draw()
    assert png_size(png) == size
    assert distinct_colours(png) > 200, f"{name}: more than a blank card"


@pytest.mark.parametrize(("name", "draw", "size"), CHARTS, ids=[c[0] for c in CHARTS])
def test_the_same_input_draws_the_same_bytes(
    name: str, draw: Callable[[], bytes], size: tuple[int, int]
) -> None:
    assert draw() == draw(), name


def test_a_png_carries_no_software_version() -> None:
    assert b"matplotlib" not in draw_activity()


@pytest.mark.parametrize(("name", "draw", "size"), EMPTY, ids=[e[0] for e in EMPTY])
def test_no_data_is_an_image_not_an_error(
    name: str, draw: Callable[[], bytes], size: tuple[int, int]
) -> None:
    png = draw()
    assert png_size(png) == size
    assert distinct_colours(png) > 2, f"{name}: the card says something"


def test_no_days_and_all_zero_days_draw_the_same_no_data_image() -> None:
    assert charts.activity_chart([], [], [], "UTC", "Activity") == charts.activity_chart(
        DAYS, [0] * 21, [0] * 21, "UTC", "Activity"
    )


def test_gaps_and_a_lone_value_still_draw_a_chart() -> None:
    png = charts.response_time_chart(WEEKS[:3], [None, 5.0, None], [None, None, None], 30, "UTC")
    assert png_size(png) == charts.CHART_SIZE
    assert png != charts.response_time_chart(WEEKS[:3], [None] * 3, [None] * 3, 30, "UTC")


def test_a_long_title_and_a_single_day_are_drawn() -> None:
    png = charts.activity_chart(DAYS[:1], [5], [2], "America/Argentina/Buenos_Aires", "x" * 200)
    assert png_size(png) == charts.CHART_SIZE


@pytest.mark.parametrize(
    "draw",
    [
        lambda: charts.activity_chart(DAYS, [1, 2], [1, 2], "UTC", "Activity"),
        lambda: charts.response_time_chart(WEEKS, [1.0], [2.0], 30, "UTC"),
        lambda: charts.cohort_heatmap(WEEKS, [1], [[1.0]], "UTC"),
        lambda: charts.peak_hours_heatmap([[1] * 24] * 6, WEEKDAYS[:6], "UTC"),
        lambda: charts.peak_hours_heatmap([[1] * 23] * 7, WEEKDAYS, "UTC"),
    ],
    ids=["activity", "response times", "cohorts", "six weekdays", "23 hours"],
)
def test_inputs_of_different_lengths_are_a_caller_error(draw: Callable[[], bytes]) -> None:
    with pytest.raises(ValueError):
        draw()


@pytest.mark.parametrize(
    ("day", "label"),
    [(date(2026, 3, 3), "3 Mar"), (date(2025, 12, 31), "31 Dec"), (date(2024, 1, 1), "1 Jan")],
)
def test_day_labels_are_the_same_in_every_locale(day: date, label: str) -> None:
    assert charts.day_label(day) == label


@pytest.mark.parametrize(
    ("days", "span"),
    [([date(2025, 3, 1)], "2025"), ([date(2024, 12, 30), date(2025, 1, 6)], "2024–2025")],
)
def test_year_span(days: list[date], span: str) -> None:
    assert charts.year_span(days) == span


@pytest.mark.parametrize(
    ("minutes", "unit", "label"),
    [
        (0, None, "0"),
        (45, None, "45 min"),
        (7.5, None, "7.5 min"),
        (90, None, "1.5 h"),
        (100, None, "1.7 h"),
        (240, None, "4 h"),
        (2880, None, "2 d"),
        (1440, 60, "24 h"),
        (30, 60, "0.5 h"),
        (4320, 1440, "3 d"),
    ],
)
def test_duration_labels(minutes: float, unit: int | None, label: str) -> None:
    assert charts.duration_label(minutes, unit) == label


@pytest.mark.parametrize(
    ("top", "step"),
    [(5, 1), (12, 2), (50, 10), (100, 20), (300, 60), (1000, 180), (5000, 1440), (20000, 4320)],
)
def test_minute_steps_give_at_most_six_round_ticks(top: float, step: int) -> None:
    assert charts.minute_step(top) == step
    assert top / step <= 6


@pytest.mark.parametrize(
    ("count", "label"),
    [
        (0, "0"),
        (950, "950"),
        (1234, "1.2k"),
        (9999, "10k"),
        (34_500, "34k"),
        (999_999, "1.0M"),
        (1_500_000, "1.5M"),
    ],
)
def test_compact_counts(count: int, label: str) -> None:
    assert charts.compact_count(count) == label


async def test_render_draws_in_a_worker_thread_while_the_loop_runs() -> None:
    loop_thread = threading.get_ident()
    loop_ran = threading.Event()
    drawn_in: list[int] = []

    def draw() -> bytes:
        drawn_in.append(threading.get_ident())
        # The loop sets this only if it is free while the chart is being drawn.
        assert loop_ran.wait(timeout=30)
        return draw_activity()

    asyncio.get_running_loop().call_soon(loop_ran.set)
    png = await charts.render(draw)
    assert drawn_in and drawn_in[0] != loop_thread
    assert png_size(png) == charts.CHART_SIZE


async def test_charts_drawn_at_once_match_charts_drawn_one_by_one() -> None:
    draws = [draw for _, draw, _ in CHARTS] * 2
    together = await asyncio.gather(*(charts.render(draw) for draw in draws))
    assert list(together) == [draw() for draw in draws]
