"""``edfi-stream emulator``: serve the emulator until Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path

from streams.emulator.core import EdfiEmulator
from streams.emulator.server import start_server


def run_from_cli(host: str, port: int, db: Path | None, seed_sample: bool) -> None:
    emulator = EdfiEmulator(db_path=db)
    key = os.environ.get("EDFI_CLIENT_ID", "demo-client")
    secret = os.environ.get("EDFI_CLIENT_SECRET", "demo-secret-not-for-production")
    emulator.add_client(key, secret)
    if seed_sample:
        from streams.sample.district import SAMPLE_EVENTS
        from streams.simulate.seed import seed_emulator

        seed_emulator(emulator, SAMPLE_EVENTS)

    async def main() -> None:
        runner = await start_server(emulator, host, port)
        print(f"Ed-Fi API emulator on http://{host}:{port} (client id {key!r}; secret from EDFI_CLIENT_SECRET)",
              flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
