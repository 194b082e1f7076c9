"""The emulator against the Ed-Fi ODS/API v7 contract (API-BEHAVIOUR.md sections 2 and 4): status codes and
error bodies, through httpx and the in-process transport."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest

from streams.emulator.core import EdfiEmulator
from streams.emulator.faults import FaultSettings
from streams.emulator.transport import EmulatorTransport
from tests.unit.emulator.emulator_sample import NS, SAMPLE, seeded_emulator, token_client

URL = "/data/v3/ed-fi/studentAssessments"
BODY = SAMPLE


def with_(**changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(BODY)
    body.update(changes)
    return body


async def test_discovery_and_token(emu: EdfiEmulator) -> None:
    async with httpx.AsyncClient(transport=EmulatorTransport(emu), base_url="http://ods") as http:
        root = (await http.get("/")).json()
        assert root["urls"]["dataManagementApi"].endswith("/data/v3/")
        ok = await http.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=("key", "secret"))
        assert ok.status_code == 200 and ok.json()["expires_in"] == 1800 and len(ok.json()["access_token"]) == 32
        form = await http.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": "key",
                                                     "client_secret": "secret"})
        assert form.status_code == 200
        bad = await http.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=("key", "nope"))
        assert (bad.status_code, bad.json()) == (401, {"error": "invalid_client"})
        grant = await http.post("/oauth/token", data={"grant_type": "password"}, auth=("key", "secret"))
        assert (grant.status_code, grant.json()) == (400, {"error": "unsupported_grant_type"})


async def test_missing_and_unknown_tokens_are_401(emu: EdfiEmulator) -> None:
    async with httpx.AsyncClient(transport=EmulatorTransport(emu), base_url="http://ods") as http:
        missing = await http.get(URL)
        assert missing.status_code == 401
        assert missing.json()["type"] == "urn:ed-fi:api:security:authentication"
        assert missing.json()["errors"] == ["Authorization header is missing."]
        unknown = await http.get(URL, headers={"Authorization": "Bearer 0123"})
        assert unknown.json()["errors"] == ["Invalid token"]


async def test_token_cap_is_15_per_client(emu: EdfiEmulator) -> None:
    async with httpx.AsyncClient(transport=EmulatorTransport(emu), base_url="http://ods") as http:
        codes = [(await http.post("/oauth/token", data={"grant_type": "client_credentials"},
                                  auth=("key", "secret"))).status_code for _ in range(16)]
    assert codes == [200] * 15 + [429]


async def test_expired_token_is_401(emu: EdfiEmulator) -> None:
    emu.faults.configure(FaultSettings(token_ttl_seconds=0.05))
    async with httpx.AsyncClient(transport=EmulatorTransport(emu), base_url="http://ods") as http:
        token = (await http.post("/oauth/token", data={"grant_type": "client_credentials"},
                                 auth=("key", "secret"))).json()["access_token"]
        import asyncio

        await asyncio.sleep(0.1)
        response = await http.get(URL, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and response.json()["errors"] == ["Invalid token"]


async def test_post_upserts_by_natural_key(client: httpx.AsyncClient) -> None:
    first = await client.post(URL, json=BODY)
    assert first.status_code == 201 and first.content == b""
    location = first.headers["Location"]
    assert first.headers["ETag"].startswith('"')
    again = await client.post(URL, json=with_(administrationDate="2024-03-21T00:00:00Z"))
    assert again.status_code == 200 and again.headers["Location"] == location
    item = (await client.get(location)).json()
    assert item["administrationDate"] == "2024-03-21T00:00:00Z" and item["id"] == location.rsplit("/", 1)[1]


async def test_unknown_members_are_ignored_and_not_stored(client: httpx.AsyncClient) -> None:
    response = await client.post(URL, json=with_(overpost=1, _ext={"other": {"x": 1}}))
    assert response.status_code == 201
    item = (await client.get(response.headers["Location"])).json()
    assert "overpost" not in item and "_ext" not in item


async def test_id_in_post_body_and_post_to_an_item_are_rejected(client: httpx.AsyncClient) -> None:
    bad = await client.post(URL, json=with_(id="abc"))
    assert bad.status_code == 400 and "cannot be assigned by the client" in bad.json()["errors"][0]
    assert (await client.post(URL + "/abc", json=BODY)).status_code == 405


async def test_validation_errors_by_json_path(client: httpx.AsyncClient) -> None:
    body = with_(studentAssessmentIdentifier="x" * 61)
    del body["studentReference"]
    response = await client.post(URL, json=body)
    problem = response.json()
    assert response.status_code == 400 and problem["type"] == "urn:ed-fi:api:bad-request:data-validation-failed"
    assert set(problem["validationErrors"]) == {"$.studentAssessmentIdentifier", "$.studentReference"}
    spaces = await client.post(URL, json=with_(studentAssessmentIdentifier=" Math_1 "))
    assert "leading or trailing spaces" in spaces.json()["validationErrors"]["$.studentAssessmentIdentifier"][0]


async def test_unknown_descriptor_is_400_and_descriptors_are_case_insensitive(client: httpx.AsyncClient) -> None:
    wrong = copy.deepcopy(BODY)
    wrong["scoreResults"][0]["resultDatatypeTypeDescriptor"] = "uri://ed-fi.org/ResultDatatypeTypeDescriptor#Huge"
    response = await client.post(URL, json=wrong)
    assert response.status_code == 400
    assert response.json()["validationErrors"] == {"$.scoreResults[0].resultDatatypeTypeDescriptor": [
        "ResultDatatypeTypeDescriptor value 'uri://ed-fi.org/ResultDatatypeTypeDescriptor#Huge' does not exist."]}
    upper = copy.deepcopy(BODY)
    upper["scoreResults"][0]["resultDatatypeTypeDescriptor"] = "URI://ED-FI.ORG/ResultDatatypeTypeDescriptor#INTEGER"
    assert (await client.post(URL, json=upper)).status_code == 201


async def test_duplicate_items_and_equality_constraints(client: httpx.AsyncClient) -> None:
    dup = copy.deepcopy(BODY)
    dup["scoreResults"].append(dict(dup["scoreResults"][0], result="7"))
    response = await client.post(URL, json=dup)
    assert response.status_code == 400 and "$.scoreResults" in response.json()["validationErrors"]
    mismatch = with_(studentObjectiveAssessments=[{"objectiveAssessmentReference": {
        "assessmentIdentifier": "State History/Gov Assessment", "identificationCode": "01", "namespace": NS}}])
    response = await client.post(URL, json=mismatch)
    assert response.status_code == 400
    assert list(response.json()["validationErrors"]) == [
        "$.studentObjectiveAssessments[0].objectiveAssessmentReference.assessmentIdentifier"]


@pytest.mark.parametrize(("change", "entity"), [
    ({"studentReference": {"studentUniqueId": "nobody"}}, "Student"),
    ({"assessmentReference": {"assessmentIdentifier": "Unknown Test", "namespace": NS}}, "Assessment"),
    ({"reportedSchoolReference": {"schoolId": 999}}, "School"),
    ({"_ext": {"ksde": {"proctorStaffReference": {"staffUniqueId": "NOPE"}}}}, "Staff"),
])
async def test_unresolved_references_are_409(client: httpx.AsyncClient, change: dict[str, Any], entity: str) -> None:
    response = await client.post(URL, json=with_(**change))
    assert response.status_code == 409
    assert response.json()["type"] == "urn:ed-fi:api:data-conflict:unresolved-reference"
    assert response.json()["detail"] == f"The referenced '{entity}' item does not exist."


async def test_kansas_extension_is_validated_and_kept(client: httpx.AsyncClient) -> None:
    ext = {"ksde": {"proctorStaffReference": {"staffUniqueId": "ST1"},
                    "assessmentRequestDescriptor": "uri://ksde.org/AssessmentRequestDescriptor#General Assessment"}}
    response = await client.post(URL, json=with_(_ext=ext))
    assert response.status_code == 201
    assert (await client.get(response.headers["Location"])).json()["_ext"] == ext
    bad = {"ksde": {"assessmentRequestDescriptor": "uri://ksde.org/AssessmentRequestDescriptor#Nope"}}
    assert (await client.post(URL, json=with_(_ext=bad))).status_code == 400


async def test_put_and_delete_by_id(client: httpx.AsyncClient) -> None:
    location = (await client.post(URL, json=BODY)).headers["Location"]
    item = location.rsplit("/", 1)[1]
    put = await client.put(f"{URL}/{item}", json=with_(administrationDate="2024-04-01T00:00:00Z"))
    assert put.status_code == 204
    key_change = await client.put(f"{URL}/{item}", json=with_(studentAssessmentIdentifier="Other_1_2024"))
    assert key_change.status_code == 400
    assert key_change.json()["type"].endswith("key-change-not-supported")
    assert (await client.put(f"{URL}/{'0' * 32}", json=BODY)).status_code == 404
    assert (await client.put(URL, json=BODY)).status_code == 405
    etag = (await client.get(f"{URL}/{item}")).headers["ETag"]
    assert (await client.get(f"{URL}/{item}", headers={"If-None-Match": etag})).status_code == 304
    stale = await client.put(f"{URL}/{item}", json=BODY, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    assert (await client.delete(f"{URL}/{item}")).status_code == 204
    missing = await client.delete(f"{URL}/{item}")
    assert missing.status_code == 404 and missing.json()["detail"] == "Resource to delete was not found."
    deletes = (await client.get(f"{URL}/deletes")).json()
    assert [d["id"] for d in deletes] == [item] and deletes[0]["keyValues"]["studentUniqueId"] == "00000001"
    assert (await client.get(f"{URL}/keyChanges")).json() == []


async def test_content_type_must_be_json(client: httpx.AsyncClient) -> None:
    response = await client.post(URL, content=b"{}", headers={"Content-Type": "text/plain"})
    assert response.status_code == 415


async def test_paging_and_filters(emu: EdfiEmulator, client: httpx.AsyncClient) -> None:
    for n in range(30):
        emu.add_student(f"S{n:03d}")
        body = with_(studentAssessmentIdentifier=f"Math_S{n:03d}_2024",
                     studentReference={"studentUniqueId": f"S{n:03d}"})
        assert (await client.post(URL, json=body)).status_code == 201
    page = await client.get(URL, params={"limit": 10, "offset": 25, "totalCount": "true"})
    assert page.headers["Total-Count"] == "30" and len(page.json()) == 5
    assert len((await client.get(URL)).json()) == 25  # default limit
    assert (await client.get(URL, params={"limit": 501})).status_code == 400
    one = await client.get(URL, params={"studentUniqueId": "S007"})
    assert [r["studentAssessmentIdentifier"] for r in one.json()] == ["Math_S007_2024"]


async def test_legacy_error_bodies(emu: EdfiEmulator) -> None:
    emu.legacy_errors = True
    async with httpx.AsyncClient(transport=EmulatorTransport(emu), base_url="http://ods") as http:
        token = (await http.post("/oauth/token", data={"grant_type": "client_credentials"},
                                 auth=("key", "secret"))).json()["access_token"]
        response = await http.post(URL, json=with_(studentReference={"studentUniqueId": "x"}),
                                   headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 409 and set(response.json()) == {"message"}


async def test_faults_at_their_rates(emu: EdfiEmulator, client: httpx.AsyncClient) -> None:
    emu.faults.configure(FaultSettings(error_rate=0.2, throttle_rate=0.1, drop_rate=0.05, seed=11))
    statuses: dict[str, int] = {}
    for _ in range(400):
        try:
            response = await client.get(URL)
            key = str(response.status_code)
            if response.status_code == 429:
                assert float(response.headers["Retry-After"]) >= 0
        except httpx.RemoteProtocolError:
            key = "dropped"
        statuses[key] = statuses.get(key, 0) + 1
    errors = statuses.get("500", 0) + statuses.get("503", 0)
    assert 50 <= errors <= 110 and 20 <= statuses.get("429", 0) <= 60 and 5 <= statuses.get("dropped", 0) <= 40
    assert emu.faults.injected["error"] == errors


def test_durable_state_survives_a_restart(tmp_path: Any) -> None:
    import asyncio

    db = tmp_path / "ods.sqlite"

    async def write() -> str:
        async with token_client(seeded_emulator(db_path=db)) as http:
            response = await http.post(URL, json=BODY)
            return str(response.headers["Location"].rsplit("/", 1)[1])

    item = asyncio.run(write())
    again = EdfiEmulator(db_path=db)
    assert [r["id"] for r in again.records()] == [item]


async def test_reference_resources_can_be_seeded_over_http(emu: EdfiEmulator, client: httpx.AsyncClient) -> None:
    assert (await client.post("/data/v3/ed-fi/students", json={"studentUniqueId": "NEW1"})).status_code == 201
    assert (await client.post("/data/v3/ed-fi/schools", json={"schoolId": 555})).status_code == 201
    created = await client.post("/data/v3/ed-fi/students", json={"studentUniqueId": "NEW2"})
    listed = (await client.get("/data/v3/ed-fi/students", params={"limit": 500})).json()
    new2 = next(s for s in listed if s["studentUniqueId"] == "NEW2")
    assert created.headers["Location"].endswith(new2["id"]) and new2["_etag"] and new2["_lastModifiedDate"]
    body = with_(studentReference={"studentUniqueId": "NEW1"}, reportedSchoolReference={"schoolId": 555},
                 studentAssessmentIdentifier="Math_NEW1_2024")
    assert (await client.post(URL, json=body)).status_code == 201
    assert (await client.post("/data/v3/ed-fi/students", json={"nope": 1})).status_code == 400
