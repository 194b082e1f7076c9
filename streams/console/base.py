"""What every console page shares: the backend it reads (a running worker: agents/console_backend.py),
the page frame with the signed-in user, the CSRF check of every form, the district's time zone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable
from typing import Any, Protocol

from aiohttp import web

from streams.config import Settings
from streams.console import data, durable
from streams.console.audit import AuditEvent
from streams.console.html import esc, hidden, page
from streams.deadletters.log import DeadLetter
from streams.web.auth import Credentials, Principal
from streams.web.guard import principal_of, require


class Backend(Protocol):
    settings: Settings

    def readiness(self) -> Awaitable[dict[str, Any]]: ...
    def enabled(self) -> bool: ...
    def holds(self, person: int) -> bool: ...
    async def ask_others(self, path: str, fields: dict[str, str], headers: dict[str, str],
                         person: int | None) -> tuple[str, str] | None: ...
    async def sent_figures(self) -> durable.SentFigures: ...
    async def toggle_events(self) -> list[durable.ToggleEvent]: ...
    async def audit_events(self) -> list[AuditEvent]: ...
    async def record_action(self, event: AuditEvent) -> None: ...
    def person_of(self, kind: str, value: str) -> int | None: ...
    def decisions(self, person: int) -> list[dict[str, Any]]: ...
    async def records(self, person: int) -> list[dict[str, Any]]: ...
    async def dead_letters(self) -> list[DeadLetter]: ...
    async def archived_letters(self) -> list[DeadLetter]: ...
    def partitions_held(self) -> tuple[list[int], int]: ...
    async def retry(self, letters: list[DeadLetter]) -> tuple[int, list[str]]: ...
    async def archive(self, letters: list[DeadLetter]) -> int: ...
    async def set_enabled(self, enabled: bool) -> None: ...
    async def resync_plan(self, school: int | None, student: str | None) -> Any: ...

class ConsoleBase:
    def __init__(self, backend: Backend, credentials: Credentials) -> None:
        self.backend = backend
        self.credentials = credentials
        self.zone = data.zone_of(backend.settings.web.time_zone)

    # -- helpers ----------------------------------------------------------------------------------------
    def _page(self, request: web.Request, title: str, body: str, status: int = 200) -> web.Response:
        principal = principal_of(request)
        user, role, csrf = "", "", ""
        if principal is not None:
            user, role, csrf = principal.name, principal.role, self.credentials.csrf_token(principal)
        return web.Response(text=page(title, body, user=user, role=role, csrf=csrf), status=status,
                            content_type="text/html")

    async def _form(self, request: web.Request, role: str = "viewer") -> tuple[Principal, Any]:
        principal = require(request, role)  # type: ignore[arg-type]
        form = await request.post()
        if not self.credentials.check_csrf(principal, str(form.get("csrf", ""))):
            raise web.HTTPForbidden(text="missing or wrong CSRF token: reload the page and try again")
        return principal, form

    def _csrf(self, request: web.Request) -> str:
        principal = principal_of(request)
        return hidden("csrf", self.credentials.csrf_token(principal)) if principal else ""

    def _when(self, seconds: float) -> str:
        return dt.datetime.fromtimestamp(seconds, dt.UTC).astimezone(self.zone).strftime("%Y-%m-%d %H:%M %Z")

    async def _audit(self, principal: Principal, action: str, what: str, count: int) -> None:
        """Keep the operator's action on the audit topic (and a log line); the action is done already, so a
        failure to record it is said in the log, not to the operator as a failed action."""
        import logging
        import time

        event = AuditEvent(int(time.time() * 1000), principal.name, principal.role, action, what, count)
        try:
            await self.backend.record_action(event)
        except Exception as exc:
            logging.getLogger(__name__).error("console audit record not written (%s): %s", type(exc).__name__,
                                              event.log_line())

    async def _toggle_section(self, request: web.Request, enabled: bool) -> str:
        try:
            events = await self.backend.toggle_events()
            history = "".join(f"<li>{esc(e.at.strftime('%Y-%m-%d %H:%M:%S %Z'))}: turned "
                              f"{'on' if e.enabled else 'off'}</li>" for e in reversed(events[-20:]))
            said = ("<p>History (from edfi.control, newest first; who did it: the audit trail):</p><ul>"
                    + history + "</ul>") if history else "<p>Never turned off or on (it is on until turned off).</p>"
        except Exception as exc:  # Kafka away: the page still renders
            said = f'<p class="note">The toggle history cannot be read now: {esc(type(exc).__name__)}.</p>'
        out = (f"<h2>Resource toggle</h2><p>studentAssessments is <strong>{'on' if enabled else 'off'}</strong>."
               f"</p>{said}")
        principal = principal_of(request)
        if principal is not None and principal.may("operator"):
            out += (f'<form method="post" action="/console/toggle/confirm">{self._csrf(request)}'
                    f'{hidden("enabled", "off" if enabled else "on")}<button type="submit">'
                    f"Turn studentAssessments {'off' if enabled else 'on'}…</button></form>")
        return out
