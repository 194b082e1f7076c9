"""``simulate``'s Ed-Fi API: the emulator in the same process, behind the client's transport seam.

:class:`InProcessApi` is a :class:`streams.edfi.direct.DirectTransport`: the client's data requests reach
:meth:`streams.emulator.core.EdfiEmulator.handle` (the emulator's one entry point, so the same routing,
authentication and body validation as over HTTP) without an ``httpx.Request`` or a byte stream, and the
body that was sent is recorded as the dict it was, not decoded again. Token and discovery requests, and
any other httpx client, use the ordinary transport path (:class:`streams.emulator.transport.EmulatorTransport`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from streams.edfi.direct import Answer, DirectResponse, DirectTransport, encode_json, split_url
from streams.emulator.core import DroppedConnection, EdfiEmulator, RequestTimeout
from streams.emulator.transport import EmulatorTransport

# (method, path with its query, the JSON body sent or None, status)
Recorder = Callable[[str, str, Any, int], None]


def _path_and_query(url: httpx.URL) -> str:
    return url.path + (f"?{url.query.decode()}" if url.query else "")


class InProcessApi(DirectTransport):
    def __init__(self, emulator: EdfiEmulator, record: Recorder | None = None) -> None:
        self.emulator = emulator
        self._http = EmulatorTransport(emulator)
        self._record = record or (lambda method, path, body, status: None)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._http.handle_async_request(request)
        content = request.content
        is_json = request.headers.get("content-type", "").startswith("application/json")
        self._record(request.method, _path_and_query(request.url),
                     json.loads(content) if content and is_json else None, response.status_code)
        return response

    async def exchange(self, method: str, url: httpx.URL | str, headers: dict[str, str],
                       params: Mapping[str, Any] | None, json_body: Any) -> Answer:
        parsed, query = split_url(url, params)
        body = b""
        if json_body is not None:
            body = encode_json(json_body)
            headers = {**headers, "Content-Type": "application/json", "Content-Length": str(len(body))}
        if not self.emulator.base_url:
            self.emulator.base_url = f"{parsed.scheme}://{parsed.netloc.decode()}"
        try:
            answer = await self.emulator.handle(method, parsed.path, headers, query, body)
        except DroppedConnection as exc:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.") from exc
        except RequestTimeout as exc:
            raise httpx.ReadTimeout("timed out (injected)") from exc
        self._record(method, _path_and_query(parsed), json_body, answer.status)
        return DirectResponse(answer.status, answer.headers, answer.body)


class ThroughHttpx(httpx.AsyncBaseTransport):
    """The same in-process API as a plain httpx transport, so the client builds every request and response
    with httpx: what ``simulate`` did before :class:`InProcessApi` (kept to compare the two, in the
    benchmark and the tests)."""

    def __init__(self, api: InProcessApi) -> None:
        self.api = api

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.api.handle_async_request(request)
