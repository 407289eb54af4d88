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


async def test_a_database_at_0003_keeps_its_messages_and_gets_partial_thread_and_reply_indexes(
    db_url: str,
) -> None:
    from sqlalchemy import text

    engine = create_engine(db_url)
    try:
        await migrate.upgrade(engine, "0003")
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO messages (id, guild_id, channel_id, thread_id, author_id,"
                    " created_at, reply_to_id, is_bot, is_webhook, is_system, counted, is_forward,"
                    " is_thread_starter, mention_users, mention_roles, mentions_everyone,"
                    " mentions_bot, author_is_staff) VALUES"
                    " (10, 1, 2, NULL, 3, 0, NULL, false, false, false, true, false, false,"
                    " 0, 0, false, false, false),"
                    " (11, 1, 2, 5, 3, 0, 10, false, false, false, true, false, false,"
                    " 0, 0, false, false, false)"
                )
            )
        assert await migrate.upgrade(engine) == ("0003", migrate.head_revision())
        assert await migrate.schema_differences(engine) == []
        async with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                found = text("SELECT name, sql FROM sqlite_master WHERE name LIKE 'ix_messages_%'")
            else:
                found = text(
                    "SELECT indexname, indexdef FROM pg_indexes"
                    " WHERE indexname LIKE 'ix_messages_%'"
                )
            indexes = {name: sql for name, sql in await conn.execute(found)}
            by_thread = await conn.execute(text("SELECT id FROM messages WHERE thread_id IN (5)"))
            by_reply = await conn.execute(text("SELECT id FROM messages WHERE reply_to_id = 10"))
            assert (by_thread.scalars().all(), by_reply.scalars().all()) == ([11], [11])
            count = await conn.execute(text("SELECT count(*) FROM messages"))
            assert count.scalar() == 2
            if conn.dialect.name == "sqlite":
                plan = await conn.execute(
                    text("EXPLAIN QUERY PLAN SELECT id FROM messages WHERE thread_id IN (5, 6)")
                )
                assert "ix_messages_thread_id" in " ".join(str(row[-1]) for row in plan)
    finally:
        await engine.dispose()
    for column in ("thread_id", "reply_to_id"):
        assert f"{column} IS NOT NULL" in indexes[f"ix_messages_{column}"], indexes
    for column in ("guild_id_author_id", "channel_id_id"):
        assert "WHERE" not in indexes[f"ix_messages_{column}"], indexes
