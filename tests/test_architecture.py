"""The import rules of DESIGN.md, checked on the source itself."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STDLIB = set(sys.stdlib_module_names) | {"__future__"}


def python_files(*parts: str) -> list[Path]:
    base = ROOT.joinpath(*parts)
    if base.is_file():
        return [base]
    return sorted(p for p in base.rglob("*.py") if "migrations" not in p.parts)


def imports(path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def top(module: str) -> str:
    return module.split(".")[0]


def within(module: str, *prefixes: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def violations(files: list[Path], allowed: object) -> list[str]:
    found = []
    for path in files:
        for module in imports(path):
            if not allowed(module):  # type: ignore[operator]
                found.append(f"{path.relative_to(ROOT)} imports {module}")
    return found


def test_domain_uses_the_standard_library_only() -> None:
    files = python_files("bot", "domain")
    assert files
    assert violations(files, lambda m: top(m) in STDLIB or within(m, "bot.domain")) == []


def test_storage_uses_domain_sqlalchemy_and_alembic_only() -> None:
    def allowed(m: str) -> bool:
        return (
            top(m) in STDLIB
            or within(m, "bot.domain", "storage")
            or top(m) in {"sqlalchemy", "alembic"}
        )

    assert violations(python_files("storage"), allowed) == []


def test_services_never_touch_discord() -> None:
    def allowed(m: str) -> bool:
        return top(m) in STDLIB or within(m, "bot.domain", "bot.services", "storage")

    assert violations(python_files("bot", "services"), allowed) == []


def test_rendering_never_reads_storage() -> None:
    def allowed(m: str) -> bool:
        return not within(m, "storage", "sqlalchemy", "bot.services")

    assert violations(python_files("bot", "render"), allowed) == []


GLUE = [
    "cogs",
    "bot/app.py",
    "bot/scheduling.py",
    "bot/errors.py",
    "bot/checks.py",
    "bot/convert.py",
    "bot/history.py",
]


@pytest.mark.parametrize("part", GLUE)
def test_discord_glue_has_no_sql(part: str) -> None:
    """Cogs and the bot talk to services and storage's public API, never tables or SQL."""
    files = python_files(*part.split("/")) if (ROOT / part).exists() else []

    def allowed(m: str) -> bool:
        return not within(m, "sqlalchemy", "storage.tables", "storage.apply")

    assert violations(files, allowed) == []


def test_cogs_reach_storage_only_through_services() -> None:
    assert violations(python_files("cogs"), lambda m: not within(m, "storage")) == []


def test_only_the_cli_imports_the_demo() -> None:
    files = [
        f
        for f in python_files("bot") + python_files("cogs") + python_files("storage")
        if "demo" not in f.parts and f.name != "cli.py"
    ]
    assert violations(files, lambda m: not within(m, "bot.demo")) == []


def test_no_module_reads_the_wall_clock_directly() -> None:
    """One clock: services take `now` from an injected clock (see DESIGN.md)."""
    offenders = []
    for path in python_files("bot", "services") + python_files("bot", "domain"):
        text = path.read_text(encoding="utf-8")
        if "datetime.now(" in text or "utcnow(" in text or "time.time(" in text:
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
