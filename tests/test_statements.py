"""Statements run through the driver with plain tuples (SQLite), as the SQL layer would run them."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.statements import (
    MEMBER_DAYS,
    QUESTIONS,
    execute_many,
    insert_new,
    insert_new_rows,
    upsert_adding,
)
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
