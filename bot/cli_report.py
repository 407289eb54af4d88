"""``engagebot report`` and ``engagebot export``: the statistics with no Discord connection.

The same services as the bot (StatsService for the overview, ReportService for the exports)
on the configured database, with the wall clock as "now". Problems an operator can fix (a guild
the database does not know, a period that does not parse) raise :class:`ReportError`, which the
command line prints as one line with exit status 2.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bot.app import defaults_from
from bot.domain.metrics import Overview
from bot.domain.periods import Period, PeriodError
from bot.render.figures import SECTIONS, count, period_text, previous_name
from bot.render.report_text import overview_csv, overview_json, overview_lines, write_csv
from bot.services.reports import Export, ReportService
from bot.services.stats import StatsService
from bot.settings import Settings
from storage import migrate
from storage.engine import create_engine
from storage.repositories import ChannelRepository, GuildRepository

log = logging.getLogger(__name__)


class ReportError(Exception):
    """Something the operator can correct; the message says what."""


@dataclass
class Offline:
    stats: StatsService
    reports: ReportService
    channels: ChannelRepository


def wall_clock() -> datetime:
    return datetime.now(UTC)


@contextlib.asynccontextmanager
async def offline(settings: Settings) -> AsyncIterator[Offline]:
    """The services on the configured database (brought to the newest schema, as at start)."""
    engine = create_engine(settings.database.url)
    try:
        await migrate.upgrade(engine)
        guilds = GuildRepository(engine, defaults_from(settings))
        yield Offline(
            StatsService(guilds, wall_clock),
            ReportService(guilds, wall_clock),
            ChannelRepository(engine),
        )
    finally:
        await engine.dispose()


async def _check_guild(services: Offline, guild_id: int) -> None:
    known = await services.reports.known_guild_ids()
    if guild_id not in known:
        listed = ", ".join(str(g) for g in sorted(known)[:10]) or "none yet"
        raise ReportError(
            f"guild {guild_id} is not in the database (known guilds: {listed}); "
            "the bot records a guild once it has joined it"
        )


async def _period(services: Offline, guild_id: int, text: str | None) -> Period:
    try:
        _, period = await services.stats.resolve(guild_id, text)
    except PeriodError as exc:
        raise ReportError(f"bad --period: {exc}") from None
    return period


async def report(
    settings: Settings, guild_id: int, period_arg: str | None
) -> tuple[Overview, dict[int, str]]:
    """The guild's overview and its channels' names (for the text report)."""
    async with offline(settings) as services:
        await _check_guild(services, guild_id)
        period = await _period(services, guild_id, period_arg)
        overview = await services.stats.overview(guild_id, period)
        names = {c.channel_id: c.name for c in await services.channels.channels(guild_id)}
    return overview, names


def render_report(overview: Overview, guild_id: int, fmt: str, names: dict[int, str]) -> str | None:
    """JSON or CSV text; for ``text`` the tables are printed and None is returned."""
    if fmt == "json":
        return overview_json(overview, guild_id)
    if fmt == "csv":
        return overview_csv(overview)
    print_tables(overview, guild_id, names)
    return None


def print_tables(overview: Overview, guild_id: int, names: dict[int, str]) -> None:
    console = Console(highlight=False)
    period = overview.period
    table = Table(
        title=f"engagebot report: guild {guild_id}",
        caption=f"{period_text(period)}; changes compare with {previous_name(period)}",
        title_justify="left",
    )
    table.add_column("figure")
    table.add_column(period.label, justify="right")
    table.add_column("previous", justify="right", style="dim")
    table.add_column("change", justify="right")
    lines = dict(zip(Overview.HEADLINES, overview_lines(overview), strict=True))
    for section, keys in SECTIONS:
        table.add_row(f"[bold]{section}[/]")
        for key in keys:
            label, value, previous, change = lines[key]
            table.add_row(f"  {label}", value, previous, change)
        table.add_section()
    console.print(table)
    tops = Table(title="Top channels and members", title_justify="left")
    tops.add_column("#", justify="right")
    tops.add_column("channel")
    tops.add_column("messages", justify="right")
    tops.add_column("member id")
    tops.add_column("messages", justify="right")
    channels, members = overview.top_channels, overview.top_members
    for i in range(max(len(channels), len(members))):
        channel = channels[i] if i < len(channels) else None
        member = members[i] if i < len(members) else None
        tops.add_row(
            str(i + 1),
            f"#{names.get(channel.id, channel.id)}" if channel else "",
            count(channel.messages) if channel else "",
            str(member.id) if member else "",
            count(member.messages) if member else "",
        )
    console.print(tops)


async def export(
    settings: Settings,
    guild_id: int,
    what: Export,
    out: Path,
    period_arg: str | None,
    with_content: bool,
) -> int:
    """Write the export to ``out`` (through a temporary file, so a failure leaves no half
    file behind); returns the number of rows."""
    if with_content and not what.has_content:
        raise ReportError(f"--with-content applies to messages and questions, not {what.value}")
    async with offline(settings) as services:
        await _check_guild(services, guild_id)
        period = await _period(services, guild_id, period_arg) if period_arg else None
        table = services.reports.export(guild_id, what, period, with_content=with_content)
        partial = out.with_name(out.name + ".part")
        try:
            sink = partial.open("wb")
        except OSError as exc:
            await table.rows.aclose()
            raise ReportError(f"cannot write {out}: {exc.strerror}") from None
        try:
            with sink:
                rows = await write_csv(table.columns, table.rows, sink)
            os.replace(partial, out)
        finally:
            partial.unlink(missing_ok=True)
    return rows
