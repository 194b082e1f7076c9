"""Ed-Fi bodies and write commands for the egress tests."""

from __future__ import annotations

from typing import Any

from streams.writes import Action, NaturalKey, WriteCommand

NS = "uri://ksde.org/Assessment/Assessment.xml"


def body(student: str = "00000001", result: str = "250", said: str | None = None) -> dict[str, Any]:
    return {"studentAssessmentIdentifier": said or f"Math_{student}_2024",
            "assessmentReference": {"assessmentIdentifier": "State Mathematics Assessment", "namespace": NS},
            "studentReference": {"studentUniqueId": student},
            "scoreResults": [{"assessmentReportingMethodDescriptor":
                              "uri://ed-fi.org/AssessmentReportingMethodDescriptor#Scale score",
                              "resultDatatypeTypeDescriptor": "uri://ed-fi.org/ResultDatatypeTypeDescriptor#Integer",
                              "result": result}]}


def command(action: Action, student: str = "00000001", result: str = "250", said: str | None = None) -> WriteCommand:
    payload = body(student, result, said)
    return WriteCommand(action, NaturalKey.of_payload(payload), None if action == "DELETE" else payload,
                        "test")
