"""Issue 19, part 4: with two workers, "Why?" answers from the worker that holds the student, whichever
worker was asked (each worker advertises its web URL in the group's assignment; the console forwards the
POST with the caller's credentials)."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from streams.demo.emulator_thread import free_port
from streams.demo.processes import ChildProcess, worker_command
from streams.demo.stack import LocalStack
from tests.support.scenario import build


def fetch(url: str, token: str, fields: dict[str, str] | None = None) -> tuple[int, str]:
    data = urllib.parse.urlencode(fields).encode() if fields is not None else None
    request = urllib.request.Request(url, data=data, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_why_is_answered_by_the_worker_holding_the_student(tmp_path: Path) -> None:
    events = build(tmp_path / "events.jsonl")
    config = tmp_path / "config.yaml"
    config.write_text("schoolYear: {startDate: 2023-07-01, endDate: 2024-06-30, endYear: 2024}\n")
    (tmp_path / "stack").mkdir()
    with LocalStack(config, events, partitions=4, workdir=tmp_path / "stack") as stack:
        stack.wait_ready()
        second_port = free_port()
        second = ChildProcess("worker2", worker_command(), {**stack.env, "EDFI_STREAM_WORKER__WEB_PORT":
                                                            str(second_port)}, tmp_path / "worker2.log")
        try:
            stack.produce(events)
            stack.wait_idle()
            bases = [stack.web_url, f"http://127.0.0.1:{second_port}"]
            token = stack.env["EDFI_STREAM_WEB_VIEWER_TOKEN"]
            latest: dict[int, str] = {}  # each student's current State Student Identifier
            for line in events.read_text().splitlines():
                event = json.loads(line)
                if event["topic"] == "sis.students" and event["value"] and event["value"].get("after"):
                    latest[event["value"]["after"]["personID"]] = event["value"]["after"]["stateID"]
            students = sorted(latest.values())
            deadline = time.monotonic() + 120
            while True:  # both workers ready: the group has settled with two members
                statuses = [fetch(base + "/readyz", token)[0] for base in bases]
                if statuses == [200, 200]:
                    break
                assert time.monotonic() < deadline, statuses
                time.sleep(1)
            stack.wait_idle()
            csrf = {}
            for base in bases:
                page = fetch(base + "/console/why", token)[1]
                found = re.search(r'name="csrf" value="([^"]+)"', page)
                assert found, page
                csrf[base] = found.group(1)
            forwarded = acknowledged = 0
            for sid in students:
                for base in bases:
                    status, page = fetch(base + "/console/why", token,
                                         {"kind": "stateID", "value": sid, "csrf": csrf[base]})
                    assert status == 200 and "the rules' decisions now" in page, (base, sid, page[-600:])
                    forwarded += "Answered by the worker that holds this student (http://127.0.0.1:" in page
                    # every record reached the ODS: its acknowledgement is found whichever worker holds the
                    # record's identity partition (streams/console/identity.py)
                    assert "not yet (in flight" not in page, (base, sid, page[-900:])
                    acknowledged += page.count("yes (id ")
            assert forwarded >= len(students) - 1, forwarded  # each student is remote for one of the two
            assert acknowledged >= 2 * 4, acknowledged  # the scenario's records, seen from both workers
            # the JSON /explain (the CLI's `explain --worker`) is routed the same way: both workers give the
            # same answer for every student, whichever holds it
            answered = 0
            for person in sorted(latest):
                answers = []
                for base in bases:
                    request = urllib.request.Request(base + "/explain", data=json.dumps({"personID": person}).encode(),
                                                     headers={"Authorization": f"Bearer {token}",
                                                              "Content-Type": "application/json"})
                    with urllib.request.urlopen(request, timeout=30) as response:
                        answers.append(json.loads(response.read())["decisions"])
                assert answers[0] == answers[1], (person, answers)
                assert all(d["personID"] == person for d in answers[0])
                answered += bool(answers[0])
            assert answered >= 4, answered
            status, page = fetch(bases[0] + "/console/why", token, {"kind": "stateID", "value": "99999999",
                                                                     "csrf": csrf[bases[0]]})
            assert status == 200 and "Nothing found" in page and "the others were asked too" in page
        finally:
            second.stop()
