"""What a fault run's failure message says about the records it lost: for each, the student's personID (from
the events file) and the worker's own "why" for that student (POST /explain), so a loss can be traced to the
stage that dropped it (an event never read, a table row missing, a write never sent)."""

from __future__ import annotations

import json
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

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


def explain(stack: LocalStack, person_id: int) -> list[str]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{stack.web_port}/explain", data=json.dumps({"personID": person_id}).encode(),
        headers={"Content-Type": "application/json", **stack.auth_headers()})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            answer: dict[str, Any] = json.loads(response.read())
    except Exception as error:  # the worker may be gone: the diagnosis must not hide the failure
        return [f"/explain failed: {error}"]
    return [str(d.get("message", d)) for d in answer.get("decisions", [])][:6] or [json.dumps(answer)[:300]]


def lost_records(stack: LocalStack, expected: list[dict[str, Any]], actual: list[dict[str, Any]],
                 events_file: Path, limit: int = 5) -> list[str]:
    """Lines naming up to ``limit`` records the run lost, each with the worker's explanation."""
    missing = Counter(map(canonical, expected)) - Counter(map(canonical, actual))
    by_state = person_ids(events_file)
    out = [f"lost {sum(missing.values())} records; the first {min(limit, len(missing))}:"]
    for text in list(missing)[:limit]:
        record = json.loads(text)
        state_id = str(record.get("studentReference", {}).get("studentUniqueId"))
        person = by_state.get(state_id)
        out.append(f"  {record.get('studentAssessmentIdentifier')} (personID {person})")
        if person is not None:
            out.extend(f"    why: {line}" for line in explain(stack, person))
    return out
