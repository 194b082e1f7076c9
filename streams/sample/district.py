"""The bundled sample district: a deterministic stream of SIS change events for the demo and the tests.

It exists so that `edfi-stream demo`, `simulate` and the integration tests exercise every rule of seed 003
on data a reader can follow: 3 schools (one excluded), the 2023-24 calendars (one excluded), 60 students,
3 staff, enrollments with the awkward cases (overlapping P+S at two schools, State Exclude, No Show, one
ending mid-year), all 16 state tests of the Assessment Identifier table (History/Gov and Dyslexia with
child tests), a local test, a year of scores (with some out of the scope year and some on days with no
active enrollment) and then a tail of changes (updates, a date change, a delete and its tombstone, an
enrollment turned State Exclude, a State Student Identifier change).

Same bytes on every run: the only randomness is ``random.Random(SEED)`` consumed in a fixed order, and the
committed ``data/sample-district.jsonl`` is checked against :func:`sample_events` by a test.
Regenerate with ``python -m streams.sample.district``.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).parent / "data"
SAMPLE_EVENTS = DATA_DIR / "sample-district.jsonl"
SAMPLE_CONFIG = DATA_DIR / "config.yaml"

SEED = 20240
BASE_TS_MS = 1_692_172_800_000  # 2023-08-16T08:00:00Z, the first day of school
YES = "Yes test in this content area"
NO = "No test in this content area"

TABLES = {"sis.students": ("Student", "personID"), "sis.staff": ("Staff", "personID"),
          "sis.schools": ("School", "schoolID"), "sis.calendars": ("Calendar", "calendarID"),
          "sis.enrollments": ("Enrollment", "enrollmentID"), "sis.tests": ("Test", "testID"),
          "sis.test_scores": ("TestScore", "scoreID")}

# Schools: (schoolID, stateSchoolID, name, exclude). School 3 is excluded from state reporting.
SCHOOLS = [(1, 1101, "Prairie View Elementary", False), (2, 1102, "Flint Hills Junior/Senior High", False),
           (3, 1103, "Bluestem Learning Center", True)]
# Calendars of 2023-24: (calendarID, schoolID, endYear, exclude). Calendar 14 (a summer-bridge calendar)
# is excluded.
CALENDARS = [(11, 1, 2024, False), (12, 2, 2024, False), (13, 3, 2024, False), (14, 2, 2024, True)]
STAFF = [(901, "ST0000901"), (902, "ST0000902"), (903, "ST0000903")]
KELPA_PROCTOR = 901

# State tests: the 16 assessment identifiers of seed 003's table, as SIS tests with stateCode.
MATH, ELA, SCIENCE, HIST_GOV, KELPA, COMP_AGRIC, ANIMAL, PLANT = 1, 2, 3, 4, 5, 6, 7, 8
HIST_GOV_CHILDREN = {"01": 41, "02": 42, "03": 43}
DYSLEXIA_SCREENERS = ["Acadience", "AIMSPlus", "easyCBM", "FASTBridge", "iReady", "KS Alternate Screener",
                      "Other", "Renaissance Star"]
DYSLEXIA_PARENT = {name: 20 + i for i, name in enumerate(DYSLEXIA_SCREENERS)}
# Child tests (ACC accuracy, RATE fluency rate) of the three screeners the district uses.
DYSLEXIA_CHILDREN = {"Acadience": (201, 202), "FASTBridge": (231, 232), "iReady": (241, 242)}
LOCAL_TEST = 99

FIRST_NAMES = ["Ava", "Liam", "Mia", "Noah", "Emma", "Eli", "Zoe", "Owen", "Lily", "Jack", "Ruby", "Leo",
               "Nora", "Caleb", "Ivy", "Mason", "Hazel", "Wyatt", "Cora", "Levi"]
LAST_NAMES = ["Anderson", "Baker", "Carter", "Diaz", "Evans", "Fischer", "Garcia", "Hughes", "Iverson",
              "Johnson", "Kim", "Lopez", "Miller", "Nguyen", "Olsen", "Patel", "Quinn", "Reyes", "Schmidt",
              "Thompson"]
GRADES = ["03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13"]
N_STUDENTS = 60
FIRST_PERSON = 101

# Person ids with a special role (see the module docstring and tests/unit/sample/).
P_OVERLAP = 104          # grade 06: P enrollment at school 2 and an overlapping S enrollment at school 1
P_STATE_EXCLUDE = 105    # enrollment marked State Exclude
P_NO_SHOW = 106          # enrollment marked No Show
P_ENDED = 107            # enrollment ended mid-year; a later score has no active enrollment
P_EXCLUDED_CALENDAR = 108
P_LATE_EXCLUDE = 109     # enrollment turned State Exclude in the tail
P_STATEID_CHANGE = 110   # State Student Identifier corrected in the tail
P_EXCLUDED_SCHOOL = (157, 158, 159)
ELL = (111, 115, 120, 126, 133)   # KELPA takers


def _state_id(person_id: int) -> str:
    return f"{7_000_000_000 + person_id * 7:010d}"


class _Stream:
    """Appends envelopes with increasing ts_ms and source.seq."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.seq = 0

    def emit(self, topic: str, op: str, before: dict[str, Any] | None, after: dict[str, Any] | None,
             gap_ms: int = 1000) -> None:
        table, pk = TABLES[topic]
        self.seq += 1
        row = after if after is not None else before
        assert row is not None
        value = {"before": before, "after": after, "op": op, "ts_ms": BASE_TS_MS + self.seq * gap_ms,
                 "source": {"table": table, "seq": self.seq}}
        self.events.append({"topic": topic, "key": {pk: row[pk]}, "value": value})

    def tombstone(self, topic: str, key: dict[str, Any]) -> None:
        self.events.append({"topic": topic, "key": key, "value": None})


def _enrollment(eid: int, pid: int, cal: int, grade: str, start: str = "2023-08-16", end: str | None = None,
                service: str = "P", state_exclude: bool = False, no_show: bool = False) -> dict[str, Any]:
    g = int(grade)
    tested = g in (3, 4, 5, 6, 7, 8, 10)
    return {"enrollmentID": eid, "personID": pid, "calendarID": cal, "grade": grade, "startDate": start,
            "endDate": end, "serviceType": service, "stateExclude": state_exclude, "noShow": no_show,
            "mathAssessmentType": YES if tested else None, "readingAssessmentType": YES if tested else None,
            "scienceAssessmentType": YES if g in (5, 8, 11) else None,
            "kelpaExam": "KELPA for current ESOL students only" if pid in ELL else None,
            "compAgricAssessment": "COMPAGRIC - Test in Power, Structural, and Tech" if g == 12 else None,
            "animalSystemsAssessment": YES if g == 11 else None,
            "plantSystemsAssessment": "PLANTSYSTEMS - Test in Horticulture Module" if g == 12 else None}


def _test(tid: int, name: str, state_code: str | None = None, parent: int | None = None, code: str | None = None,
          subject: str | None = None, start: str | None = None, end: str | None = None,
          end_year: int | None = 2024) -> dict[str, Any]:
    return {"testID": tid, "parentID": parent, "name": name, "code": code, "subject": subject,
            "stateCode": state_code, "startDate": start, "endDate": end, "endYear": end_year}


def _tests() -> list[dict[str, Any]]:
    out = [
        _test(MATH, "KAP Mathematics", "State Mathematics Assessment", start="2024-03-04", end="2024-04-26"),
        _test(ELA, "KAP English Language Arts", "State English Language Arts Assessment",
              start="2024-03-04", end="2024-04-26"),
        _test(SCIENCE, "KAP Science", "State Science Assessment", start="2024-03-18", end="2024-04-26"),
        _test(HIST_GOV, "KAP History/Government", "State History/Gov Assessment", start="2024-01-08",
              end="2024-04-26"),
        _test(KELPA, "KELPA", "Kansas English Language Proficiency Assessment (KELPA)", start="2024-01-16",
              end="2024-03-08"),
        _test(COMP_AGRIC, "CTE Comprehensive Agriculture", "Comprehensive Agriculture Assessment",
              end_year=None),
        _test(ANIMAL, "CTE Animal Systems", "Animal Systems Assessment", end_year=None),
        _test(PLANT, "CTE Plant Systems", "Plant Systems Assessment", end_year=None),
    ]
    for code, tid in HIST_GOV_CHILDREN.items():
        label = {"01": "Claim/Thesis", "02": "Evidence", "03": "Reasoning"}[code]
        out.append(_test(tid, f"History/Gov {label} Score", parent=HIST_GOV, code=code, subject="Hist/Gov"))
    for name, tid in DYSLEXIA_PARENT.items():
        out.append(_test(tid, f"Dyslexia Screener - {name}", f"Dyslexia Screener_{name}", end_year=None))
        if name in DYSLEXIA_CHILDREN:
            acc, rate = DYSLEXIA_CHILDREN[name]
            out.append(_test(acc, f"{name} Accuracy", parent=tid, code="ACC", end_year=None))
            out.append(_test(rate, f"{name} Rate", parent=tid, code="RATE", end_year=None))
    out.append(_test(LOCAL_TEST, "District Reading Benchmark (local)", None, start="2023-09-05"))
    return out


class _Scores:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.next_id = 5001
        self.rows: list[dict[str, Any]] = []

    def add(self, pid: int, tid: int, date: str | None, result: str | None = None,
            scale: str | None = None, proctor: int | None = None) -> dict[str, Any]:
        row = {"scoreID": self.next_id, "personID": pid, "testID": tid, "date": date, "result": result,
               "scaleScore": scale, "rawScore": None, "percent": None, "percentile": None,
               "proctorPersonID": proctor}
        self.next_id += 1
        self.rows.append(row)
        return row

    def level(self) -> str:
        return f"Performance Level {self.rng.randint(1, 4)}"

    def scale(self, low: int = 220, high: int = 380) -> str:
        return str(self.rng.randint(low, high))

    def day(self, month: int, low: int = 4, high: int = 26, year: int = 2024) -> str:
        return f"{year}-{month:02d}-{self.rng.randint(low, high):02d}"


def _grade_of(pid: int) -> str:
    return GRADES[(pid - FIRST_PERSON) % len(GRADES)]


def _build() -> list[dict[str, Any]]:
    rng = random.Random(SEED)
    s = _Stream()
    # Snapshot of the reference tables and the people (op "r"), then the year's scores (op "c").
    for sid, state_sid, name, exclude in SCHOOLS:
        s.emit("sis.schools", "r", None, {"schoolID": sid, "stateSchoolID": state_sid, "name": name,
                                          "exclude": exclude})
    for cid, sid, end_year, exclude in CALENDARS:
        s.emit("sis.calendars", "r", None, {"calendarID": cid, "schoolID": sid, "endYear": end_year,
                                            "exclude": exclude})
    for pid, staff_id in STAFF:
        s.emit("sis.staff", "r", None, {"personID": pid, "staffStateID": staff_id})
    for row in _tests():
        s.emit("sis.tests", "r", None, row)

    students: dict[int, dict[str, Any]] = {}
    for i in range(N_STUDENTS):
        pid = FIRST_PERSON + i
        students[pid] = {"personID": pid, "stateID": _state_id(pid), "lastName": LAST_NAMES[i % 20],
                         "firstName": FIRST_NAMES[(i * 7) % 20]}
        s.emit("sis.students", "r", None, students[pid])

    enrollments: dict[int, dict[str, Any]] = {}
    for pid in students:
        grade = _grade_of(pid)
        cal = 11 if grade in ("03", "04", "05") else 12
        kwargs: dict[str, Any] = {}
        if pid in P_EXCLUDED_SCHOOL:
            cal = 13
        elif pid == P_EXCLUDED_CALENDAR:
            cal = 14
        elif pid == P_STATE_EXCLUDE:
            kwargs["state_exclude"] = True
        elif pid == P_NO_SHOW:
            kwargs["no_show"] = True
        elif pid == P_ENDED:
            kwargs["end"] = "2024-01-19"
        eid = 3000 + pid
        enrollments[eid] = _enrollment(eid, pid, cal, grade, **kwargs)
    # The overlapping pair: a partial (S) enrollment at the elementary school besides the primary one.
    overlap = _enrollment(3500 + P_OVERLAP, P_OVERLAP, 11, _grade_of(P_OVERLAP), start="2023-09-01",
                          end="2024-05-17", service="S")
    enrollments[overlap["enrollmentID"]] = overlap
    for eid in sorted(enrollments):
        s.emit("sis.enrollments", "r", None, enrollments[eid])

    sc = _Scores(rng)
    for pid in students:
        g = int(_grade_of(pid))
        if g in (3, 4, 5, 6, 7, 8, 10):
            sc.add(pid, MATH, sc.day(3), sc.level(), sc.scale())
            sc.add(pid, ELA, sc.day(4), sc.level(), sc.scale())
        if g in (5, 8, 11):
            sc.add(pid, SCIENCE, sc.day(4, 1, 20), sc.level(), sc.scale())
        if g in (8, 11):
            sc.add(pid, HIST_GOV, sc.day(2), None, sc.scale(1, 40))
            for code, tid in HIST_GOV_CHILDREN.items():
                if (pid + int(code)) % 5 == 0:
                    continue  # no result for this part: it reports 00 (Student not assessed)
                sc.add(pid, tid, sc.day(2), f"0{rng.randint(1, 6)}")
        if g in (3, 4, 5, 6, 7, 8, 13):   # grades 03 and 04 screen too, but report only 05-08 and 13
            screener = ("Acadience", "FASTBridge", "iReady")[pid % 3]
            date = sc.day(9, 5, 29, year=2023)
            sc.add(pid, DYSLEXIA_PARENT[screener], date, None, sc.scale(100, 600))
            acc, rate = DYSLEXIA_CHILDREN[screener]
            sc.add(pid, acc, date, rng.choice(["At or Above Benchmark", "Below Benchmark"]))
            sc.add(pid, rate, date, rng.choice(["At or Above Benchmark", "Below Benchmark"]))
        if pid in ELL:
            sc.add(pid, KELPA, sc.day(2), f"Level {rng.randint(1, 4)}", sc.scale(300, 700), KELPA_PROCTOR)
        if g == 11:
            sc.add(pid, ANIMAL, sc.day(5, 1, 15), sc.level(), sc.scale(1, 100))
        if g == 12:
            sc.add(pid, COMP_AGRIC, sc.day(5, 1, 15), sc.level(), sc.scale(1, 100))
            sc.add(pid, PLANT, sc.day(5, 1, 15), sc.level(), sc.scale(1, 100))
        if pid % 4 == 0:
            sc.add(pid, LOCAL_TEST, sc.day(9, 5, 15, year=2023), None, sc.scale(100, 300))
    # Hist/Gov: a second, more recent Claim/Thesis result, and one child result with no date.
    hist_gov_students = [p for p in students if _grade_of(p) in ("08", "11")]
    sc.add(hist_gov_students[0], HIST_GOV_CHILDREN["01"], "2024-04-22", "04")
    sc.add(hist_gov_students[1], HIST_GOV_CHILDREN["02"], None, "05")
    # Out of the scope year: last year's (2022-23) results.
    for pid in (112, 113, 114):
        sc.add(pid, MATH, f"2023-04-{10 + pid % 10:02d}", sc.level(), sc.scale())
    # Dated on days with no active enrollment: before school started, and after an enrollment ended.
    sc.add(116, LOCAL_TEST, "2023-08-01", None, sc.scale(100, 300))
    sc.add(117, MATH, "2023-08-01", sc.level(), sc.scale())
    sc.add(P_ENDED, ELA, "2024-03-12", sc.level(), sc.scale())
    for row in sc.rows:
        s.emit("sis.test_scores", "c", None, row)

    # The tail: changes after the fact.
    by_id = {row["scoreID"]: row for row in sc.rows}
    math_rows = [r for r in sc.rows if r["testID"] == MATH and r["date"] and r["date"] >= "2023-07-01"
                 and r["personID"] not in (P_LATE_EXCLUDE, P_STATEID_CHANGE)]
    for row in math_rows[:3]:                           # score corrections (a PUT each)
        new = {**row, "scaleScore": str(int(row["scaleScore"]) + 7)}
        s.emit("sis.test_scores", "u", row, new)
        by_id[row["scoreID"]] = new
    moved = by_id[math_rows[3]["scoreID"]]              # date change within the year
    s.emit("sis.test_scores", "u", moved, {**moved, "date": "2024-04-02"})
    leaving = by_id[math_rows[4]["scoreID"]]            # date change out of the scope year
    s.emit("sis.test_scores", "u", leaving, {**leaving, "date": "2024-07-15"})
    deleted = by_id[next(r for r in sc.rows if r["testID"] == ELA)["scoreID"]]
    s.emit("sis.test_scores", "d", deleted, None)       # delete, then the Kafka tombstone
    s.tombstone("sis.test_scores", {"scoreID": deleted["scoreID"]})
    late = enrollments[3000 + P_LATE_EXCLUDE]
    s.emit("sis.enrollments", "u", late, {**late, "stateExclude": True})
    student = students[P_STATEID_CHANGE]
    s.emit("sis.students", "u", student, {**student, "stateID": _state_id(P_STATEID_CHANGE + 900)})
    return s.events


def sample_events() -> list[dict[str, Any]]:
    """Every event of the sample district, in order, as ``{"topic", "key", "value"}`` dicts."""
    return _build()


def _lines() -> Iterator[str]:
    for event in sample_events():
        yield json.dumps(event, separators=(",", ":"), ensure_ascii=False) + "\n"


def render_jsonl() -> str:
    """The events file as text (JSON Lines, one event a line, ``\\n`` line ends)."""
    return "".join(_lines())


def write_jsonl(path: str | Path) -> Path:
    """Write the events file to ``path`` (byte-identical on every run)."""
    target = Path(path)
    target.write_bytes(render_jsonl().encode("utf-8"))
    return target


if __name__ == "__main__":
    print(write_jsonl(SAMPLE_EVENTS))
