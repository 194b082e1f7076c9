"""Issue 16 through `simulate` (the same rules and egress code as the worker, against the emulator): the
giving score's proctor and the end of the scope-year exception reach the ODS; resync plans nothing more."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from streams.config import load_settings
from streams.resync.diff import plan_resync
from streams.resync.run import Scope, desired_records
from streams.rules.config import RuleConfig
from streams.rules.engine import InMemoryStores, RuleEngine
from streams.simulate.run import run_simulation
from streams.sis.events import parse_change
from streams.sis.rows import TOPIC_ROWS

KELPA = "Kansas English Language Proficiency Assessment (KELPA)"


class History:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.rows: dict[tuple[str, int], dict[str, Any]] = {}

    def put(self, topic: str, row: dict[str, Any]) -> None:
        pk = TOPIC_ROWS[topic][1]
        before = self.rows.get((topic, row[pk]))
        self.rows[(topic, row[pk])] = row
        self.events.append({"topic": topic, "key": {pk: row[pk]}, "value": {
            "op": "u" if before else "c", "before": before, "after": row, "ts_ms": 1000 + len(self.events)}})


def history() -> History:
    h = History()
    h.put("sis.schools", {"schoolID": 1, "stateSchoolID": 101, "name": "S"})
    h.put("sis.calendars", {"calendarID": 10, "schoolID": 1, "endYear": 2024})
    h.put("sis.staff", {"personID": 77, "staffStateID": "ST77"})
    for person in (1, 2, 3):
        h.put("sis.students", {"personID": person, "stateID": f"0000000{person}"})
        h.put("sis.enrollments", {"enrollmentID": 100 + person, "personID": person, "calendarID": 10,
                                  "grade": "06", "startDate": "2023-08-15", "serviceType": "P"})
    h.put("sis.tests", {"testID": 5, "name": "KELPA", "stateCode": KELPA, "endYear": 2024})
    h.put("sis.tests", {"testID": 6, "name": "Math", "stateCode": "State Mathematics Assessment", "endYear": 2024})
    # student 1: an older KELPA score with a proctor, the newer one without
    h.put("sis.test_scores", {"scoreID": 1, "personID": 1, "testID": 5, "date": "2024-02-01", "scaleScore": "300",
                              "proctorPersonID": 77})
    h.put("sis.test_scores", {"scoreID": 2, "personID": 1, "testID": 5, "date": "2024-03-01", "scaleScore": "310"})
    # students 2 and 3: Math records sent, then the Math test leaves its scope year
    math2 = {"scoreID": 3, "personID": 2, "testID": 6, "date": "2024-03-20", "scaleScore": "250"}
    h.put("sis.test_scores", math2)
    h.put("sis.test_scores", {"scoreID": 4, "personID": 3, "testID": 6, "date": "2024-03-20", "scaleScore": "260"})
    h.put("sis.tests", {"testID": 6, "name": "Math", "stateCode": "State Mathematics Assessment", "endYear": 2023})
    h.put("sis.test_scores", {**math2, "date": "2024-07-15"})  # student 2's score date leaves the year
    return h


def test_simulate_reports_the_giving_score_and_ends_the_exception(tmp_path: Path) -> None:
    h = history()
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(e) + "\n" for e in h.events))
    summary = run_simulation(events, load_settings(environ={}), tmp_path / "out")
    assert not summary.dead_letters
    ods = {r["studentAssessmentIdentifier"]: r for r in json.loads((tmp_path / "out" / "ods.json").read_text())}
    assert sorted(ods) == ["KELPA_00000001_2024", "Math_00000003_2024"]
    kelpa = ods["KELPA_00000001_2024"]
    assert kelpa["administrationDate"].startswith("2024-03-01")
    assert "proctorStaffReference" not in (kelpa.get("_ext") or {}).get("ksde", {})
    assert ods["Math_00000003_2024"]["scoreResults"][0]["result"] == "260"  # kept as it was

    # resync over the same SIS: nothing to do (the kept record is left, the deleted one is not wanted)
    engine = RuleEngine(RuleConfig(), **InMemoryStores().as_kwargs())
    engine.set_enabled(False)
    for e in h.events:
        engine.on_change(parse_change(e["topic"], e["key"], e["value"]))
    kept: set[str] = set()
    desired = desired_records(engine, Scope(), kept)
    plan = plan_resync(desired, list(ods.values()), {key: {} for key in ods}, kept)
    assert plan.actions == []
