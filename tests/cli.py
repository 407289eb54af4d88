"""Running the ``engagebot`` command line as an operator would: a subprocess, clean settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def engagebot(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m bot ARGS`` with no ENGAGEBOT_ settings from the caller's environment."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ENGAGEBOT_")}
    environment.update(env or {})
    environment["COLUMNS"] = "200"
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
