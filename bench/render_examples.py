"""Example charts for the docs, drawn from plausible sample data, with render times.

Writes docs/charts/*.png (a fixed seed, so a rerun gives the same files) and prints how long each
chart took to draw (best of --repeat runs). --preview DIR also writes each chart framed on
Discord's dark and light message backgrounds, to check it reads on both themes.

    python -m bench.render_examples [--out docs/charts] [--repeat 5] [--preview DIR]
"""

from __future__ import annotations

import argparse
import io
import math
import random
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from PIL import Image

from bot.render import charts

ROOT = Path(__file__).resolve().parent.parent
THEMES = {"dark": "#313338", "light": "#ffffff"}
TZ = "Europe/Berlin"
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def activity(rng: random.Random) -> tuple[Any, ...]:
    days = [date(2025, 2, 24) + timedelta(days=i) for i in range(35)]
    messages, members = [], []
    for i, day in enumerate(days):
        weekend = day.weekday() >= 5
        base = (420 if weekend else 610) + 6 * i
        messages.append(max(0, int(rng.gauss(base, 70))))
        members.append(max(0, int(rng.gauss(base / 7.5, 6))))
    return days, messages, members, TZ, "Activity, last 5 weeks"


def response_times(rng: random.Random) -> tuple[Any, ...]:
    weeks = [date(2024, 12, 2) + timedelta(weeks=i) for i in range(16)]
    median: list[float | None] = []
    p90: list[float | None] = []
    for i in range(len(weeks)):
        if i in (4, 5):  # the holidays: no questions asked
            median.append(None)
            p90.append(None)
            continue
        level = 55 * math.exp(-i / 9) + 12
        median.append(round(rng.uniform(0.8, 1.2) * level, 1))
        p90.append(round(rng.uniform(3.0, 4.5) * level, 1))
    return weeks, median, p90, 30, TZ


def cohorts(rng: random.Random) -> tuple[Any, ...]:
    starts = [date(2025, 1, 6) + timedelta(weeks=i) for i in range(10)]
    sizes = [rng.randint(15, 140) for _ in starts]
    rates: list[list[float | None]] = []
    for row in range(len(starts)):
        weeks_seen = min(8, len(starts) - row)
        values: list[float | None] = [1.0]
        for week in range(1, 8):
            if week >= weeks_seen:
                values.append(None)
            else:
                kept = 0.62 * math.exp(-(week - 1) / 4.5) * rng.uniform(0.85, 1.15)
                values.append(round(min(kept, 1.0), 3))
        rates.append(values)
    return starts, sizes, rates, TZ


def peak_hours(rng: random.Random) -> tuple[Any, ...]:
    grid = []
    for day in range(7):
        weekend = day >= 5
        row = []
        for hour in range(24):
            evening = math.exp(-(((hour - 20.5) / 2.6) ** 2))
            midday = math.exp(-(((hour - 13) / 2.0) ** 2)) * (0.9 if weekend else 0.45)
            night = 0.04 if 2 <= hour <= 6 else 0.12
            row.append(int(rng.uniform(0.85, 1.15) * 260 * (evening + midday + night)))
        grid.append(row)
    return grid, WEEKDAYS, TZ


EXAMPLES: dict[str, tuple[Callable[..., bytes], Callable[[random.Random], tuple[Any, ...]]]] = {
    "activity": (charts.activity_chart, activity),
    "response_time": (charts.response_time_chart, response_times),
    "cohort_retention": (charts.cohort_heatmap, cohorts),
    "peak_hours": (charts.peak_hours_heatmap, peak_hours),
}
EMPTY: dict[str, Callable[[], bytes]] = {
    "activity_empty": lambda: charts.activity_chart([], [], [], TZ, "Activity, last 5 weeks"),
}


def framed(png: bytes, background: str, margin: int = 40) -> Image.Image:
    chart = Image.open(io.BytesIO(png)).convert("RGBA")
    canvas = Image.new("RGBA", (chart.width + 2 * margin, chart.height + 2 * margin), background)
    canvas.alpha_composite(chart, (margin, margin))
    return canvas.convert("RGB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "charts")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--preview", type=Path, default=None)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.preview is not None:
        args.preview.mkdir(parents=True, exist_ok=True)
    drawn: dict[str, Callable[[], bytes]] = dict(EMPTY)
    for name, (chart, sample) in EXAMPLES.items():
        inputs = sample(random.Random(name))
        drawn[name] = lambda chart=chart, inputs=inputs: chart(*inputs)
    for name, draw in drawn.items():
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            png = draw()
            times.append(time.perf_counter() - start)
        (args.out / f"{name}.png").write_bytes(png)
        size = Image.open(io.BytesIO(png)).size
        print(f"{name:18} {size[0]}x{size[1]}  {min(times) * 1000:6.1f} ms  {len(png):,} bytes")
        if args.preview is not None:
            for theme, colour in THEMES.items():
                framed(png, colour).save(args.preview / f"{name}_{theme}.png")


if __name__ == "__main__":
    main()
