"""The Ed-Fi emulator's HTTP server on its own event loop in a background thread (demo and tests)."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable
from typing import Any

DEMO_CLIENT = ("demo-client", "demo-secret-not-for-production")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmulatorThread:
    def __init__(self, port: int, seed: Callable[[Any], None]) -> None:
        from streams.emulator.core import EdfiEmulator

        self.port = port
        self.emulator = EdfiEmulator()
        self.emulator.add_client(*DEMO_CLIENT)
        seed(self.emulator)
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="edfi-emulator", daemon=True)
        self._thread.start()
        if not self._started.wait(15):
            raise RuntimeError("the Ed-Fi emulator did not start")

    def _run(self) -> None:
        from streams.emulator.server import start_server

        async def main() -> None:
            runner = await start_server(self.emulator, "127.0.0.1", self.port)
            self._stop = asyncio.Event()
            self._started.set()
            await self._stop.wait()
            await runner.cleanup()

        self._loop.run_until_complete(main())

    def call(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the emulator's loop (safe mutation of its state from another thread)."""
        async def wrapper() -> Any:
            return fn()

        return asyncio.run_coroutine_threadsafe(wrapper(), self._loop).result(30)

    def stop(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
