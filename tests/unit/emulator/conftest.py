"""Fixtures of the emulator tests: an emulator with one API client and the people a body references, and an
httpx client holding a token, through the in-process transport."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from streams.emulator.core import EdfiEmulator
from tests.unit.emulator.emulator_sample import SAMPLE, seeded_emulator, token_client


@pytest.fixture
def emu() -> EdfiEmulator:
    return seeded_emulator()


@pytest.fixture
async def client(emu: EdfiEmulator) -> AsyncIterator[httpx.AsyncClient]:
    async with token_client(emu) as http:
        yield http


@pytest.fixture
def body() -> dict[str, Any]:
    """A fresh copy of a valid studentAssessment for the ``emu`` fixture."""
    return copy.deepcopy(SAMPLE)
