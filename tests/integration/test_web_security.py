"""No student data without authentication (issue 13, part 1), probed against a running worker on the sample
district: Faust's table and router views are gone, /explain needs a viewer, the open endpoints carry no
State Student Identifier, name or personID, and a request naming another Host is refused."""

from __future__ import annotations

import base64
import json
import re
import urllib.request
from pathlib import Path
from typing import Any

from streams.demo.stack import LocalStack
from streams.sample.district import SAMPLE_CONFIG, SAMPLE_EVENTS


def call(url: str, *, data: Any = None, headers: dict[str, str] | None = None,
         method: str | None = None) -> tuple[int, bytes]:
    body = json.dumps(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def students() -> list[dict[str, Any]]:
    rows = {}
    for line in SAMPLE_EVENTS.read_text().splitlines():
        event = json.loads(line)
        if event["topic"] == "sis.students" and event["value"] and event["value"].get("after"):
            row = event["value"]["after"]
            rows[row["personID"]] = row
    return list(rows.values())


def test_student_data_needs_a_login_and_the_open_endpoints_carry_none(tmp_path: Path) -> None:
    with LocalStack(SAMPLE_CONFIG, SAMPLE_EVENTS, workdir=tmp_path) as stack:
        stack.produce(SAMPLE_EVENTS)
        stack.wait_idle(240)
        base = stack.web_url
        viewer = stack.auth_headers("viewer")
        people = students()
        assert len(people) >= 50

        # the open endpoints answer anyone, and no student's identifier or name is in them
        scraped = ""
        for path in ("/metrics", "/healthz", "/readyz"):
            status, body = call(base + path)
            assert status in (200, 503), (path, status)
            scraped += body.decode()
        assert "edfi_stream_" in scraped
        for row in people:
            assert row["stateID"] not in scraped, row["stateID"]
            for name in (row["lastName"], row["firstName"]):
                assert not re.search(rf"\b{re.escape(name)}\b", scraped), name
            assert not re.search(rf'="{row["personID"]}"', scraped)  # no personID as a label value

        # Faust's own views are off: not even a viewer reads a table row or the cluster's layout
        for path in ("/table/", "/table/students/101/", "/router/", "/graph/", "/stats/"):
            assert call(base + path)[0] == 401, path  # deny by default
            assert call(base + path, headers=viewer)[0] == 404, path

        # /explain: refused without credentials or with wrong ones, answered for a viewer, by POST only
        person = people[0]["personID"]
        assert call(base + "/explain", data={"personID": person})[0] == 401
        wrong = {"Authorization": "Bearer " + "x" * 32}
        assert call(base + "/explain", data={"personID": person}, headers=wrong)[0] == 401
        status, body = call(base + "/explain", data={"personID": person}, headers=viewer)
        assert status == 200 and json.loads(body)["decisions"], body
        basic = base64.b64encode(f"operator:{stack.env['EDFI_STREAM_WEB_OPERATOR_PASSWORD']}".encode()).decode()
        assert call(base + "/explain", data={"personID": person}, headers={"Authorization": "Basic " + basic}
                    )[0] == 200
        bad_basic = base64.b64encode(b"operator:guess").decode()
        assert call(base + "/explain", data={"personID": person},
                    headers={"Authorization": "Basic " + bad_basic})[0] == 401
        status, _ = call(f"{base}/explain?personID={person}", headers=viewer)
        assert status == 405  # ids never in a URL

        # by scoreID and by identifier, through the index; a score that arrives later is found too (the
        # index follows the real Faust table's writes)
        status, body = call(base + "/explain", data={"scoreID": 5001}, headers=viewer)
        found = json.loads(body)["decisions"]
        assert status == 200 and found and all(d["scoreID"] == 5001 for d in found), body
        said = next(d["studentAssessmentIdentifier"] for d in found if d.get("studentAssessmentIdentifier"))
        status, body = call(base + "/explain", data={"id": said}, headers=viewer)
        assert status == 200 and json.loads(body)["decisions"][0]["studentAssessmentIdentifier"] == said
        later = tmp_path / "later.jsonl"
        later.write_text(json.dumps({"topic": "sis.test_scores", "key": {"scoreID": 987654}, "value": {
            "before": None, "op": "c", "ts_ms": 1692999999000, "source": {"table": "TestScore", "seq": 99999},
            "after": {"scoreID": 987654, "personID": 101, "testID": 1, "date": "2024-03-25",
                      "result": "Performance Level 3", "scaleScore": "301"}}}) + "\n")
        stack.produce(later)
        stack.wait_idle(120)
        status, body = call(base + "/explain", data={"scoreID": 987654}, headers=viewer)
        assert status == 200 and [d["scoreID"] for d in json.loads(body)["decisions"]] == [987654], body

        # a page fetched through another name (DNS rebinding) is refused, even with credentials
        assert call(base + "/metrics", headers={"Host": "attacker.example"})[0] == 421
        assert call(base + "/explain", data={"personID": person},
                    headers={**viewer, "Host": "attacker.example:6066"})[0] == 421
        assert call(base + "/healthz", headers={"Host": f"localhost:{stack.web_port}"})[0] == 200

        # the CLI's explain reaches the worker with the token from the environment
        from typer.testing import CliRunner

        from streams.cli.main import app

        token = {"EDFI_STREAM_WEB_VIEWER_TOKEN": stack.env["EDFI_STREAM_WEB_VIEWER_TOKEN"]}
        cli = CliRunner().invoke(app, ["explain", "--worker", base, "--person-id", str(person)], env=token)
        assert cli.exit_code == 0 and "current state" in cli.output, cli.output
        log = (tmp_path / "worker.log").read_text(errors="replace")
        assert stack.env["EDFI_STREAM_WEB_VIEWER_TOKEN"] not in log
