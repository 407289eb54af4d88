"""The migrations build exactly the schema in tables.py, on both databases."""

from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import migrate
from storage.engine import create_engine
from storage.tables import metadata


async def test_migrations_produce_exactly_the_declared_schema(engine: AsyncEngine) -> None:
    assert await migrate.schema_differences(engine) == []
    assert await migrate.current_revision(engine) == migrate.head_revision()


async def test_upgrade_is_idempotent_and_reports_nothing_to_do(engine: AsyncEngine) -> None:
    head = migrate.head_revision()
    assert await migrate.upgrade(engine) == (head, head)


async def test_an_empty_database_is_upgraded_from_nothing(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        assert await migrate.current_revision(engine) is None
        before, after = await migrate.upgrade(engine)
        assert (before, after) == (None, migrate.head_revision())
        async with engine.connect() as conn:
            tables = set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
        assert set(metadata.tables) <= tables
    finally:
        await engine.dispose()


async def test_sqlite_connections_are_tuned(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'tuned.db'}")
    try:
        async with engine.connect() as conn:
            pragmas = {
                name: (await conn.execute(text(f"PRAGMA {name}"))).scalar()
                for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
            }
    finally:
        await engine.dispose()
    assert pragmas == {
        "journal_mode": "wal",
        "synchronous": 1,
        "foreign_keys": 1,
        "busy_timeout": 10_000,
    }
