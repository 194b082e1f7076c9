"""A generated district of any size, as an events file (contract format), for the benchmarks."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

STATE_TESTS = [(1, "State Mathematics Assessment"), (2, "State English Language Arts Assessment"),
               (3, "State Science Assessment"), (4, "Kansas English Language Proficiency Assessment (KELPA)")]


def events(students: int, scores_per_student: int = 5, seed: int = 7,
           second_enrollment_share: float = 0.5) -> Iterator[dict[str, Any]]:
    """``second_enrollment_share`` of the students have a second (special-service) enrollment."""
    rng = random.Random(seed)
    ts = 1_700_000_000_000

    def ev(topic: str, pk: str, row: dict[str, Any]) -> dict[str, Any]:
        nonlocal ts
        ts += 1
        return {"topic": topic, "key": {pk: row[pk]},
                "value": {"op": "c", "before": None, "after": row, "ts_ms": ts, "source": {"table": topic}}}

    schools = max(2, students // 500)
    for s in range(1, schools + 1):
        yield ev("sis.schools", "schoolID", {"schoolID": s, "stateSchoolID": 1000 + s, "name": f"S{s}",
                                             "exclude": s == schools})
        yield ev("sis.calendars", "calendarID", {"calendarID": s, "schoolID": s, "endYear": 2024, "exclude": False})
    for tid, code in STATE_TESTS:
        yield ev("sis.tests", "testID", {"testID": tid, "parentID": None, "name": code, "code": None,
                                         "subject": None, "stateCode": code, "startDate": "2024-02-01",
                                         "endDate": "2024-04-30", "endYear": 2024})
    yield ev("sis.staff", "personID", {"personID": 9_000_000, "staffStateID": "ST1"})
    score_id = 1
    for p in range(1, students + 1):
        yield ev("sis.students", "personID", {"personID": p, "stateID": f"{p:010d}"})
        yield ev("sis.enrollments", "enrollmentID", {
            "enrollmentID": 2 * p, "personID": p, "calendarID": rng.randint(1, schools), "grade": "06",
            "startDate": "2023-08-15", "endDate": None, "serviceType": "P", "stateExclude": rng.random() < 0.03,
            "noShow": False, "mathAssessmentType": "Yes test in this content area"})
        if rng.random() < second_enrollment_share:
            yield ev("sis.enrollments", "enrollmentID", {
                "enrollmentID": 2 * p + 1, "personID": p, "calendarID": rng.randint(1, schools), "grade": "06",
                "startDate": "2024-01-10", "endDate": None, "serviceType": "S", "stateExclude": False,
                "noShow": False})
        for _ in range(scores_per_student):
            tid = rng.choice(STATE_TESTS)[0]
            month = rng.randint(1, 6)
            yield ev("sis.test_scores", "scoreID", {
                "scoreID": score_id, "personID": p, "testID": tid, "date": f"2024-0{month}-1{rng.randint(0, 9)}",
                "scaleScore": str(rng.randint(150, 350)), "result": None,
                "proctorPersonID": 9_000_000 if tid == 4 else None})
            score_id += 1


def write(path: Path, students: int, scores_per_student: int = 5) -> int:
    count = 0
    with open(path, "w", encoding="utf-8") as handle:
        for event in events(students, scores_per_student):
            handle.write(json.dumps(event) + "\n")
            count += 1
    return count
