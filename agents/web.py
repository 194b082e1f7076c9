"""The worker's web port: /metrics, /healthz, /readyz, /explain and the console, on Faust's web server.

Readiness means: partitions assigned, tables not recovering, an Ed-Fi token obtainable and the egress not
paused on refused credentials (agents/readiness.py builds the checks; streams/observability/health.py
evaluates them). The views take what they need, not the Worker.
/explain re-evaluates a student's current state with the same rule code and returns the decisions, so a
data steward can ask a running worker why a score was sent or held. It shows student data: it is behind
the guard (streams/web/guard.py: a viewer or operator, an allowed Host) and takes its ids in a POST body,
never in the URL (URLs end up in proxy and access logs). Faust's own table and router views are off
(agents/app.py). docs/security.md says who may see what.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web as aioweb
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from streams.console.pages import LOGIN_PATH, PUBLIC_PATHS, attach_console
from streams.observability import health
from streams.web.auth import Credentials
from streams.web.guard import make_guard
from streams.web.hosts import plain_http_to_remote

if TYPE_CHECKING:
    from agents.console_backend import WorkerBackend
    from streams.config import Settings

log = logging.getLogger(__name__)
EXPLAIN_FIELDS = ("scoreID", "personID", "id")
Explain = Callable[..., list[dict[str, Any]]]


def readiness_body(readiness: health.Readiness) -> Callable[[], Awaitable[dict[str, Any]]]:
    """The /readyz body as a coroutine function: what the console's overview shows too."""

    async def body() -> dict[str, Any]:
        ready, states = await readiness.evaluate()
        return health.body(ready, states)

    return body


def attach_web(app: Any, settings: Settings, readiness: Callable[[], Awaitable[dict[str, Any]]],
               explain: Explain, backend: WorkerBackend) -> None:
    credentials = Credentials.from_settings(settings.web)
    if plain_http_to_remote(settings.edfi.base_url):
        log.warning("edfi.baseUrl is plain http to a host that is not this machine: the Ed-Fi credentials "
                    "and student data cross the network unencrypted; use https (docs/security.md)")
    if not credentials.configured:
        log.warning("no web credentials in the environment (%s or %s): /explain and the console refuse "
                    "every request (docs/security.md)", settings.web.viewer_token_env,
                    settings.web.operator_token_env)
    web_app: aioweb.Application = app.web.web_app  # faust aiohttp driver
    web_app.middlewares.append(make_guard(credentials, settings.web.allowed_hosts,
                                          public_paths=PUBLIC_PATHS, login_path=LOGIN_PATH))

    @app.page("/metrics")
    async def metrics_view(web: Any, request: Any) -> Any:
        return web.bytes(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST.split(";")[0])

    @app.page("/healthz")
    async def healthz_view(web: Any, request: Any) -> Any:
        return web.json({"status": "alive"})

    @app.page("/readyz")
    async def readyz_view(web: Any, request: Any) -> Any:
        body = await readiness()
        return web.json(body, status=200 if body["ready"] else 503)

    from streams.console.lookups import FORWARDED

    async def explain_post(request: aioweb.Request) -> aioweb.Response:
        query = await _explain_query(request)
        person = _int(query.get("personID"))
        decisions = [] if person is not None and not backend.holds(person) else explain(
            score_id=_int(query.get("scoreID")), person_id=person, said=query.get("id"))
        if not decisions and request.headers.get(FORWARDED) != "1" and query:
            # with several workers the student may be on another one: ask it, with the caller's credentials
            headers = {FORWARDED: "1", **{k: request.headers[k] for k in ("Authorization", "Cookie")
                                         if k in request.headers}}
            found = await backend.ask_others("/explain", query, headers, person)
            if found is not None:
                return aioweb.Response(text=found[0], content_type="application/json")
        if not decisions and request.headers.get(FORWARDED) == "1":
            return aioweb.json_response({"decisions": []}, status=404)  # not here: the asker tries the next
        return aioweb.json_response({"decisions": decisions})

    async def explain_get(request: aioweb.Request) -> aioweb.Response:
        return aioweb.json_response(
            {"error": "POST the ids (scoreID, personID or id) as JSON or a form: ids in a URL end up in logs"},
            status=405, headers={"Allow": "POST"})

    web_app.router.add_post("/explain", explain_post)
    web_app.router.add_get("/explain", explain_get)
    attach_console(backend, web_app, credentials)


async def _explain_query(request: aioweb.Request) -> dict[str, str]:
    if request.content_type == "application/json":
        try:
            data = json.loads(await request.read() or b"{}")
        except ValueError:
            data = {}
        data = data if isinstance(data, dict) else {}
    else:
        data = dict(await request.post())
    return {k: str(data[k]) for k in EXPLAIN_FIELDS if data.get(k) not in (None, "")}


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None
