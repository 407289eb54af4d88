"""``engagebot report`` and ``engagebot export`` as an operator runs them: a subprocess on a
database filled through the EventWriter (SQLite and PostgreSQL), with no Discord connection.

The reported weeks are the two full weeks before last, so "now" (the wall clock) is after them.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.metrics import Overview
from bot.domain.periods import week_start_of
from bot.domain.questions import QuestionSource
from bot.domain.records import (
    ChannelKind,
    ChannelRecord,
    Event,
    GuildRecord,
    MemberEvent,
    MemberEventKind,
    MemberRecord,
    MessageRecord,
    QuestionAsked,
)
from bot.domain.snowflakes import snowflake_at
from bot.services.reports import DAILY_COLUMNS, QUESTION_COLUMNS
from storage.exports import MEMBER_COLUMNS, MESSAGE_COLUMNS
from storage.writer import EventWriter
from tests.cli import engagebot

GUILD, OTHER = 1001, 2002
GENERAL, HELP, LOBBY = 11, 12, 21
WEEK = week_start_of(datetime.now(UTC).date(), 0) - timedelta(days=14)
"""Monday of the reported week; the week before it is the comparison."""
PERIOD = f"{WEEK}..{WEEK + timedelta(days=6)}"
ASKED = "how do I export my data?"
FORMULA = "=HYPERLINK(1) why does this not work?"


def moment(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def history() -> list[Event]:
    """Guild 1001: 10 counted messages in the week (two questions, one answered after ten
    minutes), 5 the week before, a newcomer in the week. Guild 2002 has the same member ids
    and 20 messages of its own."""
    before = WEEK - timedelta(days=7)
    events: list[Event] = [
        GuildRecord(GUILD, "Engage Test", moment(before - timedelta(days=40))),
        GuildRecord(OTHER, "Elsewhere", moment(before - timedelta(days=40))),
        ChannelRecord(GUILD, GENERAL, ChannelKind.TEXT, "general"),
        ChannelRecord(GUILD, HELP, ChannelKind.TEXT, "help"),
        ChannelRecord(OTHER, LOBBY, ChannelKind.TEXT, "lobby"),
    ]
    for user in range(1, 7):
        joined = moment(WEEK + timedelta(days=1)) if user == 6 else moment(before - timedelta(30))
        for guild in (GUILD, OTHER):
            events.append(MemberRecord(guild, user, False, joined))
            events.append(MemberEvent(guild, user, MemberEventKind.JOIN, joined))
    n = 0

    def post(guild: int, channel: int, user: int, at: datetime, **extra: object) -> int:
        nonlocal n
        n += 1
        message_id = snowflake_at(at) + n
        events.append(MessageRecord(message_id, guild, channel, user, at, **extra))  # type: ignore[arg-type]
        return message_id

    for i, user in enumerate([1, 1, 1, 1, 2, 2, 2]):
        post(GUILD, GENERAL, user, moment(WEEK + timedelta(days=i)))
    asked_at = moment(WEEK + timedelta(days=2), 15)
    question = post(GUILD, HELP, 3, asked_at, content=ASKED)
    post(GUILD, HELP, 1, asked_at + timedelta(minutes=10), reply_to_id=question)
    formula_at = moment(WEEK + timedelta(days=3), 9)
    formula = post(GUILD, GENERAL, 4, formula_at, content=FORMULA)
    for at, message_id, user, channel in ((asked_at, question, 3, HELP),
                                          (formula_at, formula, 4, GENERAL)):  # fmt: skip
        events.append(
            QuestionAsked(message_id, GUILD, channel, None, user, at, QuestionSource.DETECTED, 60)
        )
    for i, user in enumerate([1, 1, 1, 2, 2]):
        post(GUILD, GENERAL, user, moment(before + timedelta(days=i)))
    for i in range(20):
        post(OTHER, LOBBY, 1 + i % 2, moment(WEEK + timedelta(days=i % 7), 18))
    return events


@pytest.fixture
async def filled(engine: AsyncEngine, db_url: str) -> dict[str, str]:
    async with EventWriter(engine) as writer:
        await writer.put_many(history())
    return {"ENGAGEBOT_DATABASE__URL": db_url}


def run(tmp_path: Path, env: dict[str, str], *args: str) -> str:
    result = engagebot(*args, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout


def refused(tmp_path: Path, env: dict[str, str], *args: str) -> str:
    """The one line an operator reads when a command is refused with exit status 2."""
    result = engagebot(*args, cwd=tmp_path, env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    return line


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


async def test_report_as_json_uses_the_metrics_terms(
    tmp_path: Path, filled: dict[str, str]
) -> None:
    data = json.loads(run(tmp_path, filled, "report", "--guild", str(GUILD), "--period", PERIOD,
                          "--format", "json"))  # fmt: skip
    expected = {"guild_id", "period", "previous_period", "top_channels", "top_members"}
    assert set(data) == expected | set(Overview.HEADLINES)
    assert data["guild_id"] == GUILD
    assert data["period"]["label"] == PERIOD and data["period"]["timezone"] == "UTC"
    assert data["messages"] == {
        "current": 10, "previous": 5, "delta": 5, "percent": 100.0, "too_little_data": False
    }  # fmt: skip
    assert data["questions"]["current"] == 2
    assert data["first_response_time_median"]["current"] == 600.0
    assert data["first_response_time_median"]["too_little_data"] is True
    assert data["joins"]["current"] == 1
    assert data["top_channels"] == [{"id": GENERAL, "messages": 8}, {"id": HELP, "messages": 2}]
    assert data["top_members"][:2] == [{"id": 1, "messages": 5}, {"id": 2, "messages": 3}]


async def test_report_as_csv_has_a_row_per_headline_figure(
    tmp_path: Path, filled: dict[str, str]
) -> None:
    text = run(tmp_path, filled, "report", "-g", str(GUILD), "--period", PERIOD, "-f", "csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["figure"] for r in rows] == list(Overview.HEADLINES)
    by_name = {r["figure"]: r for r in rows}
    assert by_name["messages"] == {
        "figure": "messages", "current": "10", "previous": "5", "change": "+100%"
    }  # fmt: skip
    assert by_name["active_members"]["change"] == "+100%"
    assert by_name["first_response_time_median"]["change"] == "too little data"
    assert by_name["leaves"]["change"] == "no change"


async def test_report_as_text_prints_tables(tmp_path: Path, filled: dict[str, str]) -> None:
    text = run(tmp_path, filled, "report", "--guild", str(GUILD), "--period", PERIOD)
    assert f"engagebot report: guild {GUILD}" in text
    assert "changes compare with the 7 days before" in text
    [messages] = [line for line in text.splitlines() if "Messages" in line]
    assert [cell.strip() for cell in messages.split("│")[1:5]] == [
        "Messages", "10", "5", "▲ +100%"
    ]  # fmt: skip
    assert "#general" in text and "#help" in text and "#lobby" not in text


async def test_every_export_writes_one_guilds_rows(tmp_path: Path, filled: dict[str, str]) -> None:
    def export(what: str, *more: str) -> list[dict[str, str]]:
        out = tmp_path / f"{what}.csv"
        said = run(tmp_path, filled, "export", "--guild", str(GUILD), "--what", what,
                   "--out", str(out), *more)  # fmt: skip
        rows = read_csv(out)
        assert f"wrote {len(rows)} {what} rows to {out}" in said
        assert not (tmp_path / f"{what}.csv.part").exists()
        return rows

    messages = export("messages")
    assert list(messages[0]) == list(MESSAGE_COLUMNS)
    assert len(messages) == 15 and {r["channel_id"] for r in messages} == {"11", "12"}
    assert all(r["counted"] == "true" and r["deleted_at"] == "" for r in messages)
    assert messages[0]["created_at"].endswith("T12:00:00.000+00:00")

    with_text = export("messages", "--with-content")
    assert list(with_text[0]) == [*MESSAGE_COLUMNS, "content"]
    texts = {r["content"] for r in with_text}
    assert texts == {"", ASKED, "'" + FORMULA}, "a spreadsheet must not run what members typed"

    questions = export("questions")
    assert list(questions[0]) == list(QUESTION_COLUMNS)
    fields = ("asker_id", "first_responder_id", "first_response_seconds", "state")
    assert [tuple(q[f] for f in fields) for q in questions] == [
        ("3", "1", "600", "answered"), ("4", "", "", "open")
    ]  # fmt: skip

    members = {r["user_id"]: r for r in export("members", "--period", PERIOD)}
    assert list(next(iter(members.values()))) == list(MEMBER_COLUMNS)
    assert set(members) == {str(u) for u in range(1, 7)}
    assert (members["1"]["messages"], members["1"]["active_days"]) == ("5", "4")
    assert members["6"]["messages"] == "0" and members["6"]["is_bot"] == "false"

    days = export("daily", "--period", PERIOD)
    assert list(days[0]) == list(DAILY_COLUMNS)
    assert [d["day"] for d in days] == [str(WEEK + timedelta(days=i)) for i in range(7)]
    assert sum(int(d["messages"]) for d in days) == 10
    assert days[1]["joins"] == "1" and days[2]["questions"] == "1"
    assert days[2]["first_response_time_median_seconds"] == "600"
    everything = export("daily")
    assert everything[0]["day"] == str(WEEK - timedelta(days=7))
    assert everything[-1]["day"] == str(datetime.now(UTC).date())


async def test_operator_mistakes_exit_2_with_one_clear_line(
    tmp_path: Path, filled: dict[str, str]
) -> None:
    line = refused(tmp_path, filled, "report", "--guild", "9999")
    assert line.startswith(f"error: guild 9999 is not in the database (known guilds: {GUILD}, ")
    line = refused(tmp_path, filled, "report", "--guild", str(GUILD), "--period", "fortnight")
    assert line.startswith('error: bad --period: "fortnight" is not a period: use "this week"')
    line = refused(
        tmp_path, filled, "report", "-g", str(GUILD), "--period", "2026-03-09..2026-03-01"
    )
    assert "ends (2026-03-01) before it starts (2026-03-09)" in line
    out = str(tmp_path / "m.csv")
    line = refused(tmp_path, filled, "export", "-g", "9999", "--what", "messages", "--out", out)
    assert line.startswith("error: guild 9999 is not in the database")
    line = refused(tmp_path, filled, "export", "-g", str(GUILD), "--what", "members", "--out",
                   out, "--with-content")  # fmt: skip
    assert line == "error: --with-content applies to messages and questions, not members"
    missing = str(tmp_path / "no" / "such" / "folder" / "m.csv")
    line = refused(tmp_path, filled, "export", "-g", str(GUILD), "--what", "daily", "--out",
                   missing)  # fmt: skip
    assert line.startswith(f"error: cannot write {missing}: No such file or directory")
    assert not (tmp_path / "m.csv").exists()
