"""A small deterministic SIS history that touches every rule path, as an events file (contract format)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

NS = "uri://ksde.org/Assessment/Assessment.xml"


class History:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.rows: dict[tuple[str, int], dict[str, Any]] = {}
        self.ts = 1_700_000_000_000

    def put(self, topic: str, pk: str, row: dict[str, Any]) -> None:
        key = (topic, row[pk])
        before = self.rows.get(key)
        self.ts += 1000
        self.rows[key] = row
        self.events.append({"topic": topic, "key": {pk: row[pk]}, "value": {
            "op": "u" if before else "c", "before": before, "after": row, "ts_ms": self.ts,
            "source": {"table": topic, "seq": len(self.events)}}})

    def delete(self, topic: str, pk: str, ident: int) -> None:
        before = self.rows.pop((topic, ident))
        self.ts += 1000
        self.events.append({"topic": topic, "key": {pk: ident}, "value": {
            "op": "d", "before": before, "after": None, "ts_ms": self.ts, "source": {"table": topic, "seq": 0}}})
        self.events.append({"topic": topic, "key": {pk: ident}, "value": None})  # the Kafka tombstone

    def write(self, path: Path) -> Path:
        path.write_text("".join(json.dumps(e) + "\n" for e in self.events))
        return path


def build(path: Path) -> Path:
    h = History()
    # scores first for student 3: arrives before its student and enrollment (convergence)
    h.put("sis.test_scores", "scoreID", {"scoreID": 3001, "personID": 3, "testID": 1, "date": "2024-02-10",
                                         "scaleScore": "301", "result": "Performance Level 3"})
    h.put("sis.schools", "schoolID", {"schoolID": 1, "stateSchoolID": 1001, "name": "North", "exclude": False})
    h.put("sis.schools", "schoolID", {"schoolID": 2, "stateSchoolID": 1002, "name": "South", "exclude": False})
    h.put("sis.schools", "schoolID", {"schoolID": 3, "stateSchoolID": 1003, "name": "Private", "exclude": True})
    for cal, school in ((11, 1), (12, 2), (13, 3)):
        h.put("sis.calendars", "calendarID", {"calendarID": cal, "schoolID": school, "endYear": 2024, "exclude": False})
    h.put("sis.tests", "testID", {"testID": 1, "parentID": None, "name": "Math", "code": None, "subject": None,
                                  "stateCode": "State Mathematics Assessment", "startDate": "2024-02-01",
                                  "endDate": "2024-04-30", "endYear": 2024})
    h.put("sis.tests", "testID", {"testID": 2, "parentID": None, "name": "HG", "code": None, "subject": None,
                                  "stateCode": "State History/Gov Assessment", "startDate": "2024-03-01",
                                  "endDate": "2024-05-01", "endYear": None})
    for tid, code in ((21, "01"), (22, "02"), (23, "03")):
        h.put("sis.tests", "testID", {"testID": tid, "parentID": 2, "name": f"HG {code}", "code": code,
                                      "subject": "Hist/Gov", "stateCode": None, "startDate": None,
                                      "endDate": None, "endYear": None})
    h.put("sis.tests", "testID", {"testID": 3, "parentID": None, "name": "Local quiz", "code": None,
                                  "subject": None, "stateCode": None, "startDate": None, "endDate": None,
                                  "endYear": None})
    for person in range(1, 7):
        h.put("sis.students", "personID", {"personID": person, "stateID": f"{person:08d}", "lastName": "S",
                                           "firstName": str(person)})
    enroll = {"grade": "08", "endDate": None, "stateExclude": False, "noShow": False,
              "mathAssessmentType": "Yes test in this content area"}
    # enrollmentID, personID, calendarID, startDate, serviceType, endDate
    for eid, person, cal, start, service, end in (
            (101, 1, 11, "2023-08-15", "P", None), (102, 2, 11, "2023-08-15", "S", None),
            (103, 2, 12, "2023-09-01", "P", None), (104, 3, 12, "2023-08-15", "P", None),
            (105, 4, 13, "2023-08-15", "P", None), (106, 5, 11, "2023-08-15", "P", None),
            (107, 6, 11, "2023-08-15", "P", "2023-12-20")):
        h.put("sis.enrollments", "enrollmentID", {**enroll, "endDate": end, "enrollmentID": eid, "personID": person,
                                                  "calendarID": cal, "startDate": start, "serviceType": service})
    for sid, person, test, date, scale in ((1001, 1, 1, "2024-02-12", "250"), (2001, 2, 1, "2024-02-13", "270"),
                                           (4001, 4, 1, "2024-02-14", "200"), (5001, 5, 1, "2023-05-01", "222"),
                                           (6001, 6, 1, "2024-02-15", "240"), (1002, 1, 3, "2024-02-16", "9")):
        h.put("sis.test_scores", "scoreID", {"scoreID": sid, "personID": person, "testID": test, "date": date,
                                             "scaleScore": scale, "result": None})
    for sid, tid, result in ((1101, 21, "03"), (1102, 22, "05"), (1103, 21, "04")):
        h.put("sis.test_scores", "scoreID", {"scoreID": sid, "personID": 1, "testID": tid,
                                             "date": "2024-03-1" + str(sid % 10), "scaleScore": None, "result": result})
    # changes: a score update (PUT), a date change (POST), a delete, an exclusion, a stateID change
    h.put("sis.test_scores", "scoreID", {**h.rows[("sis.test_scores", 1001)], "scaleScore": "255"})
    h.put("sis.test_scores", "scoreID", {**h.rows[("sis.test_scores", 2001)], "date": "2024-02-20"})
    h.delete("sis.test_scores", "scoreID", 6001)
    h.put("sis.enrollments", "enrollmentID", {**h.rows[("sis.enrollments", 104)], "stateExclude": True})
    h.put("sis.students", "personID", {**h.rows[("sis.students", 5)], "stateID": "00000055"})
    h.put("sis.test_scores", "scoreID", {"scoreID": 5002, "personID": 5, "testID": 1, "date": "2024-03-01",
                                         "scaleScore": "230", "result": None})
    return h.write(path)
