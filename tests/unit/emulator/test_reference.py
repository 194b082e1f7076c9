"""Reference data of the emulated ODS (reference.py), seeding over HTTP and its durability in SQLite."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx

from streams.emulator.core import EdfiEmulator
from streams.emulator.reference import KSDE_NAMESPACE, OdsReference, default_descriptors
from streams.emulator.transport import EmulatorTransport

URL = "/data/v3/ed-fi/studentAssessments"
SHARED = Path("/work/shared/edfi-reference/descriptors-ds-5.2")


def test_default_descriptors_come_from_the_data_standard_xml() -> None:
    defaults = default_descriptors()
    assert len(defaults) == 18
    assert defaults["ResultDatatypeTypeDescriptor"] == tuple(
        f"uri://ed-fi.org/ResultDatatypeTypeDescriptor#{c}"
        for c in ("Decimal", "Integer", "Level", "Percentage", "Percentile", "Range"))
    assert "uri://ed-fi.org/AssessmentPeriodDescriptor#Spring" in defaults["AssessmentPeriodDescriptor"]
    if SHARED.exists():  # the packaged copies are the Data Standard files, one file per descriptor
        assert sorted(f"{n}.xml" for n in defaults) == sorted(p.name for p in SHARED.glob("*.xml"))


def test_kansas_reference_data() -> None:
    ref = OdsReference.kansas()
    assert len(ref.assessments) == 16 and all(ns == KSDE_NAMESPACE for _, ns in ref.assessments)
    assert ref.has_objective("State History/Gov Assessment", "02", KSDE_NAMESPACE)
    dyslexia = {a for a, _ in ref.assessments if a.startswith("Dyslexia Screener_")}
    assert len(dyslexia) == 8
    expected = {(a, c) for a in dyslexia for c in ("ACC", "RATE")}
    assert {(a, c) for a, c, _ in ref.objectives if a in dyslexia} == expected
    assert not ref.has_objective("State Mathematics Assessment", "01", KSDE_NAMESPACE)
    assert ref.has_descriptor("AssessmentRequestDescriptor",
                              "uri://ksde.org/AssessmentRequestDescriptor#KELPA for current ESOL students only")
    assert ref.has_descriptor("PerformanceLevelDescriptor",
                              "URI://KSDE.ORG/PerformanceLevelDescriptor#accuracy below, rate below benchmark")
    assert ref.has_descriptor("AssessmentReportingMethodDescriptor",
                              "uri://ed-fi.org/AssessmentReportingMethodDescriptor#Achievement/proficiency level")
    assert not ref.has_descriptor("PerformanceLevelDescriptor", "uri://ksde.org/PerformanceLevelDescriptor#Level 9")


async def test_seeding_over_http(emu: EdfiEmulator, client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    first = await client.post("/data/v3/ed-fi/staffs", json={"staffUniqueId": "P9", "firstName": "A"})
    again = await client.post("/data/v3/ed-fi/staffs", json={"staffUniqueId": "P9"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.headers["Location"] == again.headers["Location"]
    assert (await client.post("/data/v3/ed-fi/assessments", json={
        "assessmentIdentifier": "Local Reading", "namespace": "uri://district.org/Assessment"})).status_code == 201
    objective = {"identificationCode": "FLU", "assessmentReference": {
        "assessmentIdentifier": "Local Reading", "namespace": "uri://district.org/Assessment"}}
    assert (await client.post("/data/v3/ed-fi/objectiveAssessments", json=objective)).status_code == 201
    orphan = {"identificationCode": "X", "assessmentReference": {"assessmentIdentifier": "None", "namespace": "uri://x"}}
    assert (await client.post("/data/v3/ed-fi/objectiveAssessments", json=orphan)).status_code == 409
    descriptor = {"namespace": "uri://district.org/PerformanceLevelDescriptor", "codeValue": "Fluent",
                  "shortDescription": "Fluent"}
    created = await client.post("/data/v3/ed-fi/performanceLevelDescriptors", json=descriptor)
    assert created.status_code == 201
    assert (await client.post("/data/v3/ed-fi/performanceLevelDescriptors", json=descriptor)).status_code == 200
    bad = await client.post("/data/v3/ed-fi/performanceLevelDescriptors", json={"namespace": "uri://d"})
    assert set(bad.json()["validationErrors"]) == {"$.codeValue", "$.shortDescription"}
    listed = (await client.get("/data/v3/ed-fi/performanceLevelDescriptors", params={"limit": 500})).json()
    assert {"namespace": "uri://district.org/PerformanceLevelDescriptor", "codeValue": "Fluent"} in [
        {k: d[k] for k in ("namespace", "codeValue")} for d in listed]
    assert (await client.post("/data/v3/ed-fi/students", content=b"{}")).status_code == 415
    body.update(assessmentReference={"assessmentIdentifier": "Local Reading",
                                     "namespace": "uri://district.org/Assessment"},
                performanceLevels=[{"assessmentReportingMethodDescriptor":
                                    "uri://ed-fi.org/AssessmentReportingMethodDescriptor#Proficiency level",
                                    "performanceLevelDescriptor": "uri://district.org/PerformanceLevelDescriptor#Fluent"}],
                _ext={"ksde": {"proctorStaffReference": {"staffUniqueId": "P9"}}},
                studentObjectiveAssessments=[{"objectiveAssessmentReference": {
                    "assessmentIdentifier": "Local Reading", "namespace": "uri://district.org/Assessment",
                    "identificationCode": "FLU"}}])
    assert (await client.post(URL, json=body)).status_code == 201


def test_durable_state_and_reference_data_survive_a_restart(tmp_path: Path, body: dict[str, Any]) -> None:
    db = tmp_path / "ods.sqlite"

    async def session(emu: EdfiEmulator, work: Any) -> Any:
        async with httpx.AsyncClient(transport=EmulatorTransport(emu), base_url="http://ods") as http:
            token = (await http.post("/oauth/token", data={"grant_type": "client_credentials"},
                                     auth=("key", "secret"))).json()["access_token"]
            http.headers["Authorization"] = f"Bearer {token}"
            return await work(http)

    async def write(http: httpx.AsyncClient) -> tuple[str, str]:
        assert (await http.post("/data/v3/ed-fi/students", json={"studentUniqueId": "00000001"})).status_code == 201
        kept = await http.post(URL, json=body)
        other = dict(body, studentAssessmentIdentifier="Other_2024")
        gone = (await http.post(URL, json=other)).headers["Location"].rsplit("/", 1)[1]
        assert (await http.delete(f"{URL}/{gone}")).status_code == 204
        return kept.headers["Location"].rsplit("/", 1)[1], gone

    first = EdfiEmulator(db_path=db)
    first.add_client("key", "secret")
    first.add_school(101)
    kept, gone = asyncio.run(session(first, write))

    async def read(http: httpx.AsyncClient) -> tuple[int, list[Any], int]:
        again = await http.post(URL, json=body)                     # same key: an update, not a new item
        deletes = (await http.get(f"{URL}/deletes")).json()
        newest = (await http.get("/changeQueries/v1/availableChangeVersions")).json()["newestChangeVersion"]
        return again.status_code, [d["id"] for d in deletes], newest

    second = EdfiEmulator(db_path=db)
    second.add_client("key", "secret")
    assert [r["id"] for r in second.records()] == [kept]
    assert "00000001" in second.reference.students and 101 in second.reference.schools
    assert asyncio.run(session(second, read)) == (200, [gone], 3)
