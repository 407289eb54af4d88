"""The operator's /metrics endpoint serves the live values on loopback."""

from __future__ import annotations

import socket

import aiohttp

from bot.metrics_server import MetricsServer, render


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_render_is_prometheus_text() -> None:
    text = render({"writer_queue_depth": 3, "guilds": 2})
    assert text == (
        "# TYPE engagebot_guilds gauge\nengagebot_guilds 2\n"
        "# TYPE engagebot_writer_queue_depth gauge\nengagebot_writer_queue_depth 3\n"
    )


async def test_each_scrape_reads_the_current_values() -> None:
    depth = {"writer_queue_depth": 0.0}
    server = MetricsServer(lambda: depth, free_port())
    await server.start()
    try:
        async with aiohttp.ClientSession() as http:
            url = f"http://127.0.0.1:{server.port}/metrics"
            async with http.get(url) as response:
                assert response.status == 200
                assert "engagebot_writer_queue_depth 0" in await response.text()
            depth["writer_queue_depth"] = 42
            async with http.get(url) as response:
                assert "engagebot_writer_queue_depth 42" in await response.text()
    finally:
        await server.stop()
