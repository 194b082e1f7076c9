"""The console's figures and pages without a broker or a browser: a fake backend behind the real guard."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from streams.config import Settings, WebSettings
from streams.console import data, durable
from streams.console.audit import AuditEvent
from streams.console.html import bar_chart, esc
from streams.console.pages import LOGIN_PATH, PUBLIC_PATHS, attach_console
from streams.deadletters.log import DeadLetter
from streams.demo.run import render_console_access
from streams.web.auth import Credentials
from streams.web.guard import make_guard

ENV = {"EDFI_STREAM_WEB_VIEWER_USER": "vi", "EDFI_STREAM_WEB_VIEWER_PASSWORD": "vpw",
       "EDFI_STREAM_WEB_OPERATOR_USER": "op", "EDFI_STREAM_WEB_OPERATOR_PASSWORD": "opw"}


def egress_letter(n: int, school: int = 1001) -> DeadLetter:
    said = f"Math_{n:08d}_2024"
    return DeadLetter(said, 0, n, {
        "stage": "egress", "reason": "rejected", "status": 400, "schoolId": school,
        "assessmentIdentifier": "State Mathematics Assessment", "tsMs": 1_717_200_000_000,
        "edfiErrorType": "urn:ed-fi:api:bad-request:data-validation-failed",
        "edfiError": json.dumps({"detail": "Data validation failed.",
                                 "validationErrors": {"$.period": ["Quarter 9 does not exist."]}}),
        "request": json.dumps({"method": "POST", "naturalKey": {"studentUniqueId": f"{n:08d}"}, "body": {
            "studentReference": {"studentUniqueId": f"{n:08d}"}, "administrationDate": "2024-02-10",
            "scoreResults": [{"assessmentReportingMethodDescriptor": "uri://x#Scale score", "result": "301"}]}})})


def decode_letter(n: int) -> DeadLetter:
    return DeadLetter(f"sis.test_scores:0:{n}", 0, 1000 + n, {
        "stage": "decode", "reason": "bad_json", "detail": "Expecting property name", "sourceTopic": "sis.test_scores",
        "value": b"{broken", "tsMs": 1_717_200_000_000})


class FakeBackend:
    def __init__(self, letters: list[DeadLetter]) -> None:
        self.settings = Settings(web=WebSettings(time_zone="America/Chicago"))
        self.letters = letters
        self.all = list(letters)
        self.toggles: list[durable.ToggleEvent] = []
        self.audit_log: list[AuditEvent] = []
        self.on = True
        self.retried: list[str] = []
        self.archived: list[str] = []

    async def readiness(self) -> dict[str, Any]:
        return {"ready": True, "checks": {"partitions_assigned": True}}

    def enabled(self) -> bool:
        return self.on

    async def sent_figures(self) -> durable.SentFigures:
        return durable.SentFigures(Counter({"State Mathematics Assessment": 2}), Counter({"1001": 2}),
                                   Counter({"State Mathematics Assessment": 3}), Counter({"1001": 3}), 1,
                                   dt.datetime(2024, 6, 1, 12, tzinfo=dt.UTC))

    async def toggle_events(self) -> list[durable.ToggleEvent]:
        return list(self.toggles)

    async def audit_events(self) -> list[AuditEvent]:
        return sorted(self.audit_log, key=lambda e: -e.at_ms)

    async def record_action(self, event: AuditEvent) -> None:
        self.audit_log.append(event)

    def person_of(self, kind: str, value: str) -> int | None:
        return 4 if (kind, value) == ("stateID", "00000004") else None

    def decisions(self, person: int) -> list[dict[str, Any]]:
        return [{"personID": person, "scoreID": 4001, "outcome": "held", "reason": "excluded_school",
                 "message": "school 3 (Private) is marked Exclude", "studentAssessmentIdentifier": None}]

    async def records(self, person: int) -> list[dict[str, Any]]:
        return []

    async def dead_letters(self) -> list[DeadLetter]:
        return list(self.letters)

    async def archived_letters(self) -> list[DeadLetter]:
        return [d for d in self.all if d.key in self.archived + self.retried]

    def holds(self, person: int) -> bool:
        return True

    async def ask_others(self, path: str, fields: dict[str, str], headers: dict[str, str],
                         person: int | None) -> tuple[str, str] | None:
        self.asked = (path, fields, headers)
        return None

    def partitions_held(self) -> tuple[list[int], int]:
        return [0, 1], 4

    async def retry(self, letters: list[DeadLetter]) -> tuple[int, list[str]]:
        self.retried += [d.key for d in letters]
        self.letters = [d for d in self.letters if d not in letters]
        return len(letters), []

    async def archive(self, letters: list[DeadLetter]) -> int:
        self.archived += [d.key for d in letters]
        self.letters = [d for d in self.letters if d not in letters]
        return len(letters)

    async def resync_plan(self, school: int | None, student: str | None) -> Any:
        from streams.resync.diff import Action, ResyncPlan
        from streams.writes import NaturalKey

        key = NaturalKey("State Mathematics Assessment", "uri://ksde.org", "Math_00000003_2024", "00000003")
        self.resync_asked = (school, student)
        return ResyncPlan([Action("post", key, "missing from the ODS", school_id=1001)], ods_count=4, desired_count=5)

    async def set_enabled(self, enabled: bool) -> None:
        self.on = enabled
        self.toggles.append(durable.ToggleEvent(dt.datetime(2024, 6, 1, tzinfo=dt.UTC), "studentAssessments",
                                                enabled))


async def serve(backend: FakeBackend) -> TestClient:
    credentials = Credentials.from_settings(WebSettings(), ENV)
    app = web.Application(middlewares=[make_guard(credentials, ["localhost", "127.0.0.1"],
                                                  public_paths=PUBLIC_PATHS, login_path=LOGIN_PATH)])
    attach_console(backend, app, credentials)
    client = TestClient(TestServer(app))
    await client.start_server()
    return client


async def login(client: TestClient, user: str, password: str) -> str:
    response = await client.post(LOGIN_PATH, data={"user": user, "password": password}, allow_redirects=False)
    assert response.status == 303, await response.text()
    page = await (await client.get("/console/")).text()
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found
    return found.group(1)


def test_plain_words_for_a_rejection_and_an_unreadable_input() -> None:
    v = data.view(egress_letter(3), data.zone_of("America/Chicago"))
    assert v.problem.startswith("The Ed-Fi API refused the POST (HTTP 400): Data validation failed.")
    assert "$.period: Quarter 9 does not exist." in v.problem
    assert v.student == "00000003" and v.score == "Scale score 301 on 2024-02-10"
    assert v.cause == "data-validation-failed" and v.when.endswith(("CDT", "CST")) and v.id == "p0o3"
    d = data.view(decode_letter(1))
    assert d.problem.startswith("An input record could not be read from sis.test_scores (bad_json)")
    assert '"value": "{broken"' in d.raw
    assert data.zone_of("Not/AZone") is dt.UTC
    value = b'{"op": "c", "after": {"scoreID": 77, "personID": 5}}'
    readable = DeadLetter("sis.test_scores:0:9", 0, 9, {"stage": "decode", "reason": "missing_field", "value": value})
    assert (data.view(readable).student, data.view(readable).score) == ("personID 5", "scoreID 77")
    assert (d.student, d.score) == ("", "")


def test_groups_filters_and_pages() -> None:
    views = [data.view(egress_letter(n, 1001 + n % 2)) for n in range(120)] + [data.view(decode_letter(1))]
    assert data.groups(views)[0] == ("data-validation-failed|1001|State Mathematics Assessment", 60)
    assert len(data.filter_views(views, school="1002")) == 60
    assert len(data.filter_views(views, group="bad_json|-|-")) == 1
    shown, pages = data.page_of(views, 3, 50)
    assert pages == 3 and len(shown) == 21
    assert data.page_of(views, 99, 50)[0] == shown  # past the end: the last page


def test_chart_escapes_and_draws() -> None:
    svg = bar_chart("By <assessment>", [("Math & <b>", 2.0), ("ELA", 1.0)])
    assert "<b>" not in svg and esc("Math & <b>") in svg and svg.count("<rect") == 2
    assert "nothing yet" in bar_chart("Empty", [])


def test_demo_prints_the_console_and_its_credentials() -> None:
    from streams.demo.stack import demo_web_credentials

    env = demo_web_credentials()
    assert env != demo_web_credentials()  # fresh for each run
    text = render_console_access("http://127.0.0.1:6066", env)
    assert "http://127.0.0.1:6066/console/" in text
    assert env["EDFI_STREAM_WEB_OPERATOR_PASSWORD"] in text and env["EDFI_STREAM_WEB_VIEWER_PASSWORD"] in text


async def test_operator_retries_a_letter_through_confirmation_and_a_viewer_cannot() -> None:
    backend = FakeBackend([egress_letter(1), egress_letter(2), decode_letter(1), decode_letter(2)])
    client = await serve(backend)
    try:
        assert (await client.get("/console/", allow_redirects=False)).status == 303
        assert (await client.post(LOGIN_PATH, data={"user": "op", "password": "x"})).status == 401
        csrf = await login(client, "op", "opw")
        overview = await (await client.get("/console/")).text()
        assert "ready" in overview and "Dead letters by cause" in overview and "<svg" in overview
        assert "Acknowledged today, by assessment" in overview
        assert "Acknowledged this school year, by school" in overview
        assert "Every student of the district" in overview and "2024-06-01 07:00:00 CDT" in overview
        log = await (await client.get("/console/errors")).text()
        assert "Math_00000001_2024" in log and 'value="p0o1"' in log
        # without the CSRF token, or without confirming, nothing happens
        assert (await client.post("/console/errors/apply", data={"ids": "p0o1", "action": "retry",
                                                                  "confirm": "yes"})).status == 403
        assert (await client.post("/console/errors/apply", data={"ids": "p0o1", "action": "retry",
                                                                  "csrf": csrf})).status == 400
        confirm = await (await client.post("/console/errors/confirm",
                                           data={"ids": "p0o1", "action": "retry", "csrf": csrf})).text()
        assert "Retry 1 dead letter" in confirm and backend.retried == []
        done = await client.post("/console/errors/apply", data={"ids": "p0o1", "action": "retry", "csrf": csrf,
                                                                 "confirm": "yes"})
        assert backend.retried == ["Math_00000001_2024"] and "Re-sent 1" in await done.text()
        assert "Math_00000001_2024" not in str(done.url)  # no student data in the URL it was sent to
        await client.post("/console/errors/apply", data={"group": "bad_json|-|-", "action": "archive",
                                                         "csrf": csrf, "confirm": "yes"})
        assert backend.archived == ["sis.test_scores:0:1", "sis.test_scores:0:2"]
        why = await (await client.post("/console/why", data={"kind": "stateID", "value": "00000004",
                                                             "csrf": csrf})).text()
        assert "marked Exclude" in why
        missing = await (await client.post("/console/why", data={"kind": "stateID", "value": "99999999",
                                                                 "csrf": csrf})).text()
        assert "Nothing found" in missing and "partitions 0, 1 of 4" in missing
        assert backend.asked[1] == {"kind": "stateID", "value": "99999999", "csrf": csrf}  # the others were asked
        assert backend.asked[2]["X-Edfi-Stream-Forwarded"] == "1" and "Cookie" in backend.asked[2]
        not_here = await client.post("/console/why", data={"kind": "stateID", "value": "99999999", "csrf": csrf},
                                     headers={"X-Edfi-Stream-Forwarded": "1"})
        assert not_here.status == 404  # a forwarded question is never forwarded again
        archived = await (await client.get("/console/errors?archived=1")).text()
        assert "Math_00000001_2024" in archived and "sis.test_scores:0:2" in archived  # still findable
        assert 'name="ids"' not in archived  # read-only
        plan = await (await client.post("/console/resync", data={"school": "1001", "student": "",
                                                                 "csrf": csrf})).text()
        assert backend.resync_asked == (1001, None) and "Math_00000003_2024" in plan
        assert "edfi-stream resync --school 1001" in plan and "missing from the ODS" in plan
        assert (await client.post("/console/resync", data={"school": "x", "csrf": csrf})).status == 400
        await client.post("/console/toggle/apply", data={"enabled": "off", "csrf": csrf, "confirm": "yes"})
        assert backend.on is False
        assert "turned off" in await (await client.get("/console/")).text()  # the history from edfi.control
        trail = await (await client.get("/console/audit")).text()
        assert [(e.user, e.role, e.action, e.count) for e in backend.audit_log] == [
            ("op", "operator", "retry", 1), ("op", "operator", "archive", 2), ("op", "operator", "toggle", 1)]
        assert "the group bad_json · - · -" in trail and "studentAssessments off" in trail
        assert "retry</td><td>the group data-validation-failed · 1001 · State Mathematics Assessment" in trail
        assert "00000001" not in trail  # no student data in the trail

        await client.post("/console/logout", data={"csrf": csrf})
        assert (await client.get("/console/", allow_redirects=False)).status == 303
        viewer_csrf = await login(client, "vi", "vpw")
        log = await (await client.get("/console/errors")).text()
        assert 'name="ids"' not in log and "Retry group" not in log
        for path in ("/console/errors/confirm", "/console/errors/apply", "/console/toggle/apply"):
            response = await client.post(path, data={"ids": "p0o2", "action": "archive", "csrf": viewer_csrf,
                                                     "confirm": "yes", "enabled": "on"})
            assert response.status == 403, path
        assert backend.archived == ["sis.test_scores:0:1", "sis.test_scores:0:2"] and backend.on is False
        assert (await client.post("/console/why", data={"kind": "stateID", "value": "00000004",
                                                        "csrf": viewer_csrf})).status == 200
    finally:
        await client.close()


def _stamped(key: Any, value: Any, ts_ms: int) -> durable.Stamped:
    raw = None if value is None else json.dumps(value).encode()
    return durable.Stamped(key if isinstance(key, bytes) else json.dumps(key).encode(), raw, ts_ms)


def test_sent_figures_from_the_changelogs_by_day_assessment_and_school() -> None:
    zone = data.zone_of("America/Chicago")
    now = dt.datetime(2024, 6, 2, 3, 0, tzinfo=dt.UTC)  # 22:00 on June 1st in Chicago
    today_ms = int(dt.datetime(2024, 6, 1, 20, 0, tzinfo=dt.UTC).timestamp() * 1000)
    yesterday_ms = int(dt.datetime(2024, 6, 1, 4, 0, tzinfo=dt.UTC).timestamp() * 1000)  # 23:00 May 31st there

    def rec(assessment: str, school: int, h: str) -> dict[str, Any]:
        return {"k": {"assessmentIdentifier": assessment}, "s": school, "h": h}

    sent_log = [
        _stamped("1", {"A_1": rec("Math", 1001, "old")}, 1),
        _stamped("1", {"A_1": rec("Math", 1001, "h1"), "B_1": rec("ELA", 1001, "h2")}, 2),  # latest counts
        _stamped("2", {"A_2": rec("Math", 1002, "h3")}, 3),
        _stamped("3", {"A_3": rec("Math", 1002, "h4")}, 4),
        _stamped("3", None, 5),  # the student's records were deleted
    ]
    identity_log = [
        durable.Stamped(b"A_1", json.dumps({"id": "x", "h": "h1"}).encode(), today_ms),
        durable.Stamped(b"B_1", json.dumps({"id": "y", "h": "h2"}).encode(), yesterday_ms),
        durable.Stamped(b"A_2", json.dumps({"id": "z", "h": "stale"}).encode(), today_ms),  # not this content
        durable.Stamped(b"A_3", json.dumps({"id": "w", "h": "h4"}).encode(), today_ms),
    ]
    figures = durable.sent_figures(sent_log, identity_log, zone, now)
    assert figures.today_by_assessment == Counter({"Math": 1}) and figures.today_by_school == Counter({"1001": 1})
    assert figures.year_by_assessment == Counter({"Math": 1, "ELA": 1})
    assert figures.year_by_school == Counter({"1001": 2}) and figures.waiting == 1
    assert (figures.today, figures.year) == (1, 2)
    assert figures.last_ack is not None and figures.last_ack.strftime("%H:%M %Z") == "15:00 CDT"
    # a value Faust wrapped once more as a JSON string reads the same
    wrapped = [durable.Stamped(json.dumps("1").encode(), json.dumps(json.dumps({"A_1": rec("Math", 1, "h1")})).encode(),
                               1)]
    assert durable.sent_figures(wrapped, identity_log[:1], zone, now).today == 1


def test_toggle_history_from_control_records_with_their_time() -> None:
    from streams.codec import codec_for
    from streams.sis.rows import CONTROL_TOPIC

    codec = codec_for(CONTROL_TOPIC)

    def event(resource: str, enabled: Any, ts_ms: int) -> durable.Stamped:
        return durable.Stamped(codec.encode_key({"resource": resource}), codec.encode_value({"enabled": enabled}),
                               ts_ms)

    log = [event("studentAssessments", False, 1_717_200_000_000), event("other", True, 1_717_200_001_000),
           durable.Stamped(b"{bad", b"{bad", 5), event("studentAssessments", True, 1_717_200_060_000)]
    found = durable.toggle_events(log, data.zone_of("America/Chicago"), "studentAssessments")
    assert [(e.enabled, e.at.strftime("%H:%M %Z")) for e in found] == [(False, "19:00 CDT"), (True, "19:01 CDT")]


def test_audit_records_round_trip_newest_first_and_skip_garbage() -> None:
    from streams.console.audit import audit_events

    a = AuditEvent(1000, "op", "operator", "retry", "3 selected letters", 3)
    b = AuditEvent(2000, "op", "operator", "toggle", "studentAssessments off", 1)
    found = audit_events([durable.Stamped(b"op", a.to_json(), 1), durable.Stamped(b"op", b"not json", 2),
                          durable.Stamped(b"op", b.to_json(), 3)])
    assert found == [b, a]
    assert a.log_line() == "console audit: op (operator) retry 3 selected letters: 3 at 1000"
