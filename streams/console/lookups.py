"""The "Why?" search (decisions and Ed-Fi records of a score, a student or a record; searched by POST so no
id is in a URL) and the resync preview (the dry-run plan, with the command to run it)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from streams.console.base import ConsoleBase
from streams.console.html import cards, esc, table
from streams.explain.render import render_line

FORWARDED = "X-Edfi-Stream-Forwarded"
SEARCH_KINDS = (("scoreID", "scoreID"), ("personID", "personID"), ("stateID", "State Student Identifier"),
                ("id", "studentAssessmentIdentifier"))


class LookupPages(ConsoleBase):
    # -- resync preview -------------------------------------------------------------------------------
    def _resync_form(self, request: web.Request, school: str = "", student: str = "") -> str:
        return (f'<form method="post" action="/console/resync">{self._csrf(request)}'
                f'<label for="school">stateSchoolID (optional)</label><input id="school" name="school" '
                f'inputmode="numeric" value="{esc(school)}"> <label for="student">State Student Identifier '
                f'(optional)</label><input id="student" name="student" value="{esc(student)}"> '
                '<button type="submit">Preview the resync</button></form>')

    async def resync_page(self, request: web.Request) -> web.Response:
        body = ("<p>What <code>edfi-stream resync</code> would do now: the SIS topics replayed through the rules "
                "and compared with the ODS. Nothing is written. It reads every SIS topic and the ODS: on a large "
                "district it takes a while.</p>" + self._resync_form(request)
                + await self._toggle_section(request, self.backend.enabled()))
        return self._page(request, "Resync preview", body)

    async def resync(self, request: web.Request) -> web.Response:
        _, form = await self._form(request)
        school, student = str(form.get("school", "")).strip(), str(form.get("student", "")).strip()
        if school and not school.isdigit():
            return self._page(request, "Resync preview", '<p class="note">stateSchoolID is a number.</p>'
                              + self._resync_form(request, school, student), 400)
        try:
            plan = await self.backend.resync_plan(int(school) if school else None, student or None)
        except Exception as exc:  # a busy preview, Kafka or the ODS away: say so on the page
            return self._page(request, "Resync preview", f'<p class="note">No preview: {esc(type(exc).__name__)}: '
                              f"{esc(str(exc)[:300])}</p>" + self._resync_form(request, school, student), 503)
        counts = plan.counts()
        command = "edfi-stream resync" + (f" --school {school}" if school else "") + (
            f" --student {student}" if student else "")
        body = self._resync_form(request, school, student) + cards([
            ("ODS records in scope", str(plan.ods_count), ""), ("Wanted by the rules", str(plan.desired_count), ""),
            *((action.upper(), str(counts[action]), "") for action in ("post", "put", "delete", "forget"))])
        body += f"<p>To run it: <code>{esc(command)}</code> (add <code>--dry-run</code> to print this plan).</p>"
        body += table(["Action", "studentAssessmentIdentifier", "Assessment", "School", "Why"],
                      [[a.action, a.natural_key.student_assessment_identifier, a.natural_key.assessment_identifier,
                        str(a.school_id or ""), a.reason] for a in plan.actions[:500]],
                      caption=f"{len(plan.actions)} actions" + (" (the first 500)" if len(plan.actions) > 500 else ""))
        return self._page(request, "Resync preview", body)

    # -- Why? -------------------------------------------------------------------------------------------
    def _search_form(self, request: web.Request, kind: str = "scoreID", value: str = "") -> str:
        options = "".join(f'<option value="{k}"{" selected" if k == kind else ""}>{esc(label)}</option>'
                          for k, label in SEARCH_KINDS)
        return (f'<form method="post" action="/console/why">{self._csrf(request)}'
                f'<label for="kind">Search by</label><select id="kind" name="kind">{options}</select> '
                f'<label for="value">Value</label><input id="value" name="value" value="{esc(value)}" required> '
                '<button type="submit">Why?</button></form>')

    async def why_page(self, request: web.Request) -> web.Response:
        return self._page(request, "Why?", "<p>Why was a score sent, or not? Search a score, a student or a "
                                           "record.</p>" + self._search_form(request))

    async def _ask_the_owner(self, request: web.Request, form: Any, kind: str, value: str) -> web.Response | None:
        """With several workers the student may be on another one: ask it (with the caller's credentials)."""
        person = int(value) if kind == "personID" and value.isdigit() else None
        headers = {FORWARDED: "1"}
        for name in ("Authorization", "Cookie"):
            if name in request.headers:
                headers[name] = request.headers[name]
        fields = {"kind": kind, "value": value, "csrf": str(form.get("csrf", ""))}
        found = await self.backend.ask_others("/console/why", fields, headers, person)
        if found is None:
            return None
        text, url = found
        text = text.replace("<p>Answered by the worker that holds this student.</p>",
                            f"<p>Answered by the worker that holds this student ({esc(url)}).</p>", 1)
        return web.Response(text=text, content_type="text/html")

    async def why(self, request: web.Request) -> web.Response:
        _, form = await self._form(request)
        kind = str(form.get("kind", "scoreID"))
        kind = kind if kind in dict(SEARCH_KINDS) else "scoreID"
        value = str(form.get("value", "")).strip()
        body = self._search_form(request, kind, value)
        person = self.backend.person_of(kind, value) if value else None
        forwarded = request.headers.get(FORWARDED) == "1"
        if person is not None and not self.backend.holds(person):
            person = None  # not this worker's student (a personID is "found" anywhere): ask its owner
        decisions = self.backend.decisions(person) if person is not None else []
        if kind == "scoreID" and value.isdigit():
            decisions = [d for d in decisions if d.get("scoreID") == int(value)]
        elif kind == "id":
            decisions = [d for d in decisions if d.get("studentAssessmentIdentifier") == value]
        if person is None or (not decisions and kind in ("scoreID", "id")):
            if forwarded:  # asked by another worker: say "not here" and never ask further
                return self._page(request, "Why?", "<p>Not on this worker.</p>", 404)
            answer = await self._ask_the_owner(request, form, kind, value) if value else None
            if answer is not None:
                return answer
            held, partitions = self.backend.partitions_held()
            body += ("<p>Nothing found for that value. Is the id right, and has its event reached the "
                     "workers?" + (f" This worker holds student partitions {', '.join(map(str, held)) or 'none'} "
                                   f"of {partitions}; the others were asked too." if len(held) < partitions else "")
                     + "</p>")
            return self._page(request, "Why?", body)
        if forwarded:
            body += "<p>Answered by the worker that holds this student.</p>"
        body += f"<h2>Student {esc(person)}: the rules' decisions now</h2>"
        body += "<ul>" + "".join(f"<li>{esc(render_line(d))}</li>" for d in decisions) + "</ul>" if decisions \
            else "<p>No scores for this student.</p>"
        records = await self.backend.records(person)
        if kind == "id":
            records = [r for r in records if r["studentAssessmentIdentifier"] == value]
        body += "<h2>Ed-Fi records sent for this student</h2>" + (table(
            ["studentAssessmentIdentifier", "Assessment", "Administration date", "School", "ODS acknowledged"],
            [[r["studentAssessmentIdentifier"], r["assessment"] or "", r["date"] or "", str(r["school"] or ""),
              f"yes (id {r['odsId']})" if r["acknowledged"] else "not yet (in flight, parked or a dead letter)"]
             for r in records]) if records else "<p>None: nothing of this student is in the ODS.</p>")
        return self._page(request, "Why?", body)
