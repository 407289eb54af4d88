"""Throwaway PostgreSQL server for the test suite.

:func:`server_url_or_none` picks the server: ``$ENGAGEBOT_TEST_PG_URL`` if set;
else a private server started lazily from local binaries (:func:`find_pg_bin`)
and stopped at exit; else ``None`` (PostgreSQL is not installed: skip).
Each pytest-xdist worker starts its own server; :func:`create_database` gives
each test an isolated database.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import os
import pwd
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, Self

import asyncpg
from sqlalchemy.engine import URL, make_url

PG_BIN_ENV = "ENGAGEBOT_PG_BIN"
PG_URL_ENV = "ENGAGEBOT_TEST_PG_URL"
HOST = "127.0.0.1"
SUPERUSER = "postgres"
_TOOLS = ("initdb", "pg_ctl", "postgres")
_INITDB = ("-U", SUPERUSER, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
_SETTINGS = {
    "listen_addresses": HOST,
    "max_connections": "100",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}


def _has_binaries(path: Path) -> bool:
    return all(os.access(path / tool, os.X_OK) for tool in _TOOLS)


def _version(bin_dir: Path) -> list[int]:
    return [int(part) for part in bin_dir.parent.name.split(".")]


def find_pg_bin() -> Path | None:
    """Directory with initdb/pg_ctl/postgres: $ENGAGEBOT_PG_BIN, Debian, PATH."""
    if explicit := os.environ.get(PG_BIN_ENV):
        if not _has_binaries(Path(explicit)):
            raise RuntimeError(f"${PG_BIN_ENV}={explicit} lacks initdb/pg_ctl/postgres")
        return Path(explicit)
    debian = Path("/usr/lib/postgresql").glob("*/bin")
    dirs = [d for d in debian if re.fullmatch(r"\d+(\.\d+)*", d.parent.name)]
    for bin_dir in sorted(dirs, key=_version, reverse=True):
        if _has_binaries(bin_dir):
            return bin_dir
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl and _has_binaries(Path(pg_ctl).parent):
        return Path(pg_ctl).parent
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """A private PostgreSQL cluster in a temporary directory, on a free local port."""

    def __init__(self, bin_dir: Path | None = None) -> None:
        found = bin_dir or find_pg_bin()
        if found is None:
            raise RuntimeError(f"PostgreSQL binaries not found (set ${PG_BIN_ENV})")
        self.bin_dir = found
        self.port: int | None = None
        self._tmp: Path | None = None
        self._pid = os.getpid()
        self._account: pwd.struct_passwd | None = None
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            try:
                self._account = pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError("running as root but no 'postgres' user") from None

    @property
    def url(self) -> str:
        if self._tmp is None or self.port is None:
            raise RuntimeError("PostgreSQL server is not running")
        url = URL.create("postgresql+asyncpg", SUPERUSER, None, HOST, self.port)
        return url.set(database="postgres").render_as_string(hide_password=False)

    def _run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        argv = [str(self.bin_dir / tool), *args]
        user = self._account.pw_name if self._account else None
        if user and (runuser := shutil.which("runuser")):
            argv = [runuser, "-u", user, "--", *argv]
        elif user:
            argv = ["su", user, "-s", "/bin/sh", "-c", shlex.join(argv)]
        return subprocess.run(argv, cwd=self._tmp, capture_output=True, text=True, timeout=120)

    def _error(self, proc: subprocess.CompletedProcess[str]) -> RuntimeError:
        log = self._tmp / "server.log" if self._tmp else None
        text = log.read_text(errors="replace") if log and log.exists() else ""
        tail = text.splitlines()[-40:]
        head = f"exit status {proc.returncode}: {shlex.join(proc.args)}"
        output = (proc.stdout + proc.stderr).rstrip()
        return RuntimeError("\n".join([head, output, "--- server.log tail ---", *tail]))

    def start(self) -> None:
        """initdb into a fresh temporary directory, then ``pg_ctl -w start``."""
        if self._tmp is not None:
            raise RuntimeError("PostgreSQL server already started")
        self._tmp = tmp = Path(tempfile.mkdtemp(prefix="engagebot-pg-"))
        data, log, sock = tmp / "data", tmp / "server.log", tmp / "socket"
        try:
            sock.mkdir()
            log.touch()
            for path in (tmp, sock, log):
                path.chmod(0o600 if path == log else 0o700)
                if self._account is not None:
                    os.chown(path, self._account.pw_uid, self._account.pw_gid)
            if (proc := self._run("initdb", "-D", str(data), *_INITDB)).returncode:
                raise self._error(proc)
            settings = {**_SETTINGS, "unix_socket_directories": str(sock)}
            with (data / "postgresql.conf").open("a") as conf:
                for key, value in settings.items():
                    conf.write("{} = '{}'\n".format(key, value.replace("'", "''")))
            for _attempt in range(3):  # someone else may take the free port first
                self.port, offset = _free_port(), log.stat().st_size
                options = ("-l", str(log), "-w", "-t", "60", "-o", f"-p {self.port}")
                proc = self._run("pg_ctl", "-D", str(data), *options, "start")
                if proc.returncode == 0:
                    return
                if "already in use" not in log.read_text(errors="replace")[offset:]:
                    break
            raise self._error(proc)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """``pg_ctl -m immediate stop`` and delete the directory; idempotent."""
        tmp = self._tmp
        if tmp is None or os.getpid() != self._pid:  # forked children leave it alone
            return
        try:
            if (tmp / "data" / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(tmp / "data"), "-m", "immediate", "stop")
        finally:
            self._tmp = self.port = None
            shutil.rmtree(tmp, ignore_errors=True)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


async def _execute(url: URL, sql: str) -> None:
    args = url.translate_connect_args(username="user")
    conn = await asyncpg.connect(**{"database": "postgres", **args})
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _run_sync(coro: Coroutine[Any, Any, None]) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # called from async code
        return pool.submit(asyncio.run, coro).result()


def _quote(name: str) -> str:
    if not name or len(name.encode()) > 63:
        raise ValueError(f"invalid database name: {name!r}")
    return '"' + name.replace('"', '""') + '"'


def create_database(server_url: str, name: str) -> str:
    """Create an empty database on that server; return its SQLAlchemy URL."""
    url = make_url(server_url)
    _run_sync(_execute(url, f"CREATE DATABASE {_quote(name)} TEMPLATE template0"))
    return url.set(database=name).render_as_string(hide_password=False)


def drop_database(server_url: str, name: str) -> None:
    """Drop the database if it exists, terminating its remaining sessions."""
    sql = f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)"
    _run_sync(_execute(make_url(server_url), sql))


_lock = threading.Lock()
_server: PostgresServer | None = None


def server_url_or_none() -> str | None:
    """$ENGAGEBOT_TEST_PG_URL, else a lazily started private server, else None."""
    global _server
    if env_url := os.environ.get(PG_URL_ENV):
        return env_url
    with _lock:
        if _server is None:
            if (bin_dir := find_pg_bin()) is None:
                return None  # no PostgreSQL installed: the caller skips
            server = PostgresServer(bin_dir)
            server.start()
            atexit.register(server.stop)
            _server = server
        return _server.url
