"""An httpx transport onto :class:`EdfiEmulator`: the in-process Ed-Fi API of ``simulate`` and tests."""

from __future__ import annotations

import httpx

from streams.emulator.core import DroppedConnection, EdfiEmulator, RequestTimeout


class EmulatorTransport(httpx.AsyncBaseTransport):
    def __init__(self, emulator: EdfiEmulator) -> None:
        self.emulator = emulator

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        if not self.emulator.base_url:
            self.emulator.base_url = f"{request.url.scheme}://{request.url.netloc.decode()}"
        try:
            response = await self.emulator.handle(request.method, request.url.path, request.headers,
                                                  list(request.url.params.multi_items()), body)
        except DroppedConnection as exc:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.",
                                            request=request) from exc
        except RequestTimeout as exc:
            raise httpx.ReadTimeout("timed out (injected)", request=request) from exc
        return httpx.Response(response.status, headers=response.headers, content=response.body, request=request)
