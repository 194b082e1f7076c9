"""The Ed-Fi ODS/API client over one httpx transport (a connection pool): typed errors, retries with backoff.

Every data call goes through :meth:`EdfiClient.request`, which adds the bearer token, waits its turn with the
rate pacer if it has one (:mod:`streams.edfi.pacing`), re-authenticates once on a 401, retries retryable
failures (429 honouring Retry-After, 5xx, timeouts, dropped connections) with exponential backoff and full
jitter, and raises the typed errors of :mod:`streams.edfi.errors`.
The transport is injectable: that is how ``simulate`` and the tests talk to the in-process emulator.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urljoin

import httpx

from streams.config import EdfiSettings
from streams.edfi.auth import TokenProvider
from streams.edfi.direct import Answer, DirectTransport
from streams.edfi.errors import AuthenticationError, EdfiRetryable, classify, transport_error
from streams.edfi.retry import RetryPolicy

RequestHook = Callable[[str, int, float], None]
USER_AGENT = "edfi-stream"


def tls_verification(settings: EdfiSettings) -> ssl.SSLContext | bool:
    """What either HTTP stack checks the API's certificate with: nothing, the system's trust store, or
    ``edfi.caFile``."""
    if not settings.verify_tls:
        return False
    return ssl.create_default_context(cafile=settings.ca_file) if settings.ca_file else True


class EdfiClient:
    def __init__(self, settings: EdfiSettings, client_id: str, client_secret: str, *,
                 transport: httpx.AsyncBaseTransport | None = None, base_url: str | None = None,
                 on_request: RequestHook | None = None, on_retry: Callable[[str], None] | None = None,
                 on_token_refresh: Callable[[str], None] | None = None,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 pace: Callable[[], Awaitable[None]] | None = None) -> None:
        self.base_url = (base_url or settings.base_url).rstrip("/")
        if transport is None:
            limits = httpx.Limits(max_connections=settings.max_in_flight + 2,
                                  max_keepalive_connections=settings.max_in_flight + 2)
            transport = httpx.AsyncHTTPTransport(verify=tls_verification(settings), limits=limits)
        self._transport = transport
        # an in-process API takes the request's parts, without httpx.Request/Response (streams/edfi/direct.py)
        self._direct = transport if isinstance(transport, DirectTransport) else None
        self._timeout = httpx.Timeout(settings.timeout_seconds).as_dict()
        # token and discovery requests (rare) go through a client; data requests straight to the transport
        self.http = httpx.AsyncClient(transport=transport, timeout=settings.timeout_seconds)
        self.tokens = TokenProvider(self.http, f"{self.base_url}/oauth/token", client_id, client_secret,
                                    settings.token_refresh_margin_seconds, on_refresh=on_token_refresh)
        self.policy = RetryPolicy(settings.max_retries, settings.backoff_base_seconds, settings.backoff_max_seconds)
        self.data_url = f"{self.base_url}/data/v3/"
        self._collections: dict[str, httpx.URL] = {}
        self._discovered = False
        self._on_request = on_request or (lambda method, status, seconds: None)
        self._on_retry = on_retry or (lambda reason: None)
        self._sleep = sleep
        # awaited before each data request goes out, a retry too (streams/edfi/pacing.py)
        self._pace = pace

    async def aclose(self) -> None:
        await self.http.aclose()

    async def discover(self) -> None:
        """Read the data URL from the root discovery document (ODS and DMS differ)."""
        if self._discovered:
            return
        try:
            response = await self.http.get(self.base_url + "/")
            if response.status_code == 200:
                url = (response.json().get("urls") or {}).get("dataManagementApi")
                if url:
                    self.data_url = url if url.endswith("/") else url + "/"
                    self._collections.clear()
        except (httpx.HTTPError, ValueError):
            pass  # the default /data/v3/ stays; the first data call reports real trouble
        self._discovered = True

    def resource_url(self, resource: str, item: str | None = None) -> str:
        url = urljoin(self.data_url, f"ed-fi/{resource}")
        return f"{url}/{item}" if item else url

    async def _collection_url(self, resource: str) -> httpx.URL:
        # Parsed once (after discovery, which sets the data URL): httpx parses a string URL on every
        # request, a visible share of a POST's CPU.
        await self.discover()
        url = self._collections.get(resource)
        if url is None:
            url = self._collections[resource] = httpx.URL(self.resource_url(resource))
        return url

    async def check_token(self) -> None:
        await self.tokens.token()

    async def request(self, method: str, url: str | httpx.URL, *, json_body: Any = None,
                      params: dict[str, Any] | None = None, retry: bool = True) -> Answer:
        await self.discover()
        attempt = 0
        reauthenticated = False
        while True:
            attempt += 1
            try:
                token = await self.tokens.token()
                if self._pace is not None:
                    await self._pace()
                started = time.perf_counter()
                try:
                    response = await self._send(method, url, json_body, params, token)
                except httpx.HTTPError as exc:
                    self._on_request(method, 0, time.perf_counter() - started)
                    raise transport_error(exc) from exc
                self._on_request(method, response.status_code, time.perf_counter() - started)
                failure = classify(response)
                if failure is None:
                    return response
                if isinstance(failure, AuthenticationError) and not reauthenticated:
                    reauthenticated = True  # 401: the token expired or was revoked; one fresh token
                    await self.tokens.invalidate(token)
                    attempt -= 1
                    continue
                raise failure
            except EdfiRetryable as exc:
                if not retry or attempt > self.policy.max_retries:
                    raise
                self._on_retry("throttled" if exc.retry_after is not None else "transient")
                await self._sleep(self.policy.delay(attempt, exc.retry_after))

    async def _send(self, method: str, url: str | httpx.URL, json_body: Any, params: dict[str, Any] | None,
                    token: str) -> Answer:
        """One request on the transport, without httpx.AsyncClient's per-request machinery (cookies,
        redirects, auth flows, hooks): a profile put most of the client's CPU per write there, and an
        Ed-Fi data request needs none of it. The response body is read before returning."""
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT, "Authorization": f"Bearer {token}"}
        if self._direct is not None:
            return await self._direct.exchange(method, url, headers, params, json_body)
        request = httpx.Request(method, url, params=params, json=json_body, headers=headers,
                                extensions={"timeout": self._timeout})
        response = await self._transport.handle_async_request(request)
        response.request = request
        try:
            await response.aread()
        finally:
            await response.aclose()
        return response

    async def post(self, resource: str, body: dict[str, Any]) -> tuple[int, str | None]:
        response = await self.request("POST", await self._collection_url(resource), json_body=body)
        location = response.headers.get("Location") or ""
        return response.status_code, location.rstrip("/").rsplit("/", 1)[-1] or None

    async def put(self, resource: str, item: str, body: dict[str, Any]) -> int:
        response = await self.request("PUT", self.resource_url(resource, item), json_body={**body, "id": item})
        return response.status_code

    async def delete(self, resource: str, item: str) -> int:
        response = await self.request("DELETE", self.resource_url(resource, item))
        return response.status_code

    async def get_by_key(self, resource: str, params: dict[str, str]) -> list[dict[str, Any]]:
        response = await self.request("GET", await self._collection_url(resource), params=params)
        return list(response.json())

    async def get_page(self, resource: str, offset: int, limit: int, params: dict[str, Any] | None = None
                       ) -> tuple[list[dict[str, Any]], int | None]:
        query = {**(params or {}), "offset": offset, "limit": limit, "totalCount": "true"}
        response = await self.request("GET", await self._collection_url(resource), params=query)
        total = response.headers.get("Total-Count")
        return list(response.json()), int(total) if total is not None else None

    async def iter_all(self, resource: str, page_size: int = 500, params: dict[str, Any] | None = None
                       ) -> AsyncIterator[dict[str, Any]]:
        offset = 0
        while True:
            items, _ = await self.get_page(resource, offset, page_size, params)
            for item in items:
                yield item
            if len(items) < page_size:
                return
            offset += page_size
