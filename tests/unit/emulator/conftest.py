"""Fixtures of the emulator tests: an emulator with one API client and the people a body references, and an
httpx client holding a token, through the in-process transport."""

from __future__ import annotations

import copy
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from emulator_sample import SAMPLE, seeded_emulator, token_client  # type: ignore[import-not-found]

from streams.emulator.core import EdfiEmulator


@pytest.fixture
def emu() -> EdfiEmulator:
    return seeded_emulator()  # type: ignore[no-any-return]


@pytest.fixture
async def client(emu: EdfiEmulator) -> AsyncIterator[httpx.AsyncClient]:
    async with token_client(emu) as http:
        yield http


@pytest.fixture
def body() -> dict[str, Any]:
    """A fresh copy of a valid studentAssessment for the ``emu`` fixture."""
    return copy.deepcopy(SAMPLE)
