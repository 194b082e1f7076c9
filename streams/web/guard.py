"""The aiohttp middleware in front of every route of the worker's web port.

Deny by default: only the probe and scrape endpoints (/metrics, /healthz, /readyz: no student data) and the
console's login page are open; every other path (today /explain and the console, tomorrow whatever is
added) needs a viewer or operator. Each request must name an allowed Host. Responses carry headers that
keep pages out of caches and frames.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from typing import Any

from aiohttp import web

from streams.web.auth import Credentials, Principal, Role
from streams.web.hosts import host_allowed

OPEN_PATHS = frozenset({"/metrics", "/healthz", "/readyz"})
SESSION_COOKIE = "edfi_stream_session"
PRINCIPAL_KEY = web.RequestKey("edfi_stream.principal", Principal)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                               "frame-ancestors 'none'; form-action 'self'",
}


def principal_of(request: web.Request) -> Principal | None:
    return request.get(PRINCIPAL_KEY)


def authenticate(request: web.Request, credentials: Credentials) -> Principal | None:
    return (credentials.from_header(request.headers.get("Authorization"))
            or credentials.read_session(request.cookies.get(SESSION_COOKIE)))


def refused(status: int, message: str) -> web.Response:
    headers = {"WWW-Authenticate": 'Bearer realm="edfi-stream", Basic realm="edfi-stream"'} if status == 401 else {}
    return web.json_response({"error": message}, status=status, headers=headers)


def make_guard(credentials: Credentials, allowed_hosts: Collection[str], *,
               public_paths: Collection[str] = (), login_path: str | None = None) -> Any:
    """The middleware; ``public_paths`` are open like the probes (the login page), ``login_path`` is where a
    browser asking for a console page without a session is sent."""
    open_paths = OPEN_PATHS | set(public_paths)

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not host_allowed(request.headers.get("Host"), allowed_hosts):
            return refused(421, "unexpected Host header (configure web.allowedHosts)")
        if request.path in open_paths:
            response = await handler(request)
        else:
            principal = authenticate(request, credentials)
            if principal is None:
                if not credentials.configured:
                    return refused(403, "no web credentials configured: pages with student data are off "
                                        "(docs/security.md)")
                if login_path and request.method == "GET" and request.path.startswith(login_path.rsplit("/", 1)[0]):
                    raise web.HTTPSeeOther(login_path)
                return refused(401, "authentication required")
            request[PRINCIPAL_KEY] = principal
            response = await handler(request)
            response.headers.setdefault("Cache-Control", "no-store")
        for name, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    return guard


def require(request: web.Request, role: Role) -> Principal:
    """The request's principal if it may act as ``role``; 403 otherwise (the guard already refused anonymous)."""
    principal = principal_of(request)
    if principal is None or not principal.may(role):
        raise web.HTTPForbidden(text=f"the {role} role is needed for this")
    return principal
