"""Fault injection (streams/emulator/faults.py): rates, determinism, scope, runtime control, stats."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from streams.emulator.core import EdfiEmulator
from streams.emulator.faults import FaultSettings
from streams.emulator.transport import EmulatorTransport

URL = "/data/v3/ed-fi/studentAssessments"


async def outcomes(client: httpx.AsyncClient, n: int) -> list[str]:
    out = []
    for _ in range(n):
        try:
            out.append(str((await client.get(URL)).status_code))
        except httpx.RemoteProtocolError:
            out.append("dropped")
        except httpx.ReadTimeout:
            out.append("timeout")
    return out


async def test_same_seed_same_faults(emu: EdfiEmulator, client: httpx.AsyncClient) -> None:
    settings = FaultSettings(error_rate=0.2, throttle_rate=0.1, drop_rate=0.05, timeout_rate=0.05, seed=3)
    emu.faults.configure(settings)
    first = await outcomes(client, 200)
    emu.faults.configure(settings)
    assert await outcomes(client, 200) == first
    assert {"200", "429", "dropped", "timeout"} <= set(first) and ({"500", "503"} & set(first))


async def test_timeouts_at_their_rate_raise_read_timeout_in_process(emu: EdfiEmulator,
                                                                    client: httpx.AsyncClient) -> None:
    emu.faults.configure(FaultSettings(timeout_rate=0.25, seed=1))
    results = await outcomes(client, 400)
    assert 70 <= results.count("timeout") <= 130 and results.count("200") == 400 - results.count("timeout")
    assert emu.faults.injected == {"timeout": results.count("timeout")}


async def test_throttle_answers_429_with_retry_after(emu: EdfiEmulator, client: httpx.AsyncClient) -> None:
    emu.faults.configure(FaultSettings(throttle_rate=1.0, retry_after_seconds=7))
    response = await client.get(URL)
    assert response.status_code == 429 and response.headers["Retry-After"] == "7"
    assert response.json()["status"] == 429


async def test_latency_is_added(emu: EdfiEmulator, client: httpx.AsyncClient) -> None:
    emu.faults.configure(FaultSettings(latency_seconds=0.05, latency_jitter_seconds=0.02, seed=2))
    started = time.perf_counter()
    for _ in range(4):
        assert (await client.get(URL)).status_code == 200
    assert time.perf_counter() - started >= 4 * 0.05


async def test_faults_never_touch_admin_and_are_set_at_runtime(emu: EdfiEmulator) -> None:
    async with httpx.AsyncClient(transport=EmulatorTransport(emu), base_url="http://ods") as http:
        set_ = await http.post("/admin/faults", json={"error_rate": 1.0, "seed": 9})
        assert set_.status_code == 200 and set_.json()["error_rate"] == 1.0
        assert (await http.get("/admin/faults")).json()["seed"] == 9
        for _ in range(5):
            assert (await http.get("/admin/stats")).status_code == 200
        token = await http.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=("key", "secret"))
        assert token.status_code in (500, 503) and token.json()["type"] == "urn:ed-fi:api:system"
        assert (await http.post("/admin/faults", json={"nonsense": 1})).status_code == 400
        stats = (await http.get("/admin/stats")).json()
    assert stats["faultsInjected"] == {"error": 1}
    assert stats["requests"][f"POST {token.status_code}"] == 1


async def test_reset_clears_data_but_not_reference_data(emu: EdfiEmulator, client: httpx.AsyncClient,
                                                        body: dict[str, Any]) -> None:
    assert (await client.post(URL, json=body)).status_code == 201
    assert (await client.post("/admin/reset")).json() == {"reset": True}
    assert emu.records() == [] and "00000001" in emu.reference.students
    assert (await client.post(URL, json=body)).status_code == 201


@pytest.mark.parametrize("ttl", [0.05])
async def test_token_expiry_fault(emu: EdfiEmulator, ttl: float) -> None:
    import asyncio

    emu.faults.configure(FaultSettings(token_ttl_seconds=ttl))
    async with httpx.AsyncClient(transport=EmulatorTransport(emu), base_url="http://ods") as http:
        token = (await http.post("/oauth/token", data={"grant_type": "client_credentials"},
                                 auth=("key", "secret"))).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert (await http.get(URL, headers=headers)).status_code == 200
        await asyncio.sleep(ttl * 2)
        expired = await http.get(URL, headers=headers)
    assert expired.status_code == 401 and expired.json()["errors"] == ["Invalid token"]
    assert expired.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
