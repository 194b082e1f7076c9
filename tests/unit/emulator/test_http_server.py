"""The emulator over real HTTP (aiohttp on a loopback port), including a dropped connection."""

from __future__ import annotations

import httpx
import pytest

from streams.broker.embedded import free_port
from streams.emulator.core import EdfiEmulator
from streams.emulator.faults import FaultSettings
from streams.emulator.server import start_server


async def test_token_write_read_and_a_dropped_connection_over_http() -> None:
    emu = EdfiEmulator()
    emu.add_client("key", "secret")
    emu.add_student("00000001")
    port = free_port()
    runner = await start_server(emu, "127.0.0.1", port)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            token = (await http.post("/oauth/token", data={"grant_type": "client_credentials"},
                                     auth=("key", "secret"))).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            body = {"studentAssessmentIdentifier": "Math_00000001_2024",
                    "assessmentReference": {"assessmentIdentifier": "State Mathematics Assessment",
                                            "namespace": "uri://ksde.org/Assessment/Assessment.xml"},
                    "studentReference": {"studentUniqueId": "00000001"}}
            created = await http.post("/data/v3/ed-fi/studentAssessments", json=body, headers=headers)
            assert created.status_code == 201
            assert created.headers["Location"].startswith(f"http://127.0.0.1:{port}/data/v3/ed-fi/")
            assert (await http.get(created.headers["Location"], headers=headers)).status_code == 200
            stats = (await http.get("/admin/stats")).json()
            assert stats["studentAssessments"] == 1
            set_faults = await http.post("/admin/faults", json={"drop_rate": 1.0})
            assert set_faults.json()["drop_rate"] == 1.0
            with pytest.raises(httpx.TransportError):
                await http.get("/data/v3/ed-fi/studentAssessments", headers=headers)
            emu.faults.configure(FaultSettings())
            assert (await http.get("/data/v3/ed-fi/studentAssessments", headers=headers)).status_code == 200
    finally:
        await runner.cleanup()


async def test_serving_context_manager_timeout_fault_and_seeding() -> None:
    from streams.emulator.server import build_emulator, serving

    emu = build_emulator(clients={"key": "secret"})
    port = free_port()
    async with serving(emu, "127.0.0.1", port) as base_url, httpx.AsyncClient(base_url=base_url) as http:
        token = (await http.post("/oauth/token", data={"grant_type": "client_credentials"},
                                 auth=("key", "secret"))).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert (await http.post("/data/v3/ed-fi/students", json={"studentUniqueId": "S1"},
                                headers=headers)).status_code == 201
        assert "S1" in emu.reference.students
        await http.post("/admin/faults", json={"timeout_rate": 1.0, "timeout_seconds": 1.0})
        with pytest.raises(httpx.ReadTimeout):
            await http.get("/data/v3/ed-fi/studentAssessments", headers=headers, timeout=0.2)
        await http.post("/admin/faults", json={})
        assert (await http.get("/data/v3/ed-fi/studentAssessments", headers=headers)).json() == []
        root = (await http.get("/")).json()
        assert root["urls"]["oauth"] == f"{base_url}/oauth/token"
        deps = (await http.get("/metadata/data/v3/dependencies")).json()
        assert {"resource": "/ed-fi/studentAssessments", "order": 14, "operations": ["Create", "Update"]} in deps
