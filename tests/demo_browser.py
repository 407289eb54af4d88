"""Driving ``engagebot demo`` as a person does: the interactive process (its printed address,
its terminal, Ctrl+C) and its preview page in headless Chromium over the DevTools protocol."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import pty
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
SEED = 7
DEMO = [sys.executable, "-m", "bot.demo.cli", "--seed", str(SEED)]
URL = re.compile(r"http://127\.0\.0\.1:\d+/#\S+")


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


class DevTools:
    """Just enough of the Chrome DevTools protocol: call a method, get its result."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self.socket = socket
        self.ids = itertools.count(1)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self.ids)
        await self.socket.send_json({"id": ident, "method": method, "params": params})
        async for message in self.socket:
            data = json.loads(message.data)
            if data.get("id") == ident:
                if "error" in data:
                    raise RuntimeError(f"{method}: {data['error']}")
                return dict(data["result"])
        raise RuntimeError("the browser closed the connection")


VISIBLE_EMBED_TITLES = """JSON.stringify([...document.querySelectorAll('.embed-title')]
  .filter(e => { const r = e.getBoundingClientRect(); if (!r.width || !r.height) return false;
    const top = document.elementFromPoint(r.left + 4, r.top + r.height / 2);
    return top !== null && e.contains(top); })
  .map(e => e.textContent.trim()))"""
"""The embed titles a person sees: on screen, and not under a toolbar or the composer."""

MISSING_IMAGES = """JSON.stringify([...document.images]
  .filter(i => !i.getAttribute('src') || (i.complete && i.naturalWidth === 0)).length)"""

MESSAGE_BOX = """(() => { const wanted = %s;
  const found = [...document.querySelectorAll('.channel-message[data-message-id]')]
    .filter(m => [...m.querySelectorAll('.embed-title')]
      .some(t => t.textContent.trim().startsWith(wanted)));
  const message = found[found.length - 1];
  if (!message) return 'null';
  message.scrollIntoView({block: 'start'});
  const r = message.getBoundingClientRect();
  return JSON.stringify({x: r.left, y: r.top, width: r.width, height: r.height}); })()"""
"""Scrolls the newest message with an embed titled ``wanted…`` to the top; returns its box."""


class Browser:
    """Headless Chromium with one page, driven over the DevTools protocol."""

    def __init__(self, executable: str, profile: Path) -> None:
        self.executable, self.profile = executable, profile

    async def __aenter__(self) -> Browser:
        self.process = await asyncio.create_subprocess_exec(
            self.executable,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--hide-scrollbars",
            "--window-size=1280,2000",
            "--remote-debugging-port=0",
            f"--user-data-dir={self.profile}",
            "about:blank",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        port_file = self.profile / "DevToolsActivePort"
        for _ in range(200):  # the browser writes its port when it listens; nothing to await
            if port_file.exists() and port_file.read_text().strip():
                break
            await asyncio.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        self.session = aiohttp.ClientSession()
        async with self.session.get(f"http://127.0.0.1:{port}/json/list") as listed:
            page = next(t for t in await listed.json() if t["type"] == "page")
        self.socket = await self.session.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0)
        self.tools = DevTools(self.socket)
        await self.tools.call("Page.enable")
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.socket.close()
        await self.session.close()
        self.process.terminate()
        await self.process.wait()

    async def evaluate(self, expression: str) -> Any:
        found = await self.tools.call("Runtime.evaluate", expression=expression)
        return json.loads(found["result"].get("value") or "null")

    async def capture(self, url: str, wanted: str, page: Path, message: Path) -> list[str]:
        """Opens ``url`` and waits until an embed titled ``wanted…`` is on screen with every
        image loaded; saves the page and that embed's message as screenshots; returns the
        embed titles a person sees."""
        await self.tools.call("Page.navigate", url=url)
        titles: list[str] = []
        for attempt in range(4):
            if attempt:  # the page asks for every chart at once and a few may be turned away
                await self.tools.call("Page.reload")
            for _ in range(120):  # the page renders in the browser's own time: poll it
                await asyncio.sleep(0.25)
                titles = await self.evaluate(VISIBLE_EMBED_TITLES) or []
                if any(t.startswith(wanted) for t in titles):
                    break
            await asyncio.sleep(2)  # the charts arrive
            if not await self.evaluate(MISSING_IMAGES):
                break
        png = await self.tools.call("Page.captureScreenshot", format="png")
        await asyncio.to_thread(page.write_bytes, base64.b64decode(png["data"]))
        box = await self.evaluate(MESSAGE_BOX % json.dumps(wanted))
        assert box is not None, titles
        await asyncio.sleep(0.5)  # scrolled into view: the page lays it out
        box = await self.evaluate(MESSAGE_BOX % json.dumps(wanted))
        png = await self.tools.call(
            "Page.captureScreenshot", format="png", clip={**box, "scale": 1}
        )
        await asyncio.to_thread(message.write_bytes, base64.b64decode(png["data"]))
        return titles


class Interactive:
    """``engagebot demo`` as a person starts it: it prints the page's address and serves it
    until Ctrl+C. With ``terminal``, its input is a terminal the test types into."""

    def __init__(self, out: Path, *, terminal: bool = False) -> None:
        self.out = out
        self.keyboard, screen = pty.openpty() if terminal else (-1, subprocess.DEVNULL)
        self.process = subprocess.Popen(
            [*DEMO, "--out", str(out)],
            cwd=ROOT,
            stdin=screen,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        if terminal:
            os.close(screen)
        self.printed: list[str] = []
        self.urls: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.url = self.next_url()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.printed.append(line)
            if (found := URL.search(line)) is not None:
                self.urls.put(found[0])
        self.urls.put(None)

    def next_url(self) -> str | None:
        """The next preview address it prints (None if it stopped first)."""
        try:
            return self.urls.get(timeout=300)
        except queue.Empty:
            return None

    def type(self, line: str) -> None:
        os.write(self.keyboard, f"{line}\n".encode())

    def stop(self) -> tuple[int, str]:
        """Ctrl+C; returns the exit status and everything it printed."""
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.keyboard >= 0:
            os.close(self.keyboard)
        while self.urls.get(timeout=60) is not None:  # until the reader saw the output's end
            pass
        assert self.process.stdout is not None
        self.process.stdout.close()
        return self.process.returncode, "".join(self.printed)
