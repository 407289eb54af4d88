"""An optional Prometheus text endpoint on 127.0.0.1 for operators (``metrics.port``)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from aiohttp import web

log = logging.getLogger(__name__)

Gauges = Callable[[], Mapping[str, float]]


def render(values: Mapping[str, float]) -> str:
    lines = []
    for name, value in sorted(values.items()):
        lines.append(f"# TYPE engagebot_{name} gauge")
        lines.append(f"engagebot_{name} {value:g}")
    return "\n".join(lines) + "\n"


class MetricsServer:
    """Serves ``GET /metrics``; the values come from a callable read on every scrape."""

    def __init__(self, gauges: Gauges, port: int, host: str = "127.0.0.1") -> None:
        self.gauges = gauges
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        log.info("metrics on http://%s:%d/metrics", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _metrics(self, _request: web.Request) -> web.Response:
        return web.Response(text=render(self.gauges()), content_type="text/plain")
