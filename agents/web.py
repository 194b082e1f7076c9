"""The worker's web port: /metrics, /healthz, /readyz and /explain, on Faust's own web server.

Readiness means: partitions assigned, tables not recovering, and an Ed-Fi token obtainable.
/explain re-evaluates a student's current state with the same rule code and returns the decisions, so a
data steward can ask a running worker why a score was sent or held.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

if TYPE_CHECKING:
    from agents.worker import Worker

TOKEN_CHECK_TTL_SECONDS = 30.0


def attach_web(worker: Worker) -> None:
    app = worker.parts.app
    token_state: dict[str, Any] = {"ok": False, "checked": 0.0, "error": "not checked yet"}

    async def token_ok() -> tuple[bool, str]:
        client = worker.egress_holder.get("client")
        if client is None:
            return False, "egress not started"
        if time.monotonic() - token_state["checked"] > TOKEN_CHECK_TTL_SECONDS or not token_state["ok"]:
            try:
                await client.check_token()
                token_state.update(ok=True, error="")
            except Exception as exc:  # any failure means "not ready"; the reason is reported, not raised
                token_state.update(ok=False, error=type(exc).__name__ + ": " + str(exc)[:200])
            token_state["checked"] = time.monotonic()
        return token_state["ok"], token_state["error"]

    @app.page("/metrics")
    async def metrics_view(web: Any, request: Any) -> Any:
        return web.bytes(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST.split(";")[0])

    @app.page("/healthz")
    async def healthz_view(web: Any, request: Any) -> Any:
        return web.json({"status": "alive"})

    @app.page("/readyz")
    async def readyz_view(web: Any, request: Any) -> Any:
        assigned = bool(app.consumer.assignment()) if app.consumer else False
        recovery = getattr(app.tables, "recovery", None)
        recovering = bool(getattr(app, "rebalancing", False)) or (
            recovery is not None and not recovery.completed.is_set())
        ok_token, token_error = await token_ok()
        checks = {
            "partitions_assigned": assigned,
            "not_recovering": not recovering,
            "edfi_token": ok_token,
        }
        ready = all(checks.values())
        body = {"ready": ready, "checks": checks}
        if token_error:
            body["edfi_token_error"] = token_error
        return web.json(body, status=200 if ready else 503)

    @app.page("/explain")
    async def explain_view(web: Any, request: Any) -> Any:
        query = request.query
        decisions = worker.engines.explain(
            score_id=_int(query.get("scoreID")), person_id=_int(query.get("personID")),
            said=query.get("id"))
        return web.json({"decisions": decisions})


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None
