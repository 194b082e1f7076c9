"""OAuth2 client credentials: one cached token, refreshed before expiry and on 401, one refresh at a time.

The ODS allows 15 live tokens per client; a worker therefore reuses one token until shortly before it
expires. Neither the token nor the secret is ever logged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import httpx

from streams.edfi.errors import CredentialsRefused, EdfiError, classify, transport_error

log = logging.getLogger(__name__)


class TokenProvider:
    def __init__(self, http: httpx.AsyncClient, token_url: str, client_id: str, client_secret: str,
                 refresh_margin_seconds: float = 120.0, clock: Callable[[], float] = time.monotonic,
                 on_refresh: Callable[[str], None] | None = None) -> None:
        self._http = http
        self.token_url = token_url
        self._credentials = (client_id, client_secret)
        self._margin = refresh_margin_seconds
        self._clock = clock
        self._on_refresh = on_refresh or (lambda outcome: None)
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()
        self.refreshes = 0

    def _valid(self) -> bool:
        return self._token is not None and self._clock() < self._expires_at - self._margin

    async def token(self) -> str:
        if self._valid():
            assert self._token is not None
            return self._token
        async with self._lock:
            if not self._valid():
                await self._refresh()
            assert self._token is not None
            return self._token

    async def invalidate(self, stale: str | None) -> None:
        """Called on a 401: drop the token unless another caller already replaced it."""
        async with self._lock:
            if stale is None or stale == self._token:
                self._token = None

    async def _refresh(self) -> None:
        try:
            response = await self._http.post(self.token_url, data={"grant_type": "client_credentials"},
                                             auth=self._credentials)
        except httpx.HTTPError as exc:
            self._on_refresh("error")
            raise transport_error(exc) from exc
        failure = classify(response)
        if failure is not None:
            self._on_refresh("rejected" if response.status_code < 500 else "error")
            if response.status_code in (400, 401, 403):
                raise CredentialsRefused(EdfiError(response.status_code,
                                                    detail=f"token request refused: {response.text[:200]}"))
            raise failure
        data = response.json()
        self._token = str(data["access_token"])
        ttl = float(data.get("expires_in", 1800))
        self._expires_at = self._clock() + ttl
        # with a very short lifetime the margin would make every token stale at once
        self._margin = min(self._margin, ttl / 4)
        self.refreshes += 1
        self._on_refresh("ok")
        log.info("obtained an Ed-Fi access token (expires in %.0f s)", ttl)
