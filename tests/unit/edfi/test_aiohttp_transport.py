"""The aiohttp transport against the emulator's real HTTP server: the same answers as httpx's own stack,
and aiohttp's failures arriving as the httpx exceptions the client classifies as retryable."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, Literal

import httpx
import pytest

from streams.config import EdfiSettings
from streams.demo.emulator_thread import free_port
from streams.edfi.aiohttp_transport import AiohttpTransport
from streams.edfi.errors import EdfiRejected, EdfiRetryable
from streams.edfi.factory import build_client
from streams.emulator.core import EdfiEmulator
from streams.emulator.server import serving

BODY: dict[str, Any] = {"studentAssessmentIdentifier": "Math_00000001_2024",
        "assessmentReference": {"assessmentIdentifier": "State Mathematics Assessment",
                                "namespace": "uri://ksde.org/Assessment/Assessment.xml"},
        "studentReference": {"studentUniqueId": "00000001"}, "reportedSchoolReference": {"schoolId": 101},
        "administrationDate": "2024-03-20T00:00:00Z"}


@pytest.fixture
async def api() -> AsyncIterator[tuple[str, EdfiEmulator]]:
    emulator = EdfiEmulator()
    emulator.add_client("key", "secret")
    emulator.add_student("00000001")
    emulator.add_school(101)
    async with serving(emulator, "127.0.0.1", free_port()) as url:
        yield url, emulator


@pytest.mark.parametrize("stack", ["aiohttp", "httpx"])
async def test_both_stacks_write_read_and_reject_alike(api: tuple[str, EdfiEmulator],
                                                      stack: Literal["aiohttp", "httpx"]) -> None:
    url, emulator = api
    client = build_client(EdfiSettings(base_url=url, http_stack=stack), credentials=("key", "secret"))
    assert isinstance(client.http._transport, AiohttpTransport) == (stack == "aiohttp")
    try:
        status, item = await client.post("studentAssessments", BODY)
        assert status == 201 and item
        status, again = await client.post("studentAssessments", {**BODY, "serialNumber": "2"})
        assert (status, again) == (200, item)
        found = await client.get_by_key("studentAssessments", {"studentAssessmentIdentifier": BODY[
            "studentAssessmentIdentifier"]})
        assert [r["id"] for r in found] == [item] and found[0]["serialNumber"] == "2"
        with pytest.raises(EdfiRejected) as rejected:
            await client.post("studentAssessments", {**BODY, "studentReference": {"studentUniqueId": "x" * 40}})
        assert rejected.value.status == 400
        assert await client.delete("studentAssessments", item) == 204
        assert emulator.records() == []
    finally:
        await client.aclose()


async def test_a_refused_connection_is_an_httpx_connect_error() -> None:
    transport = AiohttpTransport(4, 2.0)
    try:
        with pytest.raises(httpx.ConnectError):
            await transport.handle_async_request(httpx.Request("GET", f"http://127.0.0.1:{free_port()}/"))
    finally:
        await transport.aclose()


async def test_a_silent_server_is_an_httpx_read_timeout_and_retryable() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1000)
        await asyncio.sleep(5)
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    settings = EdfiSettings(base_url=f"http://127.0.0.1:{port}", timeout_seconds=0.3, max_retries=0)
    client = build_client(settings, credentials=("key", "secret"))
    try:
        with pytest.raises(httpx.ReadTimeout):
            await client.http._transport.handle_async_request(httpx.Request("GET", f"http://127.0.0.1:{port}/x"))
        with pytest.raises(EdfiRetryable, match="Timeout"):
            await client.check_token()
    finally:
        await client.aclose()
        server.close()
