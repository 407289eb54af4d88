"""The tables as Core objects, and the ON CONFLICT statements the writer uses, built once per
dialect."""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import tables as t

MESSAGES: Table = t.Message.__table__  # type: ignore[assignment]
MENTIONS: Table = t.MentionRow.__table__  # type: ignore[assignment]
REACTIONS: Table = t.ReactionRow.__table__  # type: ignore[assignment]
CHANNELS: Table = t.Channel.__table__  # type: ignore[assignment]
GUILDS: Table = t.Guild.__table__  # type: ignore[assignment]
MEMBERS: Table = t.Member.__table__  # type: ignore[assignment]
MEMBER_EVENTS: Table = t.MemberEventRow.__table__  # type: ignore[assignment]
TOMBSTONES: Table = t.DeletedMessage.__table__  # type: ignore[assignment]
EARLY_EDITS: Table = t.EarlyEdit.__table__  # type: ignore[assignment]
GUILD_DAYS: Table = t.GuildDay.__table__  # type: ignore[assignment]
MEMBER_DAYS: Table = t.MemberDay.__table__  # type: ignore[assignment]
CHANNEL_DAYS: Table = t.ChannelDay.__table__  # type: ignore[assignment]
GUILD_HOURS: Table = t.GuildHour.__table__  # type: ignore[assignment]
QUESTIONS: Table = t.Question.__table__  # type: ignore[assignment]
RESPONSES: Table = t.ResponseRow.__table__  # type: ignore[assignment]
INBOX_ITEMS: Table = t.InboxItem.__table__  # type: ignore[assignment]
SUMMARY_RUNS: Table = t.SummaryRun.__table__  # type: ignore[assignment]


def dialect_insert(conn: AsyncConnection, table: Table) -> Any:
    """``INSERT`` with the dialect's ``ON CONFLICT`` support (same API on both databases)."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


@functools.cache
def insert_new(dialect: str, table: Table, returning: str | None = None) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` (optionally returning a key), built once."""
    stmt = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    stmt = stmt.on_conflict_do_nothing()
    return stmt.returning(table.c[returning]) if returning else stmt


@functools.cache
def upsert_adding(
    dialect: str, table: Table, keys: tuple[str, ...], counters: tuple[str, ...]
) -> Any:
    """``INSERT ... ON CONFLICT DO UPDATE SET n = n + excluded.n``, built once."""
    stmt = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    return stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: table.c[name] + stmt.excluded[name] for name in counters},
    )


async def execute_many(conn: AsyncConnection, stmt: Any, rows: Sequence[Mapping[str, Any]]) -> None:
    """``conn.execute(stmt, rows)`` for a statement built once. On SQLite it is compiled once
    and its rows go to the driver as plain tuples, each value through its column type's own
    bind processor: the SQL layer's per-row handling cost more than SQLite's work on the
    writer's busiest statements."""
    if not rows:
        return
    if conn.dialect.name != "sqlite":
        await conn.execute(stmt, rows)
        return
    form = _driver_form(stmt, tuple(rows[0]), conn.dialect)
    await conn.exec_driver_sql(form.sql, form.driver_rows(rows))


@dataclass(frozen=True, slots=True)
class _DriverForm:
    statement: Any
    sql: str
    values: tuple[tuple[str | None, Any, Callable[[Any], Any]], ...]
    """Per positional parameter: the row's key (None: a constant), the constant, the processor."""
    pick: Callable[[Mapping[str, Any]], tuple[Any, ...]] | None
    """Without constants: the row's values in parameter order, in one call."""
    process: tuple[tuple[int, Callable[[Any], Any]], ...]
    """Without constants: the positions whose values need their bind processor."""

    def driver_rows(self, rows: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
        pick, process = self.pick, self.process
        if pick is None:
            return [
                tuple([value if key is None else fn(row[key]) for key, value, fn in self.values])
                for row in rows
            ]
        if not process:
            return [pick(row) for row in rows]
        out = []
        for row in rows:
            values = list(pick(row))
            for i, fn in process:
                values[i] = fn(values[i])
            out.append(tuple(values))
        return out


_FORMS: dict[tuple[int, tuple[str, ...]], _DriverForm] = {}


def _driver_form(stmt: Any, keys: tuple[str, ...], dialect: Dialect) -> _DriverForm:
    form = _FORMS.get((id(stmt), keys))
    if form is not None and form.statement is stmt:
        return form
    if len(_FORMS) >= _FORMS_LIMIT:
        _FORMS.clear()
    compiled = stmt.compile(dialect=dialect, column_keys=list(keys))
    # An INSERT's columns missing from the rows would bind their defaults as constants.
    insert_columns = set(stmt.table.c.keys()) if getattr(stmt, "is_insert", False) else set()
    values = []
    for name in compiled.positiontup or ():
        bind = compiled.binds[name]
        process = _bind_processor(bind.type, dialect)
        if name in keys:
            values.append((name, None, process))
        elif name in insert_columns:
            raise ValueError(f"no value for column {name!r} of {compiled}")
        elif bind.callable is None and not bind.required:
            values.append((None, process(bind.value), _same))  # a literal of the statement
        else:
            raise ValueError(f"no value for parameter {name!r} of {compiled}")
    pick: Callable[[Mapping[str, Any]], tuple[Any, ...]] | None = None
    processed: tuple[tuple[int, Callable[[Any], Any]], ...] = ()
    if all(key is not None for key, _, _ in values):
        pick = _picker(tuple(key for key, _, _ in values))
        processed = tuple((i, fn) for i, (_, _, fn) in enumerate(values) if fn is not _same)
    form = _DriverForm(stmt, str(compiled), tuple(values), pick, processed)
    _FORMS[(id(stmt), keys)] = form
    return form


def _picker(keys: tuple[Any, ...]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    if len(keys) == 1:
        return functools.partial(_pick_one, keys[0])
    return operator.itemgetter(*keys)


def _pick_one(key: str, row: Mapping[str, Any]) -> tuple[Any, ...]:
    return (row[key],)


_FORMS_LIMIT = 256


def _same(value: Any) -> Any:
    return value


_SQLITE_DATE_FORMAT = "%(year)04d-%(month)02d-%(day)02d"


def _bind_processor(kind: Any, dialect: Dialect) -> Callable[[Any], Any]:
    """The column type's bind processor; for the two the writer binds most, the same conversion
    in one call (a rollup row's day, and every time)."""
    if isinstance(kind, t.UtcMillis):
        return t.millis_or_none
    impl = kind.dialect_impl(dialect)
    process = impl.bind_processor(dialect) or _same
    if (
        isinstance(impl, sqlite.DATE)
        and getattr(impl, "_storage_format", None) == _SQLITE_DATE_FORMAT
    ):
        return functools.partial(_sqlite_date, process)
    return process


def _sqlite_date(process: Callable[[Any], Any], value: Any) -> Any:
    """SQLite's DATE bind processor, whose format is ISO 8601's, for plain dates."""
    return value.isoformat() if type(value) is date else process(value)


@functools.cache
def _insert_returning(dialect: str, table: Table, key: tuple[str, ...]) -> Any:
    return insert_new(dialect, table).returning(*(table.c[name] for name in key))


async def insert_new_rows(
    conn: AsyncConnection,
    table: Table,
    key: tuple[str, ...],
    rows: Sequence[Mapping[str, Any]],
    *,
    near: str,
) -> set[tuple[Any, ...]]:
    """Insert the rows whose ``key`` is not stored yet; returns the keys of those inserted.

    PostgreSQL says which with ``RETURNING``. On SQLite the keys stored between the rows'
    smallest and largest ``near`` (an indexed snowflake column) are read first, one index
    range, and the rest go through ``execute_many`` with ``OR IGNORE``. A transaction that
    has written holds SQLite's write lock, so nothing appears in between; in one that has not,
    a row another process inserts in between is kept once and reported as new, which the
    callers' follow-up updates (all idempotent) tolerate.
    """
    if not rows:
        return set()
    if conn.dialect.name != "sqlite":
        inserted = await conn.execute(_insert_returning(conn.dialect.name, table, key), rows)
        return {tuple(row) for row in inserted}
    column = table.c[near]
    nearby = [row[near] for row in rows]
    stored = await conn.execute(
        select(*(table.c[name] for name in key)).where(column.between(min(nearby), max(nearby)))
    )
    known = {tuple(row) for row in stored}
    new = {}
    for row in rows:
        found = tuple([row[name] for name in key])
        if found not in known and found not in new:
            new[found] = row
    await execute_many(conn, insert_new(conn.dialect.name, table), list(new.values()))
    return set(new)
