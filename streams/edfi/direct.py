"""An in-process Ed-Fi API behind the client's transport seam, without per-request HTTP machinery.

``simulate`` sends every write to an emulator in the same process. Through an ordinary httpx transport
each write paid for HTTP it never used: an ``httpx.Request`` (URL merge, header normalization, JSON into
a byte stream), a byte stream read back, an ``httpx.Response`` and, in ``simulate``, the body decoded again
to be recorded. Together that cost about as much as the rule engine per event.

A :class:`DirectTransport` is still an ``httpx.AsyncBaseTransport`` (the token request, discovery and any
other httpx client go through :meth:`handle_async_request` as before), and it also offers
:meth:`DirectTransport.exchange`: the request's parts in, a :class:`DirectResponse` out (status, headers
and body: what the client reads of an answer, :class:`Answer`). :class:`EdfiClient` sends
its data requests through ``exchange`` when its transport offers it; retries, token handling, error
classification and everything above stay the same code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

import httpx


class Answer(Protocol):
    """What the client reads of a response: an ``httpx.Response``, or a :class:`DirectResponse`."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def content(self) -> bytes: ...

    def json(self) -> Any: ...


class _Headers(dict[str, str]):
    """Response headers looked up by any case of their name, as ``httpx.Headers``."""

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(name.lower(), default)

    def __getitem__(self, name: str) -> str:
        return super().__getitem__(name.lower())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and super().__contains__(name.lower())


class DirectResponse:
    """An in-process API's answer, already read: status, headers and body, without httpx's response model."""

    __slots__ = ("content", "headers", "status_code")

    def __init__(self, status_code: int, headers: Mapping[str, str], content: bytes = b"") -> None:
        self.status_code = status_code
        self.headers: Mapping[str, str] = _Headers((k.lower(), v) for k, v in headers.items())
        self.content = content

    def json(self) -> Any:
        return json.loads(self.content)


class DirectTransport(httpx.AsyncBaseTransport):
    """A transport that can also be handed a request's parts directly (see the module docstring)."""

    async def exchange(self, method: str, url: httpx.URL | str, headers: dict[str, str],
                       params: Mapping[str, Any] | None, json_body: Any) -> Answer:
        """Answer one request (its body read)."""
        raise NotImplementedError

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise NotImplementedError


def encode_json(body: Any) -> bytes:
    """A JSON body as httpx encodes ``json=`` (compact, UTF-8, no NaN)."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


def split_url(url: httpx.URL | str, params: Mapping[str, Any] | None) -> tuple[httpx.URL, list[tuple[str, str]]]:
    """The URL a request would carry, and its query as (name, value) pairs, as httpx builds them."""
    parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
    if params:
        parsed = parsed.copy_merge_params(params)
    return parsed, list(parsed.params.multi_items()) if parsed.query else []
