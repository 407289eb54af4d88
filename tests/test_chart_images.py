"""Each chart is a PNG of its documented size with real content, rendered off the event loop."""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from PIL import Image

from bot.render import charts

DAYS = [date(2026, 3, 2) + timedelta(days=i) for i in range(7)]
WEEKS = [date(2026, 1, 5) + timedelta(weeks=i) for i in range(8)]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
COHORTS = [[1.0, *[(0.6 - 0.05 * n) if i + n < 8 else None for n in range(1, 8)]] for i in range(8)]

CASES: list[tuple[str, Callable[[], bytes], tuple[int, int]]] = [
    ("activity", lambda: charts.activity_chart(
        DAYS, [120, 90, 143, 80, 60, 30, 45], [40, 35, 50, 33, 20, 12, 18], "Europe/Berlin",
        "Messages and active members per day"), charts.CHART_SIZE),
    ("response times", lambda: charts.response_time_chart(
        WEEKS, [12.0, 30.5, None, 22.0, 45.0, 18.0, 25.0, 9.0],
        [60.0, 120.0, None, 90.0, 240.0, 70.0, 100.0, 40.0], 60, "UTC"), charts.CHART_SIZE),
    ("cohorts", lambda: charts.cohort_heatmap(WEEKS, [30, 25, 40, 12, 8, 50, 33, 20], COHORTS,
                                             "UTC"), charts.COHORT_SIZE),
    ("peak hours", lambda: charts.peak_hours_heatmap(
        [[(d * 7 + h * 3) % 23 for h in range(24)] for d in range(7)], WEEKDAYS, "UTC"),
     charts.HEATMAP_SIZE),
]  # fmt: skip


@pytest.mark.parametrize(("name", "draw", "size"), CASES, ids=[c[0] for c in CASES])
def test_each_chart_is_a_png_of_its_size_with_content(
    name: str, draw: Callable[[], bytes], size: tuple[int, int]
) -> None:
    png = draw()
    assert png.startswith(b"\x89PNG\r\n\x1a\n"), name
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.size == size
    colours = image.getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 50, "more than a blank card"
    assert draw() == png, "the same input draws the same bytes"


def test_no_data_is_an_image_not_an_error() -> None:
    png = charts.activity_chart(DAYS, [0] * 7, [0] * 7, "UTC", "Messages")
    assert Image.open(io.BytesIO(png)).size == charts.CHART_SIZE


async def test_rendering_runs_off_the_event_loop() -> None:
    seen: list[int] = []

    def draw() -> bytes:
        seen.append(threading.get_ident())
        return b""

    await charts.render(draw)
    assert seen and seen[0] != threading.get_ident()
    assert asyncio.get_running_loop() is not None
