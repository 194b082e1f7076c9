"""What a fault run's failure message says about the records it lost: for each, the student's personID (from
the events file) and the worker's own "why" for that student (POST /explain), so a loss can be traced to the
stage that dropped it (an event never read, a table row missing, a write never sent)."""

from __future__ import annotations

import json
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

from streams.demo.run import comparable
from streams.demo.stack import LocalStack
from tests.faults.support import canonical


def person_ids(events_file: Path) -> dict[str, int]:
    """stateID -> personID, over every student row of the events file (a stateID change keeps both)."""
    found: dict[str, int] = {}
    for line in events_file.read_text().splitlines():
        event = json.loads(line)
        value = event.get("value")
        row = value.get("after") if isinstance(value, dict) and "after" in value else value  # a CDC envelope
        if event.get("topic") == "sis.students" and isinstance(row, dict) and "stateID" in row:
            found[str(row["stateID"])] = int(row["personID"])
    return found


def explain(stack: LocalStack, person_id: int, about: str = "") -> list[str]:
    """The worker's decisions for the student, those naming ``about`` (a studentAssessmentIdentifier) first."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{stack.web_port}/explain", data=json.dumps({"personID": person_id}).encode(),
        headers={"Content-Type": "application/json", **stack.auth_headers()})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            answer: dict[str, Any] = json.loads(response.read())
    except Exception as error:  # the worker may be gone: the diagnosis must not hide the failure
        return [f"/explain failed: {error}"]
    lines = [str(d.get("message", d)) for d in answer.get("decisions", [])]
    if about:
        lines.sort(key=lambda line: about not in line)
    return lines[:6] or [json.dumps(answer)[:300]]


def differences(want: dict[str, Any], got: dict[str, Any] | None, width: int = 160) -> list[str]:
    """The top-level fields where the ODS's record (``got``) differs from simulate's (``want``)."""
    if got is None:
        return ["not in the ODS"]
    out = []
    for name in sorted(set(want) | set(got)):
        if want.get(name) != got.get(name):
            out.append(f"{name}: simulate {json.dumps(want.get(name), sort_keys=True)[:width]} "
                       f"| ODS {json.dumps(got.get(name), sort_keys=True)[:width]}")
    return out


def lost_records(stack: LocalStack, expected: list[dict[str, Any]], actual: list[dict[str, Any]],
                 events_file: Path, limit: int = 5) -> list[str]:
    """Lines naming up to ``limit`` records the run lost, each with what differs from the ODS's record of the
    same studentAssessmentIdentifier and the worker's explanation."""
    missing = Counter(map(canonical, expected)) - Counter(map(canonical, actual))
    in_ods = {r.get("studentAssessmentIdentifier"): comparable(r) for r in actual}
    by_state = person_ids(events_file)
    out = [f"lost {sum(missing.values())} records; the first {min(limit, len(missing))}:"]
    for text in list(missing)[:limit]:
        record = json.loads(text)
        said = record.get("studentAssessmentIdentifier")
        state_id = str(record.get("studentReference", {}).get("studentUniqueId"))
        person = by_state.get(state_id)
        out.append(f"  {said} (personID {person})")
        out.extend(f"    differs: {line}" for line in differences(record, in_ods.get(said)))
        if person is not None:
            out.extend(f"    why: {line}" for line in explain(stack, person, str(said)))
    return out
