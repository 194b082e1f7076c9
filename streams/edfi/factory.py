"""Assemble client, sender and dispatcher from the settings, with the metrics hooks connected."""

from __future__ import annotations

import time

import httpx

from streams.config import EdfiSettings
from streams.edfi.aiohttp_transport import AiohttpTransport
from streams.edfi.auth_pause import AuthGate
from streams.edfi.client import EdfiClient, RequestHook, tls_verification
from streams.edfi.concurrency import AdaptiveLimit
from streams.edfi.dispatcher import DeadLetterHook, EgressDispatcher, SendFence
from streams.edfi.identity import IdentityMap
from streams.edfi.pacing import RatePacer
from streams.edfi.sender import SendResult, WriteSender
from streams.observability import metrics
from streams.writes import WriteCommand


def build_limit(settings: EdfiSettings) -> AdaptiveLimit:
    """Adaptive: the in-flight limit. Paced: the same with a rate pacer (:mod:`streams.edfi.pacing`,
    ``limit.pacer``) that a 429 sets, and that holds the in-flight limit at what its rate needs. Fixed: a
    fixed number in flight."""
    if settings.concurrency == "fixed":
        return AdaptiveLimit(settings.max_in_flight, settings.max_in_flight, settings.max_in_flight)
    return AdaptiveLimit(settings.initial_in_flight, settings.min_in_flight, settings.max_in_flight,
                         on_decrease=metrics.record_limit_decrease,
                         pacer=RatePacer() if settings.concurrency == "paced" else None)


def build_client(settings: EdfiSettings, *, transport: httpx.AsyncBaseTransport | None = None,
                 credentials: tuple[str, str] | None = None, base_url: str | None = None,
                 limit: AdaptiveLimit | None = None) -> EdfiClient:
    """With ``limit``, every data request's answer and latency also feed that concurrency limit."""
    key, secret = credentials or settings.credentials()
    if transport is None and settings.http_stack == "aiohttp":
        transport = AiohttpTransport(settings.max_in_flight + 2, settings.timeout_seconds,
                                     tls_verification(settings))
    pacer = limit.pacer if limit is not None else None
    return EdfiClient(settings, key, secret, transport=transport, base_url=base_url,
                      on_request=_request_hook(limit), on_retry=metrics.record_retry,
                      on_token_refresh=metrics.record_token_refresh,
                      pace=pacer.wait_turn if pacer is not None else None)


def _request_hook(limit: AdaptiveLimit | None) -> RequestHook:
    if limit is None:
        return metrics.observe_edfi_request
    pacer = limit.pacer

    def observe(method: str, status: int, seconds: float) -> None:
        metrics.observe_edfi_request(method, status, seconds)
        if pacer is None:
            limit.observe(status, seconds)
            return
        pacer.observe(status, seconds)
        if status != 429:  # a 429 sets the rate (the pacer), not the writes in flight
            limit.observe(status, seconds)

    return observe


def build_sender(settings: EdfiSettings, *, transport: httpx.AsyncBaseTransport | None = None,
                 credentials: tuple[str, str] | None = None, base_url: str | None = None,
                 identity: IdentityMap | None = None, limit: AdaptiveLimit | None = None
                 ) -> tuple[WriteSender, EdfiClient]:
    client = build_client(settings, transport=transport, credentials=credentials, base_url=base_url, limit=limit)
    return WriteSender(client, identity if identity is not None else {}), client


def _on_result(cmd: WriteCommand, result: SendResult) -> None:
    metrics.observe_write(result.outcome, cmd.source_ts_ms, int(time.time() * 1000))


def build_dispatcher(settings: EdfiSettings, identity: IdentityMap, on_dead_letter: DeadLetterHook,
                     *, transport: httpx.AsyncBaseTransport | None = None,
                     credentials: tuple[str, str] | None = None, fence: SendFence | None = None
                     ) -> tuple[EgressDispatcher, EdfiClient]:
    limit = build_limit(settings)
    sender, client = build_sender(settings, transport=transport, credentials=credentials, identity=identity,
                                  limit=limit)
    gate = AuthGate(settings.auth_probe_seconds, settings.forbidden_pause_after)
    dispatcher = EgressDispatcher(sender, settings.max_in_flight, settings.park_horizon_seconds,
                                  settings.park_retry_seconds, on_dead_letter, _on_result, limit=limit, gate=gate,
                                  fence=fence)
    return dispatcher, client
