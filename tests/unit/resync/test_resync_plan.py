"""The resync decision (seed 003, Resync Logic) as pure code."""

from __future__ import annotations

import copy
from typing import Any

from streams.resync.diff import plan_resync
from streams.resync.run import commands_for
from streams.rules.evaluate import DesiredRecord
from streams.writes import NaturalKey

NS = "uri://ksde.org/Assessment/Assessment.xml"


def body(said: str, student: str, result: str = "250") -> dict[str, Any]:
    return {"studentAssessmentIdentifier": said,
            "assessmentReference": {"assessmentIdentifier": "State Mathematics Assessment", "namespace": NS},
            "studentReference": {"studentUniqueId": student}, "administrationDate": "2024-03-20T00:00:00Z",
            "scoreResults": [{"assessmentReportingMethodDescriptor": "m", "resultDatatypeTypeDescriptor": "d",
                              "result": result}]}


def desired(said: str, student: str, result: str = "250") -> DesiredRecord:
    payload = body(said, student, result)
    return DesiredRecord(NaturalKey.of_payload(payload), payload, 1, "2024-03-20", (1,), "test")


def ods(said: str, student: str, result: str = "250", rid: str = "id1") -> dict[str, Any]:
    record = copy.deepcopy(body(said, student, result))
    record.update({"id": rid, "_etag": "1", "_lastModifiedDate": "x"})
    record["studentReference"]["link"] = {"rel": "Student", "href": "/students/1"}
    return record


def test_matching_ods_needs_nothing() -> None:
    plan = plan_resync({"A": desired("A", "1")}, [ods("A", "1")], {"A": {"id": "id1"}})
    assert plan.actions == [] and plan.ods_count == 1


def test_each_kind_of_drift() -> None:
    want = {"A": desired("A", "1"), "B": desired("B", "2", "300"), "C": desired("C", "3")}
    have = [ods("A", "1", rid="a"), ods("B", "2", "299", rid="b"), ods("Z", "9", rid="z")]
    plan = plan_resync(want, have, {"A": {}, "C": {}, "Q": {}})
    kinds = sorted((a.action, a.natural_key.student_assessment_identifier) for a in plan.actions)
    assert kinds == [("delete", "Z"), ("forget", "C"), ("forget", "Q"), ("post", "C"), ("put", "B")]
    assert plan.delete_share == 1 / 3


def test_forget_of_a_reposted_record_sends_no_delete() -> None:
    plan = plan_resync({"C": desired("C", "3")}, [], {"C": {"k": f"State Mathematics Assessment|{NS.lower()}|C|3"},
                                                    "Q": {"k": f"State Mathematics Assessment|{NS.lower()}|Q|4"}})
    commands = commands_for(plan, {"C": {"k": f"State Mathematics Assessment|{NS.lower()}|C|3"},
                                   "Q": {"k": f"State Mathematics Assessment|{NS.lower()}|Q|4"}})
    # deletes first (the dependency order of streams/edfi/dependencies.py), then creates
    assert [(c.action, c.key) for c in commands] == [("DELETE", "Q"), ("POST", "C")]
    assert all(c.extra.get("force") for c in commands)


def test_what_an_ods_adds_on_read_is_not_a_difference() -> None:
    record = ods("A", "1")
    record.update({"items": [], "accommodations": [], "performanceLevels": []})
    record["assessmentReference"]["link"] = {"rel": "Assessment", "href": "/assessments/x"}
    assert plan_resync({"A": desired("A", "1")}, [record], {"A": {}}).actions == []


def test_a_record_kept_by_the_scope_year_exception_is_left_as_the_ods_has_it() -> None:
    """003: the record of a test moved out of scope stays tied to the student; resync neither deletes nor
    changes it (it has its matching record in Campus), while an unmatched one is still deleted."""
    have = [ods("K", "1", "250", rid="k"), ods("Z", "9", rid="z")]
    plan = plan_resync({}, have, {"K": {}}, kept={"K"})
    assert [(a.action, a.natural_key.student_assessment_identifier) for a in plan.actions] == [("delete", "Z")]


def test_resync_reads_the_rules_kept_records_from_the_replayed_sis() -> None:
    """desired_records collects Evaluation.retained: the same rules as the worker and simulate."""
    from streams.resync.run import Scope, desired_records
    from streams.rules.config import RuleConfig
    from streams.rules.engine import InMemoryStores, RuleEngine
    from streams.sis.events import parse_change

    engine = RuleEngine(RuleConfig(), **InMemoryStores().as_kwargs())
    engine.set_enabled(False)
    rows: list[tuple[str, dict[str, Any]]] = [("sis.schools", {"schoolID": 1, "stateSchoolID": 101, "name": "S"}),
            ("sis.calendars", {"calendarID": 10, "schoolID": 1, "endYear": 2024}),
            ("sis.students", {"personID": 1, "stateID": "00000001"}),
            ("sis.enrollments", {"enrollmentID": 100, "personID": 1, "calendarID": 10, "grade": "06",
                                 "startDate": "2023-08-15", "serviceType": "P"}),
            ("sis.tests", {"testID": 5, "name": "T", "stateCode": "State Mathematics Assessment", "endYear": 2023}),
            ("sis.test_scores", {"scoreID": 1, "personID": 1, "testID": 5, "date": "2024-03-20", "scaleScore": "1"})]
    for n, (topic, row) in enumerate(rows):
        pk = next(iter(row))
        engine.on_change(parse_change(topic, {pk: row[pk]}, {"op": "c", "after": row, "ts_ms": n}))
    kept: set[str] = set()
    assert desired_records(engine, Scope(), kept) == {}
    assert kept == {"Math_00000001_2024"}
