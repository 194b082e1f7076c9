"""The error log: dead letters grouped by cause, school and assessment, filtered and paged, each in plain
words with its raw record on demand; retry and archive of one letter, a selection or a group (the same
functions as `edfi-stream errors retry|archive`), always through a confirmation page."""

from __future__ import annotations

import urllib.parse
from typing import Any

from aiohttp import web

from streams.console import data
from streams.console.base import ConsoleBase
from streams.console.html import esc, hidden, table
from streams.deadletters.log import DeadLetter
from streams.web.guard import principal_of

PAGE_SIZE = 50


class ErrorLogPages(ConsoleBase):
    # -- error log --------------------------------------------------------------------------------------
    async def errors(self, request: web.Request) -> web.Response:
        q = request.query
        archived = q.get("archived") == "1"
        try:
            letters = await (self.backend.archived_letters() if archived else self.backend.dead_letters())
        except Exception as exc:
            return self._page(request, "Error log", f'<p class="note">The dead letters cannot be read now: '
                                                    f"{esc(type(exc).__name__)}.</p>", 503)
        views = [data.view(d, self.zone) for d in letters]
        chosen = data.filter_views(views, cause=q.get("cause", ""), school=q.get("school", ""),
                                   assessment=q.get("assessment", ""))
        shown, pages = data.page_of(chosen, int(q.get("page", "1")) if q.get("page", "1").isdigit() else 1,
                                    PAGE_SIZE)
        body = ""
        if q.get("done"):
            body += f'<p class="note" role="status">{esc(q["done"])}</p>'
        body += ('<p><a href="/console/errors">Live letters</a> · <a href="/console/errors?archived=1">Archived '
                 "letters</a> (retried or archived: out of the log, still findable here)</p>")
        body += self._filters(q, views)
        operator = (principal := principal_of(request)) is not None and principal.may("operator") and not archived
        rows = []
        for name, count in data.groups(views):
            cause, school, assessment = name.split("|")
            link = "/console/errors?" + urllib.parse.urlencode(
                {"cause": cause, "school": school, "assessment": assessment})
            actions = ""
            if operator:
                actions = "".join(
                    f'<form class="inline" method="post" action="/console/errors/confirm">{self._csrf(request)}'
                    f'{hidden("group", name)}{hidden("action", act)}<button type="submit">{act.title()} group…'
                    "</button></form> " for act in ("retry", "archive"))
            rows.append([f'<a href="{esc(link)}">{esc(cause)}</a>', esc(school), esc(assessment), str(count),
                         actions])
        body += "<h2>Groups</h2>" + table(["Cause", "School", "Assessment", "Letters", ""], rows, raw=True)
        body += f"<h2>Letters ({len(chosen)})</h2>" + self._letters_table(request, shown, operator)
        body += self._pager(q, pages)
        return self._page(request, "Archived dead letters" if archived else "Error log", body)

    def _filters(self, q: Any, views: list[data.LetterView]) -> str:
        def select(name: str, label: str, values: set[str]) -> str:
            options = "".join(f'<option value="{esc(v)}"{" selected" if q.get(name) == v else ""}>{esc(v)}</option>'
                              for v in sorted(values))
            return (f'<label for="f-{name}">{label}</label><select id="f-{name}" name="{name}">'
                    f'<option value="">all</option>{options}</select> ')

        return ('<form method="get" action="/console/errors" aria-label="Filters">'
                + (hidden("archived", "1") if q.get("archived") == "1" else "")
                + select("cause", "Cause", {v.cause for v in views})
                + select("school", "School", {v.school for v in views})
                + select("assessment", "Assessment", {v.assessment for v in views})
                + '<button type="submit">Filter</button></form>')

    def _letters_table(self, request: web.Request, shown: list[data.LetterView], operator: bool) -> str:
        if not shown:
            return "<p>No dead letters.</p>"
        rows = []
        for v in shown:
            box = (f'<input type="checkbox" name="ids" value="{esc(v.id)}" id="c-{esc(v.id)}" '
                   f'aria-label="select letter {esc(v.id)}">') if operator else ""
            rows.append([box, esc(v.when), esc(v.cause), esc(v.school), esc(v.assessment),
                         esc(v.student), esc(v.score),
                         f'{esc(v.problem)}<details><summary>Raw record</summary><pre>{esc(v.raw)}</pre></details>'])
        out = table(["", "When", "Cause", "School", "Assessment", "Student", "Score", "Problem"], rows, raw=True)
        if not operator:
            return out
        return (f'<form method="post" action="/console/errors/confirm">{self._csrf(request)}{out}'
                '<p><button type="submit" name="action" value="retry">Retry selected…</button> '
                '<button type="submit" name="action" value="archive">Archive selected…</button></p></form>')

    def _pager(self, q: Any, pages: int) -> str:
        if pages <= 1:
            return ""
        links = []
        for n in range(1, pages + 1):
            params = {k: v for k, v in q.items() if k not in ("page", "done")} | {"page": str(n)}
            links.append(f'<a href="/console/errors?{esc(urllib.parse.urlencode(params))}">{n}</a>')
        return '<nav aria-label="Pages"><p>Page: ' + " ".join(links) + "</p></nav>"

    async def _selected(self, form: Any) -> tuple[list[DeadLetter], str]:
        letters = await self.backend.dead_letters()
        group = str(form.get("group", ""))
        if group:
            names = {v.id for v in data.filter_views((data.view(d) for d in letters), group=group)}
            what = "the group " + " · ".join(group.split("|"))
        else:
            names = {str(i) for i in form.getall("ids", [])}
            what = "the selected letters"
        return [d for d in letters if data.letter_id(d) in names], what

    async def errors_confirm(self, request: web.Request) -> web.Response:
        _, form = await self._form(request, "operator")
        action = "retry" if form.get("action") == "retry" else "archive"
        chosen, what = await self._selected(form)
        if not chosen:
            return self._page(request, "Nothing selected", '<p>Select letters first. <a href="/console/errors">'
                                                           "Back to the error log</a></p>", 400)
        effect = ("They leave the log and are sent again; one that fails again comes back as a new letter."
                  if action == "retry" else "They leave the log; the history stays in Kafka.")
        ids = "".join(hidden("ids", data.letter_id(d)) for d in chosen)
        body = (f"<p>{action.title()} {len(chosen)} dead letter{'s' if len(chosen) != 1 else ''} of {esc(what)}? "
                f"{effect}</p><form method=\"post\" action=\"/console/errors/apply\">{self._csrf(request)}{ids}"
                f'{hidden("action", action)}{hidden("confirm", "yes")}<button class="danger" type="submit">'
                f'Yes, {action} {len(chosen)}</button> <a href="/console/errors">Cancel</a></form>')
        return self._page(request, "Confirm", body)

    async def errors_apply(self, request: web.Request) -> web.StreamResponse:
        principal, form = await self._form(request, "operator")
        if form.get("confirm") != "yes":
            raise web.HTTPBadRequest(text="not confirmed")
        chosen, _ = await self._selected(form)
        what = _described(chosen)
        if form.get("action") == "retry":
            count, skipped = await self.backend.retry(chosen)
            done = f"Re-sent {count} dead letters" + (f"; {len(skipped)} had nothing to re-send" if skipped else "")
        else:
            count = await self.backend.archive(chosen)
            done = f"Archived {count} dead letters"
        await self._audit(principal, "retry" if form.get("action") == "retry" else "archive", what, count)
        return web.HTTPSeeOther("/console/errors?" + urllib.parse.urlencode({"done": done}))


def _described(letters: list[DeadLetter]) -> str:
    """The audit trail's words for a set of letters: their group when they share one (no student data)."""
    names = {data.view(d).group for d in letters}
    return "the group " + " · ".join(names.pop().split("|")) if len(names) == 1 else "the selected letters"
