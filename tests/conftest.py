"""Shared fixtures: every storage test runs on a temporary SQLite file and on PostgreSQL."""

from __future__ import annotations

import gc
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import migrate
from storage.engine import create_engine
from tests import pgserver

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(autouse=True)
def _collect_garbage_after() -> Iterator[None]:
    """Collect garbage once the test's other fixtures are torn down (an autouse fixture is set
    up first, so torn down last), so that a connection, socket or file it left open fails that
    test (``error::ResourceWarning``) rather than whichever later test the collector happens
    to run in."""
    yield
    gc.collect()


@pytest.fixture(scope="session")
def pg_server_url() -> str | None:
    return pgserver.server_url_or_none()


@pytest.fixture(params=BACKENDS)
def new_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Makes fresh, empty databases of one kind (each backend in turn)."""
    created: list[str] = []
    server: str | None = None
    if request.param == "postgres":
        server = request.getfixturevalue("pg_server_url")
        if server is None:
            pytest.skip("no PostgreSQL binaries on this machine (CI installs them)")

    def make() -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        if server is None:
            return f"sqlite+aiosqlite:///{tmp_path / f'{name}.db'}"
        created.append(name)
        return pgserver.create_database(server, name)

    try:
        yield make
    finally:
        for name in created:
            assert server is not None
            pgserver.drop_database(server, name)


@pytest.fixture
def db_url(new_db_url: Callable[[], str]) -> str:
    """A fresh, empty database of each kind."""
    return new_db_url()


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    """A migrated database."""
    engine = create_engine(db_url)
    await migrate.upgrade(engine)
    try:
        yield engine
    finally:
        await engine.dispose()


class _ErrorCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def fail_on_discord_errors() -> Iterator[_ErrorCollector]:
    """discord.py only logs exceptions raised in listeners (and our background tasks log theirs);
    a test must still fail on them."""
    collector = _ErrorCollector()
    logger = logging.getLogger()
    logger.addHandler(collector)
    try:
        yield collector
    finally:
        logger.removeHandler(collector)
    if collector.records:
        details = "\n".join(f"{r.name}: {r.getMessage()}" for r in collector.records)
        pytest.fail(f"errors were logged:\n{details}")


@pytest.fixture
async def resources(db_url: str) -> AsyncIterator[Any]:
    """The bot's resources (migrated database, writer, services) on each database."""
    from bot.app import open_resources
    from tests.simworld import settings_for

    async with open_resources(settings_for(db_url)) as opened:
        yield opened


@pytest.fixture
def simcord_bot(resources: Any) -> Any:
    """The real engagebot client, for simcord's ``simcord_env`` fixture."""
    from bot.app import EngageBot

    return EngageBot(resources)
