"""Fixtures of the emulator tests: an emulator with one API client and the people a body references, and an
httpx client holding a token, through the in-process transport."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

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


@pytest.fixture
def emu() -> EdfiEmulator:
    emulator = EdfiEmulator()
    emulator.add_client("key", "secret")
    emulator.add_student("00000001")
    emulator.add_school(101)
    emulator.add_staff("ST1")
    return emulator


@pytest.fixture
async def client(emu: EdfiEmulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=EmulatorTransport(emu), base_url="http://ods") as http:
        token = (await http.post("/oauth/token", data={"grant_type": "client_credentials"},
                                 auth=("key", "secret"))).json()["access_token"]
        http.headers["Authorization"] = f"Bearer {token}"
        yield http


@pytest.fixture
def body() -> dict[str, Any]:
    """A fresh copy of a valid studentAssessment for the ``emu`` fixture."""
    return copy.deepcopy(SAMPLE)
