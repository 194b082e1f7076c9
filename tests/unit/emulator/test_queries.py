"""GET many: filters by un-nested names, paging, change versions, deletes (API-BEHAVIOUR.md 2.5, 3)."""

from __future__ import annotations

import copy
from typing import Any

import httpx

from streams.emulator.core import EdfiEmulator

URL = "/data/v3/ed-fi/studentAssessments"


async def load(emu: EdfiEmulator, client: httpx.AsyncClient, body: dict[str, Any], n: int) -> list[str]:
    ids = []
    for i in range(n):
        emu.add_student(f"S{i:03d}")
        item = copy.deepcopy(body)
        item.update(studentAssessmentIdentifier=f"Math_S{i:03d}_2024",
                    studentReference={"studentUniqueId": f"S{i:03d}"},
                    administrationDate=f"2024-03-{1 + i % 28:02d}T00:00:00Z",
                    schoolYearTypeReference={"schoolYear": 2023 + i % 2})
        if i % 3 == 0:
            item["whenAssessedGradeLevelDescriptor"] = "uri://ed-fi.org/GradeLevelDescriptor#Fifth grade"
        response = await client.post(URL, json=item)
        assert response.status_code == 201
        ids.append(response.headers["Location"].rsplit("/", 1)[1])
    return ids


async def test_filters_by_reference_root_and_date_members(emu: EdfiEmulator, client: httpx.AsyncClient,
                                                          body: dict[str, Any]) -> None:
    ids = await load(emu, client, body, 12)

    async def said(**params: Any) -> list[str]:
        response = await client.get(URL, params={"limit": 500, **params})
        assert response.status_code == 200
        return sorted(r["studentAssessmentIdentifier"] for r in response.json())

    assert await said(studentUniqueId="s004") == ["Math_S004_2024"]               # case-insensitive
    assert len(await said(schoolYear=2024)) == 6
    assert await said(whenAssessedGradeLevelDescriptor="uri://ed-fi.org/GradeLevelDescriptor#Fifth grade") == [
        "Math_S000_2024", "Math_S003_2024", "Math_S006_2024", "Math_S009_2024"]
    assert await said(administrationDate="2024-03-02") == ["Math_S001_2024"]       # midnight, date only
    assert await said(administrationDate="2024-03-02T00:00:01Z") == []
    assert await said(STUDENTASSESSMENTIDENTIFIER="Math_S011_2024") == ["Math_S011_2024"]
    assert await said(id=ids[5]) == ["Math_S005_2024"]
    assert await said(reportedSchoolId=101, namespace="uri://ksde.org/Assessment/Assessment.xml") == sorted(
        f"Math_S{i:03d}_2024" for i in range(12))
    assert await said(reportedSchoolId=999) == []


async def test_paging_is_stable_and_bounded(emu: EdfiEmulator, client: httpx.AsyncClient,
                                            body: dict[str, Any]) -> None:
    await load(emu, client, body, 7)
    pages = [(await client.get(URL, params={"limit": 3, "offset": o})).json() for o in (0, 3, 6)]
    assert [len(p) for p in pages] == [3, 3, 1]
    seen = [r["id"] for p in pages for r in p]
    assert len(set(seen)) == 7 and seen == sorted(seen)
    assert (await client.get(URL, params={"limit": 0, "totalCount": "true"})).headers["Total-Count"] == "7"
    for bad in ({"limit": -1}, {"limit": 501}, {"offset": -1}, {"totalCount": "maybe"}, {"limit": "x"}):
        response = await client.get(URL, params=bad)
        assert response.status_code == 400, bad
        assert response.json()["type"] == "urn:ed-fi:api:bad-request:parameter-validation-failed"
    assert (await client.get(URL, params={"limit": 500})).status_code == 200
    too_big = await client.get(URL, params={"limit": 501})
    assert too_big.json()["errors"] == ["Limit must be a value between 0 and 500."]


async def test_change_versions_deletes_and_available_versions(emu: EdfiEmulator, client: httpx.AsyncClient,
                                                              body: dict[str, Any]) -> None:
    ids = await load(emu, client, body, 4)
    versions = (await client.get("/changeQueries/v1/availableChangeVersions")).json()
    assert versions == {"oldestChangeVersion": 0, "newestChangeVersion": 4}
    later = await client.get(URL, params={"minChangeVersion": 3})
    assert sorted(r["studentAssessmentIdentifier"] for r in later.json()) == ["Math_S002_2024", "Math_S003_2024"]
    window = await client.get(URL, params={"minChangeVersion": 2, "maxChangeVersion": 2})
    assert [r["id"] for r in window.json()] == [ids[1]]
    assert (await client.get(URL, params={"minChangeVersion": "abc"})).status_code == 400
    assert (await client.delete(f"{URL}/{ids[0]}")).status_code == 204
    assert (await client.delete(f"{URL}/{ids[2]}")).status_code == 204
    deletes = (await client.get(f"{URL}/deletes", params={"minChangeVersion": 6, "totalCount": "true"}))
    assert [d["id"] for d in deletes.json()] == [ids[2]] and deletes.headers["Total-Count"] == "1"
    assert deletes.json()[0] == {"id": ids[2], "changeVersion": 6, "keyValues": {
        "studentUniqueId": "S002", "assessmentIdentifier": "State Mathematics Assessment",
        "namespace": "uri://ksde.org/Assessment/Assessment.xml", "studentAssessmentIdentifier": "Math_S002_2024"}}
    assert (await client.get(f"{URL}/keyChanges", params={"minChangeVersion": 0})).json() == []
    assert (await client.get("/changeQueries/v1/availableChangeVersions")).json()["newestChangeVersion"] == 6
    # a deleted key can be created again, with a new id
    again = copy.deepcopy(body)
    again.update(studentAssessmentIdentifier="Math_S000_2024", studentReference={"studentUniqueId": "S000"})
    recreated = await client.post(URL, json=again)
    assert recreated.status_code == 201 and not recreated.headers["Location"].endswith(ids[0])


async def test_route_segments_are_case_insensitive(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    created = await client.post("/data/v3/ed-fi/studentassessments/", json=body)
    assert created.status_code == 201
    assert len((await client.get("/DATA/V3/ED-FI/STUDENTASSESSMENTS")).json()) == 1
    assert (await client.get("/data/v3/ed-fi/nothingHere")).status_code == 404
