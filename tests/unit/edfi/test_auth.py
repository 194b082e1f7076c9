"""TokenProvider: one token reused, one refresh at a time, refresh on 401 and before expiry."""

from __future__ import annotations

import asyncio

import httpx

from streams.edfi.auth import TokenProvider
from streams.edfi.client import EdfiClient
from streams.emulator.core import EdfiEmulator
from streams.emulator.faults import FaultSettings
from streams.emulator.transport import EmulatorTransport


async def test_one_token_for_many_concurrent_callers(emu: EdfiEmulator) -> None:
    async with httpx.AsyncClient(transport=EmulatorTransport(emu), base_url="http://ods") as http:
        provider = TokenProvider(http, "http://ods/oauth/token", "key", "secret")
        tokens = await asyncio.gather(*(provider.token() for _ in range(50)))
    assert len(set(tokens)) == 1 and provider.refreshes == 1 and emu.stats["tokens_issued"] == 1


async def test_refresh_before_expiry(emu: EdfiEmulator) -> None:
    now = [0.0]
    async with httpx.AsyncClient(transport=EmulatorTransport(emu), base_url="http://ods") as http:
        provider = TokenProvider(http, "http://ods/oauth/token", "key", "secret", refresh_margin_seconds=120,
                                 clock=lambda: now[0])
        first = await provider.token()
        now[0] = 1800 - 121
        assert await provider.token() == first
        now[0] = 1800 - 100
        assert await provider.token() != first


async def test_a_401_gets_one_fresh_token_and_the_request_succeeds(client: EdfiClient, emu: EdfiEmulator) -> None:
    emu.faults.configure(FaultSettings(token_ttl_seconds=0.05))
    await client.get_by_key("studentAssessments", {"studentUniqueId": "x"})
    await asyncio.sleep(0.1)  # the token expired on the server, not yet in our cache
    assert await client.get_by_key("studentAssessments", {"studentUniqueId": "x"}) == []
    assert client.tokens.refreshes == 2
