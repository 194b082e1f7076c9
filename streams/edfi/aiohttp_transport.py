"""An httpx transport over aiohttp's HTTP stack: the Ed-Fi client keeps httpx's API, its typed responses
and its transport seam, and sends over aiohttp's connection pool.

Why: httpx's own pool (httpcore) scans every connection for every queued request; with 16 writes in flight
the egress spent most of its CPU there (docs/performance.md, "Egress against lightbeam"; encode/httpx#3215).
The same egress over aiohttp sends about three times as many records per second. aiohttp is already
installed (Faust depends on it), so this costs no new dependency.

aiohttp's failures are raised as the httpx exceptions they correspond to (connect, read, write, pool
timeouts; connection errors; protocol errors), so the client's retry classification is the same whichever
stack carries the request.
"""

from __future__ import annotations

import ssl

import aiohttp
import httpx


class AiohttpTransport(httpx.AsyncBaseTransport):
    """``max_connections`` bounds the pool (the client keeps ``max_in_flight`` requests in flight);
    ``verify``: True (the system's trust store), False, or an SSL context (a private CA)."""

    def __init__(self, max_connections: int, timeout_seconds: float, verify: ssl.SSLContext | bool = True) -> None:
        self._max_connections = max_connections
        self._timeout = aiohttp.ClientTimeout(total=None, sock_connect=timeout_seconds,
                                              sock_read=timeout_seconds)
        self._ssl = verify
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        # created on first use, inside the running event loop (aiohttp binds a session to its loop)
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._max_connections, ssl=self._ssl)
            self._session = aiohttp.ClientSession(connector=connector, timeout=self._timeout,
                                                  auto_decompress=True, skip_auto_headers=("User-Agent",))
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self._open()
        body = request.content or None
        headers = [(k, v) for k, v in request.headers.multi_items()
                   if k.lower() not in ("host", "content-length", "transfer-encoding", "accept-encoding")]
        try:
            async with session.request(request.method, str(request.url), headers=headers, data=body,
                                       allow_redirects=False, compress=None) as response:
                content = await response.read()
                # the body is already decoded: its encoding and length headers would describe other bytes
                dropped = ("transfer-encoding", "content-encoding", "content-length") if (
                    "Content-Encoding" in response.headers) else ("transfer-encoding",)
                return httpx.Response(
                    status_code=response.status,
                    headers=[(k, v) for k, v in response.headers.items() if k.lower() not in dropped],
                    content=content, request=request)
        except aiohttp.ConnectionTimeoutError as exc:
            raise httpx.ConnectTimeout(str(exc) or "connect timed out", request=request) from exc
        except aiohttp.ServerTimeoutError as exc:
            raise httpx.ReadTimeout(str(exc) or "read timed out", request=request) from exc
        except TimeoutError as exc:
            raise httpx.TimeoutException(str(exc) or "timed out", request=request) from exc
        except aiohttp.ClientConnectorError as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError) as exc:
            raise httpx.RemoteProtocolError(str(exc) or type(exc).__name__, request=request) from exc
        except aiohttp.ClientOSError as exc:
            raise httpx.ReadError(str(exc), request=request) from exc
        except aiohttp.ClientError as exc:
            raise httpx.TransportError(f"{type(exc).__name__}: {exc}", request=request) from exc

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
