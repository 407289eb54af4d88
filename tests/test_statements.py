"""Statements run through the driver with plain tuples (SQLite), as the SQL layer would run them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import bindparam, delete, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.statements import (
    MEMBER_DAYS,
    QUESTIONS,
    RESPONSES,
    _driver_form,
    execute_many,
    insert_new,
    insert_new_rows,
    upsert_adding,
)
from storage.tables import UtcMillis
from tests.test_writer import scalar


async def test_rows_through_the_driver_are_stored_as_the_sql_layer_stores_them(
    engine: AsyncEngine,
) -> None:
    upsert = upsert_adding(
        engine.dialect.name, MEMBER_DAYS, ("guild_id", "day", "user_id"), ("messages",)
    )
    rows = [{"guild_id": 1, "day": date(2026, 3, 2), "user_id": u, "messages": 2} for u in (5, 6)]
    async with engine.begin() as conn:
        await execute_many(conn, upsert, rows)
        await execute_many(conn, upsert, rows[:1])
        await conn.execute(upsert, rows[1:])  # the SQL layer's own way, on the same rows
    assert await scalar(engine, "SELECT sum(messages) FROM member_days WHERE user_id = 5") == 4
    assert await scalar(engine, "SELECT count(DISTINCT day) FROM member_days") == 1


async def test_only_keys_not_stored_yet_are_inserted_and_reported(engine: AsyncEngine) -> None:
    rows = [{"guild_id": 1, "day": date(2026, 3, 2), "user_id": u, "messages": 1} for u in (5, 6)]
    async with engine.begin() as conn:
        first = await insert_new_rows(
            conn, MEMBER_DAYS, ("guild_id", "user_id"), rows[:1], near="user_id"
        )
        second = await insert_new_rows(
            conn, MEMBER_DAYS, ("guild_id", "user_id"), rows, near="user_id"
        )
    assert (first, second) == ({(1, 5)}, {(1, 6)})


async def test_constants_of_a_statement_are_bound_and_missing_columns_refused(
    engine: AsyncEngine,
) -> None:
    withdraw = update(QUESTIONS).values(state="withdrawn").where(QUESTIONS.c.message_id == 1)
    async with engine.begin() as conn:
        await execute_many(conn, withdraw, [{}])  # a literal value, bound once
        if conn.dialect.name == "sqlite":
            # Through the driver a missing column would be bound as a constant: refused.
            with pytest.raises(ValueError, match="messages"):
                await execute_many(
                    conn,
                    insert_new(conn.dialect.name, MEMBER_DAYS),
                    [{"guild_id": 1, "day": date(2026, 3, 2), "user_id": 5}],
                )


def _as_the_sql_layer_binds(stmt: Any, row: dict[str, Any]) -> tuple[Any, ...]:
    """A row as SQLAlchemy's own bind processors would hand it to SQLite."""
    dialect = sqlite.dialect()
    compiled = stmt.compile(dialect=dialect, column_keys=list(row))
    values = []
    for name in compiled.positiontup:
        kind = compiled.binds[name].type
        process = kind.dialect_impl(dialect).bind_processor(dialect)
        if isinstance(kind, UtcMillis):  # a TypeDecorator: its own step first
            value = kind.process_bind_param(row[name], dialect)
        else:
            value = process(row[name]) if process else row[name]
        values.append(value)
    return tuple(values)


# hypothesis takes naive bounds and makes each value aware.
_EARLIEST, _LATEST = datetime(2015, 1, 1), datetime(2100, 1, 1)  # noqa: DTZ001
_TIMES = st.datetimes(min_value=_EARLIEST, max_value=_LATEST, timezones=st.just(UTC))


@given(
    day=st.dates(),
    at=st.none() | _TIMES,
    staff=st.booleans(),
    ids=st.tuples(st.integers(0, 2**63 - 1), st.integers(0, 2**63 - 1)),
)
def test_the_driver_gets_each_value_as_the_sql_layer_would_bind_it(
    day: date, at: datetime | None, staff: bool, ids: tuple[int, int]
) -> None:
    dialect = sqlite.dialect()
    upsert = upsert_adding("sqlite", MEMBER_DAYS, ("guild_id", "day", "user_id"), ("messages",))
    day_row = {"guild_id": ids[0], "day": day, "user_id": ids[1], "messages": 2}
    link = {"question_id": ids[0], "message_id": ids[1], "guild_id": 1, "responder_id": 7}
    link |= {"responded_at": at, "by_staff": staff, "rule": "reply"}
    forget = delete(MEMBER_DAYS).where(MEMBER_DAYS.c.user_id == bindparam("uid"))
    for stmt, row in (
        (upsert, day_row),
        (insert_new("sqlite", RESPONSES), link),
        (forget, {"uid": ids[1]}),  # one parameter
    ):
        form = _driver_form(stmt, tuple(row), dialect)
        assert form.driver_rows([row]) == [_as_the_sql_layer_binds(stmt, row)]


def test_a_naive_time_or_a_day_that_is_not_a_date_is_refused_on_the_way_to_the_driver() -> None:
    dialect = sqlite.dialect()
    link = {"question_id": 1, "message_id": 2, "guild_id": 1, "responder_id": 7}
    naive = datetime(2026, 3, 2)  # noqa: DTZ001 - what is refused
    link |= {"responded_at": naive, "by_staff": False, "rule": "reply"}
    form = _driver_form(insert_new("sqlite", RESPONSES), tuple(link), dialect)
    with pytest.raises(ValueError, match="naive"):
        form.driver_rows([link])
    upsert = upsert_adding("sqlite", MEMBER_DAYS, ("guild_id", "day", "user_id"), ("messages",))
    row = {"guild_id": 1, "day": "2026-03-02", "user_id": 5, "messages": 1}
    with pytest.raises(TypeError, match="date"):
        _driver_form(upsert, tuple(row), dialect).driver_rows([row])
