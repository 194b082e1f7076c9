"""The console's pages and actions (aiohttp handlers on the worker's web server): sign-in, the overview and
the toggle here; the error log (streams/console/errorlog.py); "Why?" and the resync preview
(streams/console/lookups.py).

GET pages only read and carry no student data in their URLs (filters name causes, schools and
assessments; a dead letter is named by its place in the topic). Everything that changes state is a POST
with the session's CSRF token, through a confirmation page, by an operator; a viewer gets 403.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from streams.console import data, durable
from streams.console.audit import AUDIT_TOPIC
from streams.console.base import Backend
from streams.console.errorlog import ErrorLogPages
from streams.console.html import bar_chart, cards, esc, hidden, table
from streams.console.lookups import LookupPages
from streams.deadletters.log import DeadLetter
from streams.web.auth import Credentials
from streams.web.guard import SESSION_COOKIE

LOGIN_PATH = "/console/login"
PUBLIC_PATHS = frozenset({LOGIN_PATH})
LOGIN_FAILURE_DELAY_SECONDS = 0.5


class Console(ErrorLogPages, LookupPages):
    # -- login ------------------------------------------------------------------------------------------
    async def login_page(self, request: web.Request, message: str = "", status: int = 200) -> web.Response:
        note = f'<p class="note" role="alert">{esc(message)}</p>' if message else ""
        body = (f'{note}<form method="post" action="{LOGIN_PATH}">'
                '<p><label for="user">User</label><input id="user" name="user" autocomplete="username" required></p>'
                '<p><label for="password">Password</label><input id="password" name="password" type="password" '
                'autocomplete="current-password" required></p><button type="submit">Sign in</button></form>')
        return self._page(request, "Sign in", body, status)

    async def login(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        principal = self.credentials.check_password(str(form.get("user", "")), str(form.get("password", "")),
                                                    "session")
        if principal is None:
            await asyncio.sleep(LOGIN_FAILURE_DELAY_SECONDS)  # each guess costs the guesser time
            return await self.login_page(request, "Wrong user or password.", 401)
        response = web.HTTPSeeOther("/console/")
        secure = request.secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"
        response.set_cookie(SESSION_COOKIE, self.credentials.issue_session(
            principal, self.backend.settings.web.session_seconds), httponly=True, samesite="Strict",
            secure=secure, path="/")
        return response

    async def logout(self, request: web.Request) -> web.StreamResponse:
        await self._form(request)
        response = web.HTTPSeeOther(LOGIN_PATH)
        response.del_cookie(SESSION_COOKIE, path="/")
        return response

    # -- overview ---------------------------------------------------------------------------------------
    async def overview(self, request: web.Request) -> web.Response:
        ready = await self.backend.readiness()
        health = data.health()
        letters = await self._letters_or_none()
        try:
            sent: durable.SentFigures | None = await self.backend.sent_figures()
        except Exception:  # Kafka away: the overview still renders
            sent = None
        enabled = self.backend.enabled()
        checks = ", ".join(f"{name}: {'yes' if ok else 'NO'}" for name, ok in ready["checks"].items())
        body = cards([
            ("Pipeline", "ready" if ready["ready"] else "not ready", "ok" if ready["ready"] else "bad"),
            ("Consumer lag (messages)", f"{health.lag:g}", "ok" if health.lag < 1000 else "bad"),
            ("Writes in flight / limit", f"{health.in_flight:g} / {health.in_flight_limit:g}", ""),
            ("Parked writes", f"{health.parked:g}", ""),
            ("studentAssessments", "on" if enabled else "OFF", "ok" if enabled else "bad"),
            ("Records acknowledged today", "?" if sent is None else str(sent.today), ""),
            ("Last successful write", "?" if sent is None else sent.last_ack.astimezone(self.zone).strftime(
                "%Y-%m-%d %H:%M:%S %Z") if sent.last_ack else "none yet", ""),
            ("Dead letters", "?" if letters is None else str(len(letters)), "ok" if not letters else "bad"),
        ])
        body += f"<p>Readiness checks: {esc(checks)}.</p>"
        body += self._sent_section(sent)
        held = sorted(health.held.items(), key=lambda kv: -kv[1])
        body += ("<h2>Why scores were held</h2>"
                 + bar_chart("Rule evaluations that held a score, by reason (since start)", held[:12]))
        if letters:
            causes = data.groups(data.view(d, self.zone) for d in letters)
            by_cause: dict[str, int] = {}
            for name, count in causes:
                by_cause[name.split("|")[0]] = by_cause.get(name.split("|")[0], 0) + count
            body += "<h2>Dead letters by cause</h2>" + bar_chart(
                "Dead letters by cause", sorted(by_cause.items(), key=lambda kv: -kv[1]))
        body += await self._toggle_section(request, enabled)
        return self._page(request, "Overview", body)

    def _sent_section(self, sent: durable.SentFigures | None) -> str:
        year = self.backend.settings.school_year
        if sent is None:
            return '<h2>What was sent</h2><p class="note">The worker\'s tables cannot be read now.</p>'
        scope = ("<p>Every student of the district: counted from the worker tables' changelogs, which hold all "
                 f"workers' partitions. {sent.waiting} records sent by the rules are not acknowledged with their "
                 "latest content yet (in flight, parked or a dead letter).</p>")
        return (f"<h2>What was sent</h2>{scope}"
                + cards([("Acknowledged today", str(sent.today), ""),
                         (f"Acknowledged this school year ({year.start_date} to {year.end_date})", str(sent.year),
                          "")])
                + bar_chart("Acknowledged today, by assessment", sent.today_by_assessment.most_common(12))
                + bar_chart("Acknowledged today, by school (stateSchoolID)", sent.today_by_school.most_common(12))
                + bar_chart("Acknowledged this school year, by assessment", sent.year_by_assessment.most_common(12))
                + bar_chart("Acknowledged this school year, by school (stateSchoolID)",
                            sent.year_by_school.most_common(12)))

    async def audit(self, request: web.Request) -> web.Response:
        try:
            events = await self.backend.audit_events()
        except Exception as exc:
            return self._page(request, "Audit trail", f'<p class="note">The audit trail cannot be read now: '
                                                      f"{esc(type(exc).__name__)}.</p>", 503)
        body = ("<p>Every retry, archive and toggle done on the console, newest first (kept on the "
                f"<code>{esc(AUDIT_TOPIC)}</code> topic; no student data).</p>")
        body += table(["When", "Who", "Role", "Action", "What", "Count"],
                      [[e.when(self.zone), e.user, e.role, e.action, e.what, str(e.count)] for e in events[:500]],
                      caption=f"{len(events)} actions") if events else "<p>No operator action yet.</p>"
        return self._page(request, "Audit trail", body)

    async def _letters_or_none(self) -> list[DeadLetter] | None:
        try:
            return await self.backend.dead_letters()
        except Exception:  # the overview must render while Kafka is away; the error log says why
            return None

    async def toggle_confirm(self, request: web.Request) -> web.Response:
        _, form = await self._form(request, "operator")
        state = "on" if form.get("enabled") == "on" else "off"
        body = (f"<p>Turn studentAssessments <strong>{state}</strong> for every worker?"
                f"{' Sends stop until it is turned on again.' if state == 'off' else ''}</p>"
                f'<form method="post" action="/console/toggle/apply">{self._csrf(request)}{hidden("enabled", state)}'
                f'{hidden("confirm", "yes")}<button class="danger" type="submit">Yes, turn it {state}</button> '
                '<a href="/console/">Cancel</a></form>')
        return self._page(request, "Confirm", body)

    async def toggle_apply(self, request: web.Request) -> web.StreamResponse:
        principal, form = await self._form(request, "operator")
        if form.get("confirm") != "yes":
            raise web.HTTPBadRequest(text="not confirmed")
        await self.backend.set_enabled(form.get("enabled") == "on")
        await self._audit(principal, "toggle", f"studentAssessments {'on' if form.get('enabled') == 'on' else 'off'}",
                          1)
        return web.HTTPSeeOther("/console/")


def attach_console(backend: Backend, web_app: web.Application, credentials: Credentials) -> Console:
    console = Console(backend, credentials)
    router = web_app.router
    router.add_get(LOGIN_PATH, console.login_page)
    router.add_post(LOGIN_PATH, console.login)
    router.add_post("/console/logout", console.logout)
    router.add_get("/console/", console.overview)
    router.add_get("/console", lambda request: _redirect("/console/"))
    router.add_get("/console/errors", console.errors)
    router.add_get("/console/audit", console.audit)
    router.add_post("/console/errors/confirm", console.errors_confirm)
    router.add_post("/console/errors/apply", console.errors_apply)
    router.add_get("/console/why", console.why_page)
    router.add_post("/console/why", console.why)
    router.add_get("/console/resync", console.resync_page)
    router.add_post("/console/resync", console.resync)
    router.add_post("/console/toggle/confirm", console.toggle_confirm)
    router.add_post("/console/toggle/apply", console.toggle_apply)
    return console


async def _redirect(location: str) -> web.StreamResponse:
    raise web.HTTPSeeOther(location)
