"""The ``engagebot`` command line (also ``python -m bot``)."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from typing import Annotated, Literal, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from bot import __version__
from bot.demo.cli import demo
from bot.settings import TOKEN_ENV, ConfigError, Settings, config_path_from, load_settings

log = logging.getLogger(__name__)

app = typer.Typer(
    name="engagebot",
    help="A Discord community engagement inbox: questions never go unseen, response times and "
    "retention measured, weekly summaries posted.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema: upgrade and inspect.", no_args_is_help=True)
app.add_typer(db_app, name="db")

out = Console()
err = Console(stderr=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="Config file (default: $ENGAGEBOT_CONFIG, else ./config.toml if it exists).",
        dir_okay=False,
    ),
]

NO_TOKEN_HELP = f"""No bot token: engagebot reads it from {TOKEN_ENV} or discord.token_file only.
To get one:
  1. Open the Discord Developer Portal (https://discord.com/developers/applications)
     and create an application.
  2. Under Bot, press Reset Token and copy it; set it with  export {TOKEN_ENV}=...
  3. Under Bot > Privileged Gateway Intents, turn on MESSAGE CONTENT INTENT and
     SERVER MEMBERS INTENT (the bot needs both to see questions and joins).
  4. Invite it to your server with the URL from  engagebot invite-url"""


def fail(message: str, code: int = 2) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def settings_or_exit(config: Path | None) -> Settings:
    try:
        return load_settings(config)
    except ConfigError as exc:
        fail(str(exc))


def setup_logging(settings: Settings) -> None:
    from bot import logs

    logs.configure(settings.logging.level, settings.logging.format)


@app.command()
def version() -> None:
    """Print the version of engagebot and of the libraries it runs on."""
    import discord
    import sqlalchemy

    out.print(
        f"engagebot {__version__} (discord.py {discord.__version__}, "
        f"SQLAlchemy {sqlalchemy.__version__}, Python {sys.version.split()[0]})"
    )


@app.command("check-config")
def check_config(config: ConfigOption = None) -> None:
    """Validate the settings and show the effective values (the token is never shown)."""
    settings = settings_or_exit(config)
    path = config_path_from(config)
    table = Table(title=f"engagebot settings ({path if path.exists() else 'defaults'})")
    table.add_column("key")
    table.add_column("value")
    for section, values in settings.model_dump(exclude={"token"}).items():
        for key, value in values.items():
            shown = str(value)
            if section == "database" and key == "url":
                from storage.engine import redacted

                shown = redacted(value)
            table.add_row(f"{section}.{key}", shown)
    try:
        token = settings.read_token()
    except OSError as exc:
        fail(f"discord.token_file cannot be read: {exc.strerror}")
    source = TOKEN_ENV if settings.token is not None else "discord.token_file"
    table.add_row("token", f"set (from {source})" if token else f"not set ({TOKEN_ENV})")
    out.print(table)
    out.print("[green]settings are valid[/]")


@app.command()
def run(config: ConfigOption = None) -> None:
    """Connect to Discord and run the bot (applies database migrations first)."""
    settings = settings_or_exit(config)
    try:
        token = settings.read_token()
    except OSError as exc:
        fail(f"discord.token_file cannot be read: {exc.strerror}")
    if token is None:
        fail(NO_TOKEN_HELP)
    from bot import logs
    from bot.app import run_bot

    secret = token.get_secret_value()
    logs.hide_secret(secret)
    setup_logging(settings)
    try:
        asyncio.run(run_bot(settings, secret))
    except (KeyboardInterrupt, asyncio.CancelledError):  # Ctrl+C, or SIGTERM
        log.info("stopped")
    except Exception as exc:
        _explain_run_failure(exc)


def _explain_run_failure(exc: Exception) -> NoReturn:
    import discord

    if isinstance(exc, discord.LoginFailure):
        fail(f"Discord refused the token ({TOKEN_ENV}); reset it in the Developer Portal.", 2)
    if isinstance(exc, discord.PrivilegedIntentsRequired):
        fail(
            "Discord refused the privileged intents. In the Developer Portal, under Bot, turn "
            "on MESSAGE CONTENT INTENT and SERVER MEMBERS INTENT.",
            2,
        )
    log.exception("the bot stopped on an unexpected error")
    fail(f"the bot stopped: {type(exc).__name__}", 1)


@app.command("invite-url")
def invite_url_command(
    client_id: Annotated[
        int | None,
        typer.Option(help="The application id (default: read from the token, if set)."),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Print the URL that adds the bot to a server, with scopes bot and applications.commands.

    It asks for exactly these permissions:

    view_channel: see the channels it watches and the inbox channel;
    read_message_history: read history after downtime and for /engage backfill;
    send_messages: post inbox cards and the weekly summaries;
    send_messages_in_threads: post into a thread when one is chosen for cards or summaries;
    embed_links: show cards and summaries as embeds;
    attach_files: attach the summary charts.
    """
    from bot.invite import application_id_from_token, invite_url, permissions_help

    if client_id is None:
        settings = settings_or_exit(config)
        token = settings.read_token()
        client_id = application_id_from_token(token.get_secret_value()) if token else None
        if client_id is None:
            fail(
                "give --client-id (the Application ID from the Developer Portal), or set "
                f"{TOKEN_ENV} so it can be read from the token"
            )
    out.print(invite_url(client_id), soft_wrap=True, highlight=False)
    out.print(f"[dim]permissions:\n{permissions_help()}[/]", highlight=False)


@db_app.command("upgrade")
def db_upgrade(config: ConfigOption = None) -> None:
    """Apply pending schema migrations (the bot also does this at start)."""
    settings = settings_or_exit(config)
    setup_logging(settings)
    from storage import migrate
    from storage.engine import create_engine, redacted

    async def go() -> tuple[str | None, str]:
        engine = create_engine(settings.database.url)
        try:
            return await migrate.upgrade(engine)
        finally:
            await engine.dispose()

    try:
        before, after = asyncio.run(go())
    except Exception as exc:
        fail(
            f"cannot upgrade {redacted(settings.database.url)}: {type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}",
            1,
        )
    if before == after:
        out.print(f"database is at the newest schema ({after})")
    else:
        out.print(f"database upgraded: {before or 'empty'} -> {after}")


@db_app.command("current")
def db_current(config: ConfigOption = None) -> None:
    """Show the database's schema revision and the newest one this version knows."""
    settings = settings_or_exit(config)
    from storage import migrate
    from storage.engine import create_engine

    async def go() -> str | None:
        engine = create_engine(settings.database.url)
        try:
            return await migrate.current_revision(engine)
        finally:
            await engine.dispose()

    current = asyncio.run(go())
    out.print(f"current: {current or 'empty'}; newest: {migrate.head_revision()}")


@app.command("import")
def import_command(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="DiscordChatExporter JSON files, or folders searched for *.json.",
            show_default=False,
        ),
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the counts as one JSON object on stdout.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Import DiscordChatExporter JSON exports: history from before the bot joined.

    Each file is checked whole, then imported in one transaction.

    Importing the same or overlapping exports again stores nothing twice.

    A malformed file stops the import at that file (exit status 2), naming the problem's place.

    Message text is kept only as privacy.store_content says.
    """
    import json

    from bot.cli_import import import_files
    from bot.services.importer import SKIPPED_UNITS, find_export_files
    from storage.engine import redacted

    settings = settings_or_exit(config)
    setup_logging(settings)
    try:
        files = find_export_files(paths)
    except FileNotFoundError as exc:
        fail(f"{exc.args[0]}: no such file or folder")
    if not files:
        fail("no *.json files found in " + ", ".join(str(p) for p in paths))
    database = redacted(settings.database.url)
    try:
        report = asyncio.run(import_files(settings, files, err))
    except Exception as exc:
        fail(
            f"cannot import into {database}: {type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}",
            1,
        )
    totals = report.totals()
    if as_json:
        typer.echo(json.dumps(totals, ensure_ascii=False))
    else:
        out.print(
            f"Imported {totals['files']} of {len(files)} files into {database}\n"
            f"  messages   {totals['messages_new']} new, "
            f"{totals['messages_already_present']} already present\n"
            f"  reactions  {totals['reactions_new']} new, "
            f"{totals['reactions_already_present']} already present",
            highlight=False,
        )
        for reason, count in report.skipped().items():
            unit = SKIPPED_UNITS.get(reason, "items")
            out.print(f"  skipped    {count} {unit}: {reason}", highlight=False)
    failure = report.failure
    if failure is not None:

        def files_text(n: int) -> str:
            return "1 file" if n == 1 else f"{n} files"

        fail(
            f"{failure.describe()}\nNothing from this file was imported. Imported before it and "
            f"kept: {files_text(len(report.files))}; not read after it: "
            f"{files_text(failure.files_not_read)}.",
            2 if failure.malformed else 1,
        )


def _database_failure(settings: Settings, exc: Exception) -> NoReturn:
    from storage.engine import redacted

    log.debug("report failed", exc_info=exc)
    detail = str(exc).splitlines()[0] if str(exc) else ""
    fail(f"cannot read {redacted(settings.database.url)}: {type(exc).__name__}: {detail}", 1)


GuildOption = Annotated[
    int, typer.Option("--guild", "-g", help="The server (guild) id.", show_default=False)
]
PERIOD_HELP = (
    "this week, last week, last 7/28/90 days, or dates as 2026-03-01..2026-03-31, in the "
    "server's time zone"
)


@app.command()
def report(
    guild: GuildOption,
    period: Annotated[
        str | None, typer.Option(help=f"{PERIOD_HELP} (default: last week).", show_default=False)
    ] = None,
    output: Annotated[
        Literal["text", "json", "csv"],
        typer.Option(
            "--format",
            "-f",
            help="text: tables; json: METRICS.md keys; csv: a row per headline figure.",
        ),
    ] = "text",
    config: ConfigOption = None,
) -> None:
    """Print a server's overview, the figures of /stats overview, without connecting to Discord.

    JSON keys are the METRICS.md terms in snake_case (durations in seconds, rates as fractions).
    """
    from bot.cli_report import ReportError, render_report
    from bot.cli_report import report as build_report

    settings = settings_or_exit(config)
    setup_logging(settings)
    try:
        overview, names = asyncio.run(build_report(settings, guild, period))
    except ReportError as exc:
        fail(str(exc))
    except Exception as exc:
        _database_failure(settings, exc)
    text = render_report(overview, guild, output, names)
    if text is not None:
        typer.echo(text, nl=not text.endswith("\n"))


@app.command()
def export(
    guild: GuildOption,
    what: Annotated[
        Literal["messages", "questions", "members", "daily"],
        typer.Option(
            help="messages, questions, members, or daily (a row per day).", show_default=False
        ),
    ],
    out_file: Annotated[
        Path,
        typer.Option(
            "--out", "-o", help="The CSV file to write.", dir_okay=False, show_default=False
        ),
    ],
    period: Annotated[
        str | None,
        typer.Option(
            help=f"Only this period: {PERIOD_HELP} (default: all history).", show_default=False
        ),
    ] = None,
    with_content: Annotated[
        bool,
        typer.Option(
            "--with-content",
            help="Add message text (messages and questions), where privacy.store_content kept it.",
        ),
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Write a server's statistics as CSV: one row per message, question, member or day.

    Times are ISO 8601 in UTC; message text only with --with-content, and only where stored.
    """
    from bot.cli_report import ReportError
    from bot.cli_report import export as write_export
    from bot.services.reports import Export

    settings = settings_or_exit(config)
    setup_logging(settings)
    try:
        rows = asyncio.run(
            write_export(settings, guild, Export(what), out_file, period, with_content)
        )
    except ReportError as exc:
        fail(str(exc))
    except Exception as exc:
        _database_failure(settings, exc)
    out.print(f"wrote {rows:,} {what} rows to {out_file}", highlight=False)


app.command()(demo)


def main() -> None:
    app()
