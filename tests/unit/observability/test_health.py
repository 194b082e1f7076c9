"""Readiness logic and the aiohttp handlers, served for real on a loopback port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry

from streams.observability import health, metrics


async def test_default_checks_are_not_ready() -> None:
    ready, states = await health.Readiness().evaluate()
    assert not ready
    assert set(states) == {"partitions_assigned", "not_recovering", "edfi_token", "edfi_authorized"}
    assert all(not s.ok and "not set" in s.detail for s in states.values())


async def test_ready_when_all_checks_pass_sync_and_async() -> None:
    async def token() -> tuple[bool, str]:
        return True, ""

    r = health.Readiness()
    r.set_check(health.PARTITIONS_ASSIGNED, lambda: True)
    r.set_check(health.NOT_RECOVERING, lambda: (True, "recovered"))
    r.set_check(health.EDFI_TOKEN, token)
    r.set_check(health.EDFI_AUTHORIZED, lambda: (True, ""))
    ready, states = await r.evaluate()
    assert ready
    assert states["not_recovering"] == health.CheckState(True, "recovered")


async def test_raising_and_slow_checks_fail_with_reason() -> None:
    async def slow() -> bool:
        await asyncio.sleep(5)
        return True

    def boom() -> bool:
        raise ConnectionError("token endpoint unreachable")

    r = health.Readiness(timeout_seconds=0.05, checks={"slow": slow, "boom": boom, "fine": lambda: True})
    ready, states = await r.evaluate()
    assert not ready
    assert states["fine"].ok
    assert states["slow"] == health.CheckState(False, "timed out after 0.05 s")
    assert states["boom"] == health.CheckState(False, "ConnectionError: token endpoint unreachable")


async def test_no_checks_is_not_ready() -> None:
    ready, _ = await health.Readiness(checks={}).evaluate()
    assert not ready


async def test_cached_reruns_only_after_ttl_while_passing() -> None:
    now = [0.0]
    calls: list[float] = []
    results = iter([True, True, False, True])

    def token() -> bool:
        calls.append(now[0])
        return next(results)

    check = health.cached(token, ttl_seconds=30, clock=lambda: now[0])
    assert await check() == (True, "")  # type: ignore[misc]
    now[0] = 10
    assert await check() == (True, "")  # type: ignore[misc]  # cached
    now[0] = 31
    assert await check() == (True, "")  # type: ignore[misc]  # re-run
    now[0] = 62
    assert await check() == (False, "")  # type: ignore[misc]
    now[0] = 63
    assert await check() == (True, "")  # type: ignore[misc]  # a failure is not cached
    assert calls == [0, 31, 62, 63]


@pytest.fixture
async def client() -> AsyncIterator[tuple[TestClient, dict[str, bool]]]:
    state = {"assigned": False}
    readiness = health.Readiness(checks={
        health.PARTITIONS_ASSIGNED: lambda: state["assigned"],
        health.NOT_RECOVERING: lambda: True,
        health.EDFI_TOKEN: lambda: (True, ""),
    })
    registry = CollectorRegistry()
    app = web.Application()
    health.add_routes(app, readiness, registry)
    with metrics.use_registry(registry):
        metrics.record_decision("sent")
        async with TestClient(TestServer(app, host="127.0.0.1")) as c:
            yield c, state


async def test_endpoints(client: tuple[TestClient, dict[str, bool]]) -> None:
    c, state = client
    resp = await c.get("/healthz")
    assert resp.status == 200 and await resp.json() == {"status": "alive"}

    resp = await c.get("/readyz")
    assert resp.status == 503
    body = await resp.json()
    assert body == {"ready": False, "checks": {"partitions_assigned": False, "not_recovering": True,
                                                "edfi_token": True}}
    state["assigned"] = True
    resp = await c.get("/readyz")
    assert resp.status == 200 and (await resp.json())["ready"] is True

    resp = await c.get("/metrics")
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/plain")
    assert 'edfi_stream_rule_decisions_total{outcome="sent"} 1.0' in await resp.text()


async def test_handlers_fall_back_to_process_wide_readiness() -> None:
    app = web.Application()
    health.add_routes(app)  # no readiness given: the module-level one, whose checks are unset
    async with TestClient(TestServer(app, host="127.0.0.1")) as c:
        resp = await c.get("/readyz")
        assert resp.status == 503
        assert (await resp.json())["details"]["edfi_token"] == "check not set by the worker"
