"""The emulator over real HTTP (aiohttp, already a Faust dependency): ``edfi-stream emulator``."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from streams.emulator.core import DroppedConnection, EdfiEmulator, RequestTimeout


def make_app(emulator: EdfiEmulator) -> web.Application:
    async def handler(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        try:
            response = await emulator.handle(request.method, request.path, request.headers,
                                             list(request.query.items()), body)
        except DroppedConnection:
            if request.transport is not None:
                request.transport.close()
            raise asyncio.CancelledError() from None
        except RequestTimeout:
            await asyncio.sleep(emulator.faults.settings.timeout_seconds)
            return web.Response(status=504)
        return web.Response(status=response.status, headers=response.headers, body=response.body)

    app = web.Application(client_max_size=4 * 1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", handler)
    return app


async def start_server(emulator: EdfiEmulator, host: str, port: int) -> Any:
    """Start serving; returns the aiohttp runner (``await runner.cleanup()`` stops it)."""
    if not emulator.base_url:
        emulator.base_url = f"http://{host}:{port}"
    runner = web.AppRunner(make_app(emulator), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
