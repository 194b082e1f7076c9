"""Liveness and readiness of a worker, and the aiohttp handlers for /metrics, /healthz and /readyz.

Why separate from the Faust wiring: the decision "ready or not" is plain logic over a few checks, tested
here without a broker. The worker (agents/) sets the checks as callables; Faust's web server is aiohttp, so
the handlers mount directly on it (``app.web.web_app.router.add_get("/readyz", readyz)``) or are called
from a Faust ``@app.page`` view.

- /healthz: the process is alive and its event loop answers. Liveness never depends on Kafka or Ed-Fi, so
  an outage does not make Kubernetes restart every pod (which would only add rebalances).
- /readyz: partitions assigned, tables not recovering, an Ed-Fi token obtainable, the egress not paused on
  refused credentials (agents/readiness.py sets them from the worker). A check is a callable,
  sync or async, returning ``bool`` or ``(bool, detail)``; one that raises or takes longer than its
  timeout counts as failed, with the reason in the body. 200 when all pass, 503 otherwise.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

CheckResult = bool | tuple[bool, str]
Check = Callable[[], CheckResult | Awaitable[CheckResult]]

PARTITIONS_ASSIGNED = "partitions_assigned"
NOT_RECOVERING = "not_recovering"
EDFI_TOKEN = "edfi_token"
EDFI_AUTHORIZED = "edfi_authorized"
READINESS_CHECKS = (PARTITIONS_ASSIGNED, NOT_RECOVERING, EDFI_TOKEN, EDFI_AUTHORIZED)
DETAIL_MAX = 200


@dataclass(frozen=True)
class CheckState:
    ok: bool
    detail: str = ""


def _not_set() -> CheckResult:
    return False, "check not set by the worker"


@dataclass
class Readiness:
    """Named checks; the worker replaces the placeholders with real ones at start-up."""

    timeout_seconds: float = 5.0
    checks: dict[str, Check] = field(
        default_factory=lambda: dict.fromkeys(READINESS_CHECKS, _not_set))

    def set_check(self, name: str, check: Check) -> None:
        self.checks[name] = check

    async def evaluate(self) -> tuple[bool, dict[str, CheckState]]:
        """Run every check (concurrently); ready only when there is at least one and all pass."""
        names = list(self.checks)
        states = await asyncio.gather(*(self._run(self.checks[n]) for n in names))
        result = dict(zip(names, states, strict=True))
        return bool(result) and all(s.ok for s in result.values()), result

    async def _run(self, check: Check) -> CheckState:
        try:
            outcome = check()
            if inspect.isawaitable(outcome):
                outcome = await asyncio.wait_for(outcome, self.timeout_seconds)
        except TimeoutError:
            return CheckState(False, f"timed out after {self.timeout_seconds:g} s")
        except Exception as exc:  # a failing check means "not ready", never a 500
            return CheckState(False, f"{type(exc).__name__}: {exc}"[:DETAIL_MAX])
        if isinstance(outcome, tuple):
            ok, detail = outcome
            return CheckState(bool(ok), str(detail)[:DETAIL_MAX])
        return CheckState(bool(outcome))


def cached(check: Check, ttl_seconds: float, clock: Callable[[], float] = time.monotonic) -> Check:
    """Re-run ``check`` at most every ``ttl_seconds`` while it passes; a failing one is re-run each call.

    For the Ed-Fi token check: a probe every few seconds must not ask the OAuth endpoint each time.
    """
    last: dict[str, Any] = {"at": None, "state": None}

    async def run() -> CheckResult:
        now = clock()
        state = last["state"]
        if state is not None and state.ok and now - last["at"] < ttl_seconds:
            return state.ok, state.detail
        state = await Readiness(checks={})._run(check)
        last.update(at=now, state=state)
        return state.ok, state.detail

    return run


def body(ready: bool, states: dict[str, CheckState]) -> dict[str, Any]:
    """JSON body of /readyz: ``checks`` maps each check to a bool; ``details`` says why one failed."""
    out: dict[str, Any] = {"ready": ready, "checks": {n: s.ok for n, s in states.items()}}
    details = {n: s.detail for n, s in states.items() if s.detail}
    if details:
        out["details"] = details
    return out


# The process-wide instances the handlers use unless the aiohttp app carries its own under these keys.
readiness = Readiness()
READINESS_KEY = web.AppKey("edfi_stream.readiness", Readiness)
REGISTRY_KEY = web.AppKey("edfi_stream.registry", CollectorRegistry)


def _app_item(request: web.Request, key: web.AppKey[Any], default: Any) -> Any:
    app = getattr(request, "app", None)
    return app.get(key, default) if app is not None else default


async def metrics_handler(request: web.Request) -> web.Response:
    registry: CollectorRegistry = _app_item(request, REGISTRY_KEY, REGISTRY)
    return web.Response(body=generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST})


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "alive"})


async def readyz(request: web.Request) -> web.Response:
    checks: Readiness = _app_item(request, READINESS_KEY, readiness)
    ready, states = await checks.evaluate()
    return web.json_response(body(ready, states), status=200 if ready else 503)


def add_routes(app: web.Application, checks: Readiness | None = None,
               registry: CollectorRegistry | None = None) -> None:
    """Mount the three endpoints on an aiohttp application (Faust: ``app.web.web_app``)."""
    if checks is not None:
        app[READINESS_KEY] = checks
    if registry is not None:
        app[REGISTRY_KEY] = registry
    app.router.add_get("/metrics", metrics_handler)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
