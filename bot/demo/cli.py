"""``engagebot demo``: the whole product on a simulated community, with no Discord token.

Importing this module is cheap and needs nothing beyond the CLI's own libraries; simcord and the
preview's extras are imported when the command runs, with a clear message if they are missing.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import signal
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

DEMO_EXTRA = "pip install 'engagebot[demo]'"
_PREVIEW_MODULES = ("aiohttp", "markdown_it", "linkify_it", "regex", "PIL")


def demo(
    seed: Annotated[
        int, typer.Option(help="Which simulated community (the same seed, the same run).")
    ] = 7,
    headless: Annotated[
        bool,
        typer.Option(
            "--headless",
            help="Print what the bot posted and write the transcript and charts, then exit "
            "(instead of opening the preview page).",
        ),
    ] = False,
    out: Annotated[
        Path, typer.Option(help="Where the transcript, the charts and the demo's database go.")
    ] = Path("engagebot-demo"),
    port: Annotated[
        int, typer.Option(help="The preview page's port on 127.0.0.1 (0: any free port).")
    ] = 0,
) -> None:
    """Run engagebot on a simulated community: eight weeks of history, then a live morning."""
    console = Console()
    missing = [m for m in ("simcord", *(() if headless else _PREVIEW_MODULES)) if not _has(m)]
    if missing:
        console.print(
            f"[bold red]error:[/] the demo needs {', '.join(missing)}; install it with "
            f"[bold]{DEMO_EXTRA}[/]",
            highlight=False,
        )
        raise typer.Exit(2)
    out.mkdir(parents=True, exist_ok=True)
    _log_to(out / "engagebot.log")
    started = time.monotonic()
    try:
        asyncio.run(_main(seed, headless, out, port, console))
    except (KeyboardInterrupt, asyncio.CancelledError):
        console.print("\nStopped.")
        return
    if headless:
        console.print(f"[dim]Finished in {time.monotonic() - started:.1f} s.[/]")


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _log_to(path: Path) -> None:
    """The bot's log goes to a file in the output folder; only errors reach the terminal."""
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    file = logging.FileHandler(path, mode="w", encoding="utf-8")
    file.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    terminal = logging.StreamHandler(sys.stderr)
    terminal.setLevel(logging.ERROR)
    root.handlers[:] = [file, terminal]


async def _main(seed: int, headless: bool, out: Path, port: int, console: Console) -> None:
    from bot.demo import community, preview, runner
    from bot.demo import headless as report

    # SIGTERM stops the demo as cleanly as Ctrl+C: the preview closes, the bot logs out.
    task = asyncio.current_task()
    if task is not None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)

    plan = community.build(seed)
    console.print(
        f"[bold]engagebot demo[/] · seed {seed} · {len(plan.people)} people, "
        f"{len(plan.messages())} messages, {len(plan.questions)} questions"
    )

    def say(line: str) -> None:
        console.print(line, highlight=False)

    async with runner.running(plan, out, say) as demo:
        transcript, charts = report.write(demo, out)
        if headless:
            report.show(demo, console, transcript, charts)
            return
        await preview.interact(demo, port, console)


if __name__ == "__main__":
    typer.run(demo)
