"""The emulator over real HTTP (aiohttp, already a Faust dependency): ``edfi-stream emulator``.

``start_server`` / ``serving`` run it on the caller's event loop (tests, the demo's thread); ``serve_forever``
and ``run_emulator`` own the loop until Ctrl-C or SIGTERM (the CLI verb). Injected faults that need the
socket happen here: a dropped connection closes the transport without an answer; a timeout holds the
request for ``timeout_seconds`` (longer than any sane client timeout) and then answers 504.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from aiohttp import web

from streams.emulator.core import DroppedConnection, EdfiEmulator, RequestTimeout
from streams.emulator.faults import FaultSettings

log = logging.getLogger(__name__)
DEFAULT_PORT = 8001


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


async def start_server(emulator: EdfiEmulator, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> Any:
    """Start serving; returns the aiohttp runner (``await runner.cleanup()`` stops it)."""
    if not emulator.base_url:
        emulator.base_url = f"http://{host}:{port}"
    runner = web.AppRunner(make_app(emulator), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner


@contextlib.asynccontextmanager
async def serving(emulator: EdfiEmulator, host: str = "127.0.0.1", port: int = DEFAULT_PORT
                  ) -> AsyncIterator[str]:
    """``async with serving(emu, host, port) as base_url: ...``: the server runs inside the block."""
    runner = await start_server(emulator, host, port)
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


def serve_forever(emulator: EdfiEmulator, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
                  banner: str | None = None) -> None:
    """Serve on a new event loop until Ctrl-C or SIGTERM."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        async with serving(emulator, host, port):
            if banner:
                print(banner, flush=True)
            await stop.wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


def build_emulator(db_path: str | Path | None = None, clients: Mapping[str, str] | None = None,
                   seed_sample: bool = False, faults: FaultSettings | None = None,
                   client_schools: Mapping[str, Sequence[int]] | None = None, **options: Any) -> EdfiEmulator:
    """An emulator with its API clients registered (``client_schools``: the schools a client's claims cover,
    authorization.py) and, optionally, the sample district's people loaded."""
    emulator = EdfiEmulator(db_path=db_path, faults=faults, **options)
    for key, secret in (clients or {}).items():
        emulator.add_client(key, secret, (client_schools or {}).get(key))
    if seed_sample:
        from streams.sample.district import SAMPLE_EVENTS
        from streams.simulate.seed import seed_emulator

        seed_emulator(emulator, SAMPLE_EVENTS)
    return emulator


def run_emulator(host: str = "127.0.0.1", port: int = DEFAULT_PORT, db_path: str | Path | None = None,
                 clients: Mapping[str, str] | None = None, seed_sample: bool = False,
                 faults: FaultSettings | None = None,
                 client_schools: Mapping[str, Sequence[int]] | None = None) -> None:
    """The ``edfi-stream emulator`` verb: build, then serve until stopped. Secrets are never printed."""
    emulator = build_emulator(db_path, clients, seed_sample, faults, client_schools)
    names = ", ".join(repr(k) for k in sorted(clients or {})) or "none"
    serve_forever(emulator, host, port, banner=f"Ed-Fi API emulator on http://{host}:{port} (API clients: {names})")
