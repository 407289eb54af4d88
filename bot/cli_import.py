"""``engagebot import``: DiscordChatExporter files into the database, with a progress bar.

The command line checks its arguments and prints the outcome; this module does the work: the
engine (migrated first), the importer, and a rich progress bar on standard error when it is a
terminal.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bot.services.importer import ExportImporter, FileReport, ImportReport
from bot.settings import Settings
from storage import migrate
from storage.engine import create_engine


class BarProgress:
    """The importer's progress as two bars: files, and messages of the files read so far."""

    def __init__(self, bar: Progress, files: int) -> None:
        self.bar = bar
        self.files = bar.add_task("files", total=files)
        self.messages = bar.add_task("messages", total=0)

    def file_started(self, path: Path) -> None:
        self.bar.update(self.files, description=f"reading {path.name}")

    def file_read(self, path: Path, messages: int) -> None:
        total = (self.bar.tasks[self.messages].total or 0) + messages
        self.bar.update(self.messages, total=total)
        self.bar.update(self.files, description=f"writing {path.name}")

    def file_done(self, report: FileReport) -> None:
        self.bar.update(self.files, advance=1, description="files")
        self.bar.advance(self.messages, report.messages)


async def import_files(settings: Settings, files: list[Path], console: Console) -> ImportReport:
    """Import the files, each in one transaction; stops at the first malformed one."""
    # Text past the retention window would only wait to be erased: it is not imported.
    keep_since = datetime.now(UTC) - timedelta(days=settings.privacy.content_retention_days)
    engine = create_engine(settings.database.url)
    try:
        await migrate.upgrade(engine)
        with Progress(
            TextColumn("{task.description:<40}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=not console.is_terminal,
        ) as bar:
            importer = ExportImporter(
                engine,
                store_content=settings.privacy.store_content,
                timezone=settings.defaults.timezone,
                keep_content_since=keep_since,
                progress=BarProgress(bar, len(files)),
            )
            return await importer.run(files)
    finally:
        await engine.dispose()
