"""Builders of SIS change events for rule tests (plain dicts in, ChangeEvents out)."""

from __future__ import annotations

from typing import Any

from streams.sis.events import ChangeEvent, parse_change
from streams.sis.rows import TOPIC_ROWS

_ts = [1_700_000_000_000]


def ev(topic: str, op: str, row: dict[str, Any] | None = None, before: dict[str, Any] | None = None) -> ChangeEvent:
    pk = TOPIC_ROWS[topic][1]
    _ts[0] += 1
    value = {"op": op, "before": before if op != "c" else None, "after": row if op != "d" else None,
             "ts_ms": _ts[0]}
    if op == "d":
        value["before"] = before or row
    key_src = row or before
    assert key_src is not None
    return parse_change(topic, {pk: key_src[pk]}, value)


def school(school_id: int = 1, state_id: int = 101, exclude: bool = False) -> dict[str, Any]:
    return {"schoolID": school_id, "stateSchoolID": state_id, "name": f"School {school_id}", "exclude": exclude}


def calendar(cal_id: int = 10, school_id: int = 1, end_year: int = 2024, exclude: bool = False) -> dict[str, Any]:
    return {"calendarID": cal_id, "schoolID": school_id, "endYear": end_year, "exclude": exclude}


def student(person: int = 1, state_id: str = "00000001") -> dict[str, Any]:
    return {"personID": person, "stateID": state_id, "lastName": "L", "firstName": "F"}


def enrollment(eid: int = 100, person: int = 1, cal: int = 10, grade: str = "06", start: str = "2023-08-15",
               end: str | None = None, service: str = "P", **extra: Any) -> dict[str, Any]:
    return {"enrollmentID": eid, "personID": person, "calendarID": cal, "grade": grade, "startDate": start,
            "endDate": end, "serviceType": service, "stateExclude": False, "noShow": False, **extra}


def assessment_row(tid: int = 5, state_code: str | None = "State Mathematics Assessment", parent: int | None = None,
             code: str | None = None, subject: str | None = None, start: str | None = "2024-03-01",
             end: str | None = "2024-04-30", end_year: int | None = 2024, name: str = "T") -> dict[str, Any]:
    return {"testID": tid, "parentID": parent, "name": name, "code": code, "subject": subject,
            "stateCode": state_code, "startDate": start, "endDate": end, "endYear": end_year}


def score(sid: int = 1000, person: int = 1, tid: int = 5, date: str | None = "2024-03-20",
          scale: str | None = "250", result: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"scoreID": sid, "personID": person, "testID": tid, "date": date, "scaleScore": scale,
            "result": result, **extra}


def base_district() -> list[ChangeEvent]:
    return [ev("sis.schools", "c", school()), ev("sis.calendars", "c", calendar()),
            ev("sis.students", "c", student()), ev("sis.enrollments", "c", enrollment()),
            ev("sis.tests", "c", assessment_row())]
