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
    assert [(c.action, c.key) for c in commands] == [("POST", "C"), ("DELETE", "Q")]
    assert all(c.extra.get("force") for c in commands)


def test_what_an_ods_adds_on_read_is_not_a_difference() -> None:
    record = ods("A", "1")
    record.update({"items": [], "accommodations": [], "performanceLevels": []})
    record["assessmentReference"]["link"] = {"rel": "Assessment", "href": "/assessments/x"}
    assert plan_resync({"A": desired("A", "1")}, [record], {"A": {}}).actions == []
