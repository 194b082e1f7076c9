"""What the emulator tests share: a valid studentAssessment, an emulator holding the people it references,
and an httpx client that holds a token, through the in-process transport."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx

from streams.emulator.core import EdfiEmulator
from streams.emulator.transport import EmulatorTransport

NS = "uri://ksde.org/Assessment/Assessment.xml"
SAMPLE: dict[str, Any] = {
    "studentAssessmentIdentifier": "Math_00000001_2024",
    "assessmentReference": {"assessmentIdentifier": "State Mathematics Assessment", "namespace": NS},
    "studentReference": {"studentUniqueId": "00000001"},
    "reportedSchoolReference": {"schoolId": 101},
    "administrationDate": "2024-03-20T00:00:00Z",
    "scoreResults": [{"assessmentReportingMethodDescriptor":
                      "uri://ed-fi.org/AssessmentReportingMethodDescriptor#Scale score",
                      "resultDatatypeTypeDescriptor": "uri://ed-fi.org/ResultDatatypeTypeDescriptor#Integer",
                      "result": "250"}],
}


def seeded_emulator(**options: Any) -> EdfiEmulator:
    """An emulator with API client key/secret and the student, school and staff SAMPLE can reference."""
    emulator = EdfiEmulator(**options)
    emulator.add_client("key", "secret")
    emulator.add_student("00000001")
    emulator.add_school(101)
    emulator.add_staff("ST1")
    return emulator


@contextlib.asynccontextmanager
async def token_client(emulator: EdfiEmulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=EmulatorTransport(emulator), base_url="http://ods") as http:
        token = (await http.post("/oauth/token", data={"grant_type": "client_credentials"},
                                 auth=("key", "secret"))).json()["access_token"]
        http.headers["Authorization"] = f"Bearer {token}"
        yield http
