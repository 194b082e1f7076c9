"""A bigger deterministic SIS history for the fault-injection suite (400 students, about 3,400 events).

It is the load the three fault tests push through the whole product: enough students, scores and changes
that a SIGKILL, an Ed-Fi fault or a poison record lands in the middle of real work, and every rule path
that moves a record (PUT on a score change, DELETE then POST on a date change, DELETE on a score delete,
an enrollment turned State Exclude, a State Student Identifier change) is exercised many times.

Same events for the same arguments: the only randomness is ``random.Random(seed)`` consumed in a fixed
order. Events are the contract's ``{"topic", "key", "value"}`` dicts (Debezium envelope).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

YES = "Yes test in this content area"
MATH, ELA, SCIENCE, HIST_GOV, KELPA, DYSLEXIA_ACADIENCE, LOCAL = 1, 2, 3, 4, 5, 28, 99
HIST_GOV_CHILDREN = (41, 42, 43)
DYSLEXIA_CHILDREN = (281, 282)
# (calendarID, schoolID, exclude); school 3 is excluded, calendar 14 (summer bridge) is excluded
CALENDARS = ((11, 1, False), (12, 2, False), (13, 3, False), (14, 2, True))
PROCTOR = 900_001
FIRST_PERSON = 10_000
FIRST_SCORE = 500_000


class SisHistory:
    """The SIS tables as they change, and the change events that describe them, in order."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.rows: dict[tuple[str, int], dict[str, Any]] = {}
        self.ts = 1_692_172_800_000

    def put(self, topic: str, pk: str, row: dict[str, Any], op: str | None = None) -> None:
        before = self.rows.get((topic, row[pk]))
        self.ts += 250
        self.rows[(topic, row[pk])] = row
        self.events.append({"topic": topic, "key": {pk: row[pk]}, "value": {
            "op": op or ("u" if before else "c"), "before": before, "after": row, "ts_ms": self.ts,
            "source": {"table": topic, "seq": len(self.events)}}})

    def delete(self, topic: str, pk: str, ident: int) -> None:
        before = self.rows.pop((topic, ident))
        self.ts += 250
        self.events.append({"topic": topic, "key": {pk: ident}, "value": {
            "op": "d", "before": before, "after": None, "ts_ms": self.ts,
            "source": {"table": topic, "seq": len(self.events)}}})
        self.events.append({"topic": topic, "key": {pk: ident}, "value": None})  # the Kafka tombstone

    def write(self, path: Path) -> Path:
        path.write_text("".join(json.dumps(e, separators=(",", ":")) + "\n" for e in self.events))
        return path


def _test(tid: int, name: str, state_code: str | None = None, parent: int | None = None, code: str | None = None,
          start: str | None = None, end: str | None = None, end_year: int | None = 2024) -> dict[str, Any]:
    return {"testID": tid, "parentID": parent, "name": name, "code": code, "subject": None,
            "stateCode": state_code, "startDate": start, "endDate": end, "endYear": end_year}


def _reference(h: SisHistory) -> None:
    for sid, state_sid, exclude in ((1, 2101, False), (2, 2102, False), (3, 2103, True)):
        h.put("sis.schools", "schoolID", {"schoolID": sid, "stateSchoolID": state_sid, "name": f"School {sid}",
                                          "exclude": exclude}, op="r")
    for cid, sid, exclude in CALENDARS:
        h.put("sis.calendars", "calendarID", {"calendarID": cid, "schoolID": sid, "endYear": 2024,
                                              "exclude": exclude}, op="r")
    h.put("sis.staff", "personID", {"personID": PROCTOR, "staffStateID": "ST0900001"}, op="r")
    tests = [
        _test(MATH, "KAP Math", "State Mathematics Assessment", start="2023-09-01", end="2024-05-15"),
        _test(ELA, "KAP ELA", "State English Language Arts Assessment", start="2023-09-01", end="2024-05-15"),
        _test(SCIENCE, "KAP Science", "State Science Assessment", start="2024-03-01", end="2024-05-15"),
        _test(HIST_GOV, "KAP History/Gov", "State History/Gov Assessment", start="2024-01-08", end="2024-04-26"),
        _test(KELPA, "KELPA", "Kansas English Language Proficiency Assessment (KELPA)", start="2024-01-16",
              end="2024-03-08"),
        _test(DYSLEXIA_ACADIENCE, "Acadience", "Dyslexia Screener_Acadience", end_year=None),
        _test(LOCAL, "Local benchmark", None, start="2023-09-05"),
    ]
    tests += [_test(tid, f"HG part {i + 1:02d}", parent=HIST_GOV, code=f"{i + 1:02d}", end_year=None)
              for i, tid in enumerate(HIST_GOV_CHILDREN)]
    tests += [_test(tid, f"Acadience {code}", parent=DYSLEXIA_ACADIENCE, code=code, end_year=None)
              for tid, code in zip(DYSLEXIA_CHILDREN, ("ACC", "RATE"), strict=True)]
    for row in tests:
        h.put("sis.tests", "testID", row, op="r")


SCHOOL_MONTHS = (8, 9, 10, 11, 12, 1, 2, 3, 4, 5, 6)


def _day(rng: random.Random, first_month: int, last_month: int) -> str:
    """A day between two months of the 2023-24 school year (months as on a calendar: 9 .. 5 wraps)."""
    months = SCHOOL_MONTHS[SCHOOL_MONTHS.index(first_month):SCHOOL_MONTHS.index(last_month) + 1]
    month = rng.choice(months)
    year = 2023 if month >= 7 else 2024
    return f"{year}-{month:02d}-{rng.randint(1, 28):02d}"


def build_district(students: int = 400, seed: int = 7003) -> SisHistory:
    """The history: reference rows, students and enrollments, a year of scores, then a tail of changes."""
    rng = random.Random(seed)
    h = SisHistory()
    _reference(h)
    people = list(range(FIRST_PERSON, FIRST_PERSON + students))
    enrollment_ids: list[int] = []
    for pid in people:
        h.put("sis.students", "personID", {"personID": pid, "stateID": f"{7_000_000_000 + pid}",
                                           "lastName": f"Last{pid % 97}", "firstName": f"First{pid % 89}"})
        cal = rng.choices([11, 12, 13, 14], weights=[46, 46, 4, 4])[0]
        grade = f"{rng.randint(3, 12):02d}"
        eid = 2 * pid
        h.put("sis.enrollments", "enrollmentID", {
            "enrollmentID": eid, "personID": pid, "calendarID": cal, "grade": grade, "startDate": "2023-08-16",
            "endDate": "2024-01-19" if rng.random() < 0.05 else None, "serviceType": "P",
            "stateExclude": rng.random() < 0.03, "noShow": rng.random() < 0.02,
            "mathAssessmentType": YES, "readingAssessmentType": YES if rng.random() < 0.8 else None,
            "scienceAssessmentType": YES if rng.random() < 0.5 else None,
            "kelpaExam": "Yes" if rng.random() < 0.1 else None})
        enrollment_ids.append(eid)
        if rng.random() < 0.2:   # a partial (S) enrollment at the other school, overlapping the primary one
            h.put("sis.enrollments", "enrollmentID", {
                "enrollmentID": eid + 1, "personID": pid, "calendarID": 12 if cal == 11 else 11, "grade": grade,
                "startDate": "2023-10-02", "endDate": "2024-04-30", "serviceType": "S", "stateExclude": False,
                "noShow": False, "mathAssessmentType": YES})
            enrollment_ids.append(eid + 1)

    scores: list[int] = []
    next_score = FIRST_SCORE

    def score(pid: int, tid: int, date: str | None, result: str | None, scale: str | None,
              proctor: int | None = None) -> None:
        nonlocal next_score
        h.put("sis.test_scores", "scoreID", {
            "scoreID": next_score, "personID": pid, "testID": tid, "date": date, "result": result,
            "scaleScore": scale, "rawScore": None, "percent": None, "percentile": None,
            "proctorPersonID": proctor})
        scores.append(next_score)
        next_score += 1

    def level() -> str:
        return f"Performance Level {rng.randint(1, 4)}"

    for pid in people:
        score(pid, MATH, _day(rng, 9, 5), level(), str(rng.randint(220, 380)))
        score(pid, ELA, _day(rng, 9, 5), level(), str(rng.randint(220, 380)))
        if rng.random() < 0.4:
            score(pid, SCIENCE, _day(rng, 3, 5), level(), str(rng.randint(220, 380)))
        if rng.random() < 0.25:
            date = _day(rng, 1, 4)
            score(pid, HIST_GOV, date, None, str(rng.randint(1, 40)))
            for tid in HIST_GOV_CHILDREN:
                if rng.random() < 0.85:
                    score(pid, tid, date, f"0{rng.randint(1, 6)}", None)
        if rng.random() < 0.3:
            date = _day(rng, 9, 11)
            score(pid, DYSLEXIA_ACADIENCE, date, None, str(rng.randint(100, 600)))
            for tid in DYSLEXIA_CHILDREN:
                score(pid, tid, date, rng.choice(["At or Above Benchmark", "Below Benchmark"]), None)
        if rng.random() < 0.08:
            score(pid, KELPA, _day(rng, 1, 3), f"Level {rng.randint(1, 4)}", str(rng.randint(300, 700)), PROCTOR)
        if rng.random() < 0.25:
            score(pid, LOCAL, _day(rng, 9, 12), None, str(rng.randint(100, 300)))
        if rng.random() < 0.03:   # last year's result: out of the scope year
            score(pid, MATH, f"2023-04-{rng.randint(1, 28):02d}", level(), str(rng.randint(220, 380)))

    # The tail: corrections, moved dates, deletes, exclusions and State Student Identifier changes.
    live = list(scores)
    rng.shuffle(live)
    for sid in live[:450]:
        row = dict(h.rows[("sis.test_scores", sid)])
        if row["scaleScore"] is not None:
            row["scaleScore"] = str(int(row["scaleScore"]) + rng.randint(1, 9))
        else:
            row["result"] = f"0{rng.randint(1, 6)}" if row["testID"] in HIST_GOV_CHILDREN else "Below Benchmark"
        h.put("sis.test_scores", "scoreID", row)
    for sid in live[450:530]:
        row = dict(h.rows[("sis.test_scores", sid)])
        row["date"] = _day(rng, 9, 5) if rng.random() < 0.9 else "2024-07-15"   # some leave the scope year
        h.put("sis.test_scores", "scoreID", row)
    for sid in live[530:630]:
        h.delete("sis.test_scores", "scoreID", sid)
    for eid in rng.sample(enrollment_ids, 12):
        h.put("sis.enrollments", "enrollmentID", {**h.rows[("sis.enrollments", eid)], "stateExclude": True})
    for pid in rng.sample(people, 4):
        h.put("sis.students", "personID", {**h.rows[("sis.students", pid)], "stateID": f"{8_000_000_000 + pid}"})
    for pid in rng.sample(people, 20):   # late results after the changes
        score(pid, MATH, _day(rng, 3, 5), level(), str(rng.randint(220, 380)))
    return h


def write_district(path: Path, students: int = 400, seed: int = 7003) -> Path:
    return build_district(students, seed).write(path)


def read_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
