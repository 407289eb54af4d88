"""The offline report and the exports as text: JSON, CSV and plain rows for a table.

JSON keys are the METRICS.md terms in snake_case (the reports' ``to_dict()``); CSV cells are
machine-readable (times in ISO 8601 UTC, durations in seconds, rates as fractions), and the
report's ``change`` column says the week-over-week change as the embeds do ("+12%", "−3 pp").
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import AsyncGenerator, Collection, Iterable, Sequence
from contextlib import aclosing
from datetime import UTC, date, datetime
from typing import BinaryIO

from bot.domain.metrics import Overview
from bot.render.figures import (
    HEADLINES,
    TOO_LITTLE_DATA,
    change_text,
    figure_text,
    value_text,
)

REPORT_COLUMNS = ("figure", "current", "previous", "change")
CHUNK = 64 * 1024
"""Characters of CSV gathered before they are encoded and written."""
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TYPED_COLUMNS = ("content",)


class CsvTooLarge(Exception):
    """The CSV would pass ``limit`` bytes; nothing past the limit was written."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the CSV is larger than {limit} bytes")
        self.limit = limit


def cell(value: object) -> str:
    """One CSV cell: empty for nothing, ISO 8601 for times, plain numbers."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="milliseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return str(int(value))
        return f"{value:.6f}".rstrip("0")
    return str(value)


def typed_text(value: object) -> str:
    """A cell of text that members typed: one a spreadsheet would read as a formula (a message
    starting with "=", say) gets a leading apostrophe, so opening an export never runs it."""
    text = cell(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


async def write_csv(
    columns: Sequence[str],
    rows: AsyncGenerator[Sequence[object], None],
    sink: BinaryIO,
    *,
    max_bytes: int | None = None,
    typed_columns: Collection[str] = TYPED_COLUMNS,
) -> int:
    """Write a header and rows as UTF-8 CSV, a chunk at a time; returns the number of rows.

    ``typed_columns`` hold what members typed (see :func:`typed_text`). With ``max_bytes``,
    stops with :class:`CsvTooLarge` before the output would pass it (and closes ``rows``,
    releasing their database connection).
    """
    formats = [typed_text if name in typed_columns else cell for name in columns]
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(columns)
    written = 0
    count = 0

    def flush() -> None:
        nonlocal written
        data = text.getvalue().encode("utf-8")
        if max_bytes is not None and written + len(data) > max_bytes:
            raise CsvTooLarge(max_bytes)
        sink.write(data)
        written += len(data)
        text.seek(0)
        text.truncate()

    async with aclosing(rows):
        async for row in rows:
            writer.writerow([write(value) for write, value in zip(formats, row, strict=True)])
            count += 1
            if text.tell() >= CHUNK:
                flush()
    flush()
    return count


def csv_text(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(columns)
    writer.writerows([cell(value) for value in row] for row in rows)
    return text.getvalue()


def overview_json(overview: Overview, guild_id: int) -> str:
    """The overview's ``to_dict()`` (METRICS.md keys) with the guild it describes."""
    return json.dumps({"guild_id": guild_id, **overview.to_dict()}, indent=2, ensure_ascii=False)


def _change(overview: Overview, name: str, *, arrows: bool = True) -> str:
    change = getattr(overview, name)
    if change.current is not None and change.too_little_data:
        return TOO_LITTLE_DATA
    return change_text(change, HEADLINES[name][1], arrows=arrows)


def overview_rows(overview: Overview) -> list[tuple[str, object, object, str]]:
    """One row per headline figure: its key, current and previous values (seconds for
    durations, fractions for rates) and the change as people read it."""
    return [
        (
            name,
            getattr(overview, name).current,
            getattr(overview, name).previous,
            _change(overview, name, arrows=False),
        )
        for name in Overview.HEADLINES
    ]


def overview_csv(overview: Overview) -> str:
    return csv_text(REPORT_COLUMNS, overview_rows(overview))


def overview_lines(overview: Overview) -> list[tuple[str, str, str, str]]:
    """One row per headline figure as a table shows it: label, value, previous, change."""
    lines = []
    for name in Overview.HEADLINES:
        label, kind = HEADLINES[name]
        change = getattr(overview, name)
        previous = value_text(change.previous, kind)
        lines.append((label, figure_text(change, kind), previous, _change(overview, name)))
    return lines
