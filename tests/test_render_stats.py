"""How figures read: tables of report values and the text and embeds people see, and the CSV
cells exports write. Reports are built by the pure domain functions from small rows."""

from __future__ import annotations

import io
from collections.abc import AsyncGenerator
from datetime import UTC, date, datetime, timedelta

import discord
import pytest
from PIL import Image

from bot.domain.metrics import Overview, overview_from_rows
from bot.domain.metrics_activity import ChannelDayRow, GuildDayRow, MemberDayRow, PeakHours
from bot.domain.metrics_base import Change
from bot.domain.metrics_members import AtRiskReport, QuietMember, Returner
from bot.domain.metrics_questions import QuestionRow, response_stats
from bot.domain.periods import between, last_days, last_week, previous, this_week
from bot.render import stats as render
from bot.render.figures import (
    HEADLINES,
    SECTIONS,
    Kind,
    change_text,
    duration,
    figure_text,
    percent,
    period_text,
    previous_name,
    sparkline,
)
from bot.render.report_text import CsvTooLarge, cell, overview_rows, typed_text, write_csv

ZONE = "Europe/Berlin"
NOW = datetime(2026, 3, 11, 12, tzinfo=UTC)  # a Wednesday
LAST_WEEK = last_week(NOW, ZONE, 0)  # 2-8 March 2026


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0, "0 s"), (45, "45 s"), (59.6, "1 min"), (720, "12 min"), (4800, "1 h 20 min"),
     (7200, "2 h"), (86400, "1 d"), (183600, "2 d 3 h"), (-300, "5 min")],
)  # fmt: skip
def test_durations_read_like_people_say_them(seconds: float, shown: str) -> None:
    assert duration(seconds) == shown


@pytest.mark.parametrize(
    ("fraction", "shown"),
    [(0.42, "42%"), (0.053, "5.3%"), (0.0, "0%"), (1.0, "100%"), (0.999, "100%")],
)
def test_percentages(fraction: float, shown: str) -> None:
    assert percent(fraction) == shown


@pytest.mark.parametrize(
    ("change", "kind", "shown"),
    [
        (Change(1234, 1100, 134, 12.18), Kind.COUNT, "▲ +12%"),
        (Change(90, 100, -10, -10.0), Kind.COUNT, "▼ −10%"),
        (Change(10, 0, 10, None), Kind.COUNT, "▲ +10"),
        (Change(5, 5, 0, 0.0), Kind.COUNT, "= no change"),
        (Change(0.04, 0.0, 0.04, None), Kind.MEAN, "▲ +0.04"),
        (Change(0.80, 0.83, -0.03, None), Kind.SHARE, "▼ −3.0 pp"),
        (Change(0.62, 0.40, 0.22, None), Kind.SHARE, "▲ +22 pp"),
        (Change(0.24, 0.21, 0.03, None), Kind.RATIO, "▲ +0.03"),
        (Change(0.212, 0.214, -0.002, None), Kind.RATIO, "▼ −0.002"),
        (Change(600, 900, -300, None), Kind.DURATION, "▼ −5 min"),
        (Change(5400, 600, 4800, None), Kind.DURATION, "▲ +1 h 20 min"),
        (Change(0.5, 0.9, None, None, too_little_data=True), Kind.SHARE, ""),
        (Change(3, None, None, None), Kind.COUNT, ""),
    ],
)
def test_week_over_week_changes(change: Change, kind: Kind, shown: str) -> None:
    assert change_text(change, kind) == shown


def test_changes_without_arrows_for_csv() -> None:
    assert change_text(Change(12, 10, 2, 20.0), Kind.COUNT, arrows=False) == "+20%"
    assert change_text(Change(1, 1, 0, 0.0), Kind.COUNT, arrows=False) == "no change"


@pytest.mark.parametrize(
    ("change", "kind", "shown"),
    [
        (Change(0.67, None, None, None, too_little_data=True), Kind.SHARE, "too little data"),
        (Change(None, 0.5, None, None, too_little_data=True), Kind.SHARE, "no data"),
        (Change(1234, 0, 1234, None), Kind.COUNT, "1,234"),
        (Change(26.31, 20, 6.31, 31.5), Kind.MEAN, "26.3"),
        (Change(0.212, 0.2, 0.012, None), Kind.RATIO, "0.21"),
        (Change(-3, 2, -5, -250.0), Kind.COUNT, "−3"),
        (Change(5580, None, None, None), Kind.DURATION, "1 h 33 min"),
    ],
)
def test_figures(change: Change, kind: Kind, shown: str) -> None:
    assert figure_text(change, kind) == shown


@pytest.mark.parametrize(
    ("period", "described", "compared_with"),
    [
        (LAST_WEEK, "last week (2 Mar – 8 Mar 2026, Europe/Berlin)", "the week before"),
        (this_week(NOW, ZONE, 0), "this week (9 Mar – 15 Mar 2026, Europe/Berlin)", "last week"),
        (last_days(NOW, "UTC", 28), "last 28 days (12 Feb – 11 Mar 2026, UTC)",
         "the 28 days before"),
        (between(date(2025, 12, 29), date(2026, 1, 4), "UTC"), "29 Dec 2025 – 4 Jan 2026 (UTC)",
         "the 7 days before (22 Dec – 28 Dec 2025)"),
        (between(date(2026, 3, 1), date(2026, 3, 1), "UTC"), "1 Mar 2026 (UTC)",
         "the 1 days before (28 Feb 2026)"),
    ],
)  # fmt: skip
def test_periods_are_named_with_their_days_and_zone(
    period: object, described: str, compared_with: str
) -> None:
    assert period_text(period) == described  # type: ignore[arg-type]
    assert previous_name(period) == compared_with  # type: ignore[arg-type]


def test_every_headline_has_a_label_and_one_place_in_the_embed() -> None:
    placed = [name for _, names in SECTIONS for name in names]
    assert sorted(placed) == sorted(Overview.HEADLINES)
    assert set(HEADLINES) == set(Overview.HEADLINES)


def question(minute: int, wait: int | None, channel: int = 11) -> QuestionRow:
    asked = datetime(2026, 3, 3, 9, minute, tzinfo=UTC)
    answered = None if wait is None else asked + timedelta(minutes=wait)
    return QuestionRow(minute, channel, 100 + minute, asked, "open", 60, answered,
                       7 if wait else None, False if wait else None)  # fmt: skip


def overview(questions: list[QuestionRow]) -> Overview:
    """12 messages this week against 8, two members; member counts 10 -> 10 -> 12."""
    guild_days = [
        GuildDayRow(date(2026, 3, 2), messages=12, top_level=8, replies=4, reactions_received=6),
        GuildDayRow(date(2026, 2, 24), messages=8, top_level=6, replies=2),
    ]
    member_days = [
        MemberDayRow(date(2026, 3, 2), 1, 7),
        MemberDayRow(date(2026, 3, 3), 2, 5),
        MemberDayRow(date(2026, 2, 24), 1, 8),
    ]
    channels = [ChannelDayRow(date(2026, 3, 2), 11, 9), ChannelDayRow(date(2026, 3, 2), 12, 3)]
    return overview_from_rows(
        LAST_WEEK, previous(LAST_WEEK), NOW, guild_days=guild_days, member_days=member_days,
        channel_days=channels, questions=questions, member_events=[], joiners=[],
        member_counts=(10, 10, 12),
    )  # fmt: skip


def lines(embed: discord.Embed) -> list[str]:
    return [line for field in embed.fields for line in (field.value or "").splitlines()]


def test_the_overview_embed() -> None:
    shown = render.overview_embed(overview([question(0, 12), question(5, 30), question(9, None)]))
    assert shown.title == "Community overview"
    assert shown.description == (
        "last week (2 Mar – 8 Mar 2026, Europe/Berlin)\n▲▼ compare with the week before."
    )
    assert [f.name for f in shown.fields] == [
        "Activity", "Conversation", "Questions", "Members", "Top channels", "Top members"
    ]  # fmt: skip
    expected = [
        "Messages: **12** ▲ +50%",
        "Active members: **2** ▲ +100%",
        "Conversation rate: **0.50** ▲ +0.17",
        "Applause rate: **0.50** ▲ +0.50",
        "Questions: **3** ▲ +3",
        "Answered within 24 h: *too little data*",
        "First response, median: *too little data*",
        "Time to resolution, median: no data",
        "Member count: **12** ▲ +20%",
        "Net growth: **0** = no change",
        "Activation (1+ message in 7 days): no data",
        "1. <#11> · 9",
        "2. <@2> · 5",
    ]
    for line in expected:
        assert line in lines(shown)
    assert len(shown) < 6000 and all(len(f.value or "") <= 1024 for f in shown.fields)


def test_five_answered_questions_are_enough_for_a_median() -> None:
    asked = [question(m, wait) for m, wait in ((0, 5), (1, 10), (2, 20), (3, 40), (4, 80))]
    shown = lines(render.overview_embed(overview(asked)))
    assert "First response, median: **20 min**" in shown
    assert "First response, 90th percentile: **1 h 20 min**" in shown
    assert "Answered within 24 h: **100%**" in shown


def test_response_lines_say_too_little_data_under_five_cases() -> None:
    few = render.response_lines(response_stats([question(0, 12)], LAST_WEEK, NOW))
    assert few[0] == "Questions: **1** (1 answered, 0 resolved)"
    assert "Answered within 24 h: *too little data*" in few
    assert "First response: *too little data*" in few
    assert "Staff first response: no data" in few
    assert few[-1] == "Answered within 30 min: – · 4 h: – · 24 h: – · 7 days: –"


def test_overview_rows_for_csv_keep_raw_values() -> None:
    rows = {r[0]: r for r in overview_rows(overview([question(0, 12)]))}
    assert rows["messages"] == ("messages", 12, 8, "+50%")
    assert rows["first_response_time_median"] == (
        "first_response_time_median", 720.0, None, "too little data"
    )  # fmt: skip
    assert rows["time_to_resolution_median"][1:] == (None, None, "")


def test_long_lists_are_cut_to_fit_a_field() -> None:
    quiet = tuple(QuietMember(10**17 + i, 4, 30, date(2026, 2, 20)) for i in range(60))
    back = (Returner(5, 3, date(2026, 1, 2), 9),)
    report = AtRiskReport(date(2026, 3, 11), LAST_WEEK, quiet, back)
    shown = render.at_risk_embed(report)
    went, came = shown.fields
    assert went.name == "Went quiet (60)" and came.name == "Came back (1)"
    assert (went.value or "").startswith(f"<@{10**17}> · active 4 of 4 weeks, 30 messages, last")
    assert (went.value or "").splitlines()[-1].startswith("…and ")
    assert len(went.value or "") <= 1024
    assert came.value == "<@5> · back after 9 weeks, 3 messages"


def test_sparklines_scale_to_the_busiest_day() -> None:
    assert sparkline([0, 1, 4, 8]) == "▁▁▄█"
    assert sparkline([0, 0]) == "▁▁"


def test_peak_hours_follow_the_guilds_week_start() -> None:
    grid = tuple(tuple([day] * 24) for day in range(7))
    peak = PeakHours(LAST_WEEK, grid, ())
    rows, names = render.week_order(peak, 6)
    assert names[0] == "Sunday" and rows[0][0] == 6 and names[-1] == "Saturday"


@pytest.mark.parametrize(
    ("value", "written"),
    [(None, ""), (True, "true"), (False, "false"), (42, "42"), (300.0, "300"),
     (0.8333333333, "0.833333"), (date(2026, 3, 2), "2026-03-02"),
     (datetime(2026, 3, 2, 9, 5, 1, 250000, tzinfo=UTC), "2026-03-02T09:05:01.250+00:00"),
     ("+12%", "+12%")],
)  # fmt: skip
def test_csv_cells(value: object, written: str) -> None:
    assert cell(value) == written


@pytest.mark.parametrize(
    ("typed", "written"),
    [("=HYPERLINK(1)", "'=HYPERLINK(1)"), ("+1 agreed", "'+1 agreed"), ("@here", "'@here"),
     ("how do I?", "how do I?"), (None, "")],
)  # fmt: skip
def test_what_members_typed_never_runs_as_a_formula(typed: str | None, written: str) -> None:
    assert typed_text(typed) == written


async def test_a_csv_past_the_limit_stops_and_releases_its_rows() -> None:
    closed = []

    async def rows() -> AsyncGenerator[tuple[object, ...], None]:
        try:
            for n in range(100_000):
                yield (n, "=x" if n == 0 else "text")
        finally:
            closed.append(True)

    sink = io.BytesIO()
    with pytest.raises(CsvTooLarge):
        await write_csv(("n", "content"), rows(), sink, max_bytes=100_000)
    assert closed == [True] and len(sink.getvalue()) <= 100_000
    sink = io.BytesIO()
    assert await write_csv(("n", "content"), rows(), sink) == 100_000
    assert sink.getvalue().startswith(b"n,content\r\n0,'=x\r\n1,text\r\n")


async def test_the_activity_chart_is_attached_as_the_embeds_image() -> None:
    embed = discord.Embed(title="Community overview")
    days = [date(2026, 3, 2) + timedelta(days=i) for i in range(7)]
    file = await render.activity_file(embed, LAST_WEEK, days, [5, 9, 3, 0, 12, 7, 4],
                                      [2, 3, 2, 0, 4, 3, 2])  # fmt: skip
    assert file.filename == "activity.png" and embed.image.url == "attachment://activity.png"
    image = Image.open(file.fp)
    assert image.size == (1200, 600)
