"""Fixtures: an emulator with the reference data a test needs, and a client bound to it in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from streams.config import EdfiSettings
from streams.edfi.client import EdfiClient
from streams.emulator.core import EdfiEmulator
from streams.emulator.transport import EmulatorTransport


@pytest.fixture
def emu() -> EdfiEmulator:
    emulator = EdfiEmulator()
    emulator.add_client("key", "secret")
    for n in range(1, 60):
        emulator.add_student(f"{n:08d}")
    return emulator


@pytest.fixture
async def client(emu: EdfiEmulator) -> AsyncIterator[EdfiClient]:
    async def no_sleep(seconds: float) -> None:
        return None

    settings = EdfiSettings(base_url="http://ods", max_retries=6)
    edfi = EdfiClient(settings, "key", "secret", transport=EmulatorTransport(emu), sleep=no_sleep)
    yield edfi
    await edfi.aclose()
