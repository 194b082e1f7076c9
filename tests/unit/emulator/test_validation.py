"""Validation and write semantics beyond the basic contract (API-BEHAVIOUR.md 1.5-1.7, 2.1-2.7)."""

from __future__ import annotations

from typing import Any

import httpx

from streams.emulator.core import EdfiEmulator
from tests.unit.emulator.emulator_sample import seeded_emulator, token_client

URL = "/data/v3/ed-fi/studentAssessments"
NS = "uri://ksde.org/Assessment/Assessment.xml"
HISTORY = "State History/Gov Assessment"


def history(body: dict[str, Any], *codes: str) -> dict[str, Any]:
    body["assessmentReference"]["assessmentIdentifier"] = HISTORY
    body["studentObjectiveAssessments"] = [{"objectiveAssessmentReference": {
        "assessmentIdentifier": HISTORY, "identificationCode": code, "namespace": NS}} for code in codes]
    return body


async def test_error_bodies_are_problem_details(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    unsupported = await client.post(URL, content=b"{}", headers={"Content-Type": "text/plain"})
    assert unsupported.status_code == 415
    assert unsupported.json()["type"] == "urn:ed-fi:api:unsupported-media-type"
    assert unsupported.json()["title"] == "Unsupported Media Type" and unsupported.json()["correlationId"]
    empty = await client.post(URL, content=b"", headers={"Content-Type": "application/json"})
    assert empty.status_code == 400 and empty.json()["errors"] == ["A non-empty request body is required."]
    to_item = await client.post(f"{URL}/{'a' * 32}", json=body)
    assert to_item.status_code == 405 and to_item.json()["type"] == "urn:ed-fi:api:method-not-allowed"
    assert "can only be updated using PUT" in to_item.json()["errors"][0]
    assert (await client.patch(URL, json=body)).status_code == 405
    missing = await client.get(f"{URL}/{'0' * 32}")
    assert missing.status_code == 404 and missing.json()["detail"] == "The specified item could not be found."


async def test_correlation_id_header_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{URL}/{'0' * 32}", headers={"correlation-id": "abc-123"})
    assert response.json()["correlationId"] == "abc-123"


async def test_missing_required_member_is_reported_at_its_path(client: httpx.AsyncClient,
                                                                body: dict[str, Any]) -> None:
    del body["scoreResults"][0]["result"]
    response = await client.post(URL, json=body)
    assert response.status_code == 400
    assert response.json()["validationErrors"] == {"$.scoreResults[0].result": ["Result is required."]}


async def test_numeric_strings_are_coerced_and_stored_as_numbers(client: httpx.AsyncClient,
                                                                 body: dict[str, Any]) -> None:
    body["schoolYearTypeReference"] = {"schoolYear": "2024"}
    body["reportedSchoolReference"] = {"schoolId": "101"}
    response = await client.post(URL, json=body)
    assert response.status_code == 201
    item = (await client.get(response.headers["Location"])).json()
    assert item["schoolYearTypeReference"]["schoolYear"] == 2024
    assert item["reportedSchoolReference"]["schoolId"] == 101


async def test_bad_dates_and_int_overflow_are_400(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    body["administrationDate"] = "2024-13-45"
    body["assessedMinutes"] = 2**31
    response = await client.post(URL, json=body)
    errors = response.json()["validationErrors"]
    assert response.status_code == 400 and set(errors) == {"$.administrationDate", "$.assessedMinutes"}
    assert "System.Int32" in errors["$.assessedMinutes"][0]
    for accepted in ("2024-03-20", "2024/03/20", "2024-03-20T10:15:00", "2024-03-20T10:15:00.123Z"):
        body.update(administrationDate=accepted, assessedMinutes=30)
        assert (await client.post(URL, json=body)).status_code in (200, 201), accepted


async def test_leading_spaces_in_every_identity_member(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    body["studentReference"]["studentUniqueId"] = "00000001 "
    body["assessmentReference"]["namespace"] = " " + NS
    errors = (await client.post(URL, json=body)).json()["validationErrors"]
    assert errors["$.studentReference.studentUniqueId"] == [
        "StudentUniqueId cannot contain leading or trailing spaces."]
    assert "$.assessmentReference.namespace" in errors


async def test_objective_assessments_are_references(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    assert (await client.post(URL, json=history(body, "01", "03"))).status_code == 201
    unknown = await client.post(URL, json=history(body, "01", "99"))
    assert unknown.status_code == 409
    assert unknown.json()["detail"] == "The referenced 'ObjectiveAssessment' item does not exist."
    twice = await client.post(URL, json=history(body, "02", "02"))
    assert twice.status_code == 400
    assert twice.json()["validationErrors"]["$.studentObjectiveAssessments"] == [
        "The 2nd item of the StudentAssessmentStudentObjectiveAssessments has the same identifying values as "
        "another item earlier in the list."]


async def test_equality_constraint_body(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    body = history(body, "01")
    body["studentObjectiveAssessments"][0]["objectiveAssessmentReference"]["namespace"] = "uri://other.org/A"
    problem = (await client.post(URL, json=body)).json()
    message = ("All values supplied for 'namespace' must match. Review all references (including those higher up "
               "in the resource's data) and align the following conflicting values: "
               f"'{NS}', 'uri://other.org/A'")
    # at the child member only, by its index (ODS Postman ResponseTests, contextual unified keys)
    assert problem["validationErrors"] == {
        "$.studentObjectiveAssessments[0].objectiveAssessmentReference.namespace": [message]}


async def test_malformed_descriptor_and_unknown_extension_descriptor(client: httpx.AsyncClient,
                                                                   body: dict[str, Any]) -> None:
    body["whenAssessedGradeLevelDescriptor"] = "Fifth grade"
    problem = (await client.post(URL, json=body)).json()
    assert problem["validationErrors"]["$.whenAssessedGradeLevelDescriptor"] == [
        "GradeLevelDescriptor value 'Fifth grade' is not a valid value for use as a descriptor (a '#' is "
        "expected to delineate the namespace and code value portions)."]
    body["whenAssessedGradeLevelDescriptor"] = "uri://ed-fi.org/GradeLevelDescriptor#Fifth grade"
    body["_ext"] = {"ksde": {"assessmentRequestDescriptor": "uri://ksde.org/AssessmentRequestDescriptor#Nope"}}
    problem = (await client.post(URL, json=body)).json()
    assert problem["validationErrors"] == {"$._ext.ksde.assessmentRequestDescriptor": [
        "AssessmentRequestDescriptor value 'uri://ksde.org/AssessmentRequestDescriptor#Nope' does not exist."]}


async def test_extension_keeps_only_kansas_members(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    body["_ext"] = {"ksde": {"proctorStaffReference": {"staffUniqueId": "ST1"}, "other": 1}, "tpdm": {"x": 1}}
    location = (await client.post(URL, json=body)).headers["Location"]
    assert (await client.get(location)).json()["_ext"] == {"ksde": {"proctorStaffReference": {"staffUniqueId": "ST1"}}}


async def test_unchanged_post_keeps_etag_and_change_version(emu: EdfiEmulator, client: httpx.AsyncClient,
                                                            body: dict[str, Any]) -> None:
    first = await client.post(URL, json=body)
    version = emu.change_version
    again = await client.post(URL, json=body)
    assert again.status_code == 200 and again.headers["ETag"] == first.headers["ETag"]
    assert emu.change_version == version
    body["scoreResults"][0]["result"] = "251"
    changed = await client.post(URL, json=body)
    assert changed.headers["ETag"] != first.headers["ETag"] and emu.change_version == version + 1


async def test_post_replaces_the_whole_document(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    location = (await client.post(URL, json=body)).headers["Location"]
    del body["scoreResults"]
    assert (await client.post(URL, json=body)).status_code == 200
    assert (await client.get(location)).json()["scoreResults"] == []   # every collection is read back


async def test_put_by_dashed_id_with_if_match_and_malformed_id(client: httpx.AsyncClient,
                                                               body: dict[str, Any]) -> None:
    created = await client.post(URL, json=body)
    item = created.headers["Location"].rsplit("/", 1)[1]
    dashed = f"{item[:8]}-{item[8:12]}-{item[12:16]}-{item[16:20]}-{item[20:]}"
    body["id"] = "ignored-on-put"
    put = await client.put(f"{URL}/{dashed}", json=body, headers={"If-Match": created.headers["ETag"]})
    assert put.status_code == 204 and put.headers["Location"].endswith(item)
    bad = await client.put(f"{URL}/xyz", json=body)
    assert bad.status_code == 400 and bad.json()["validationErrors"] == {"$.id": ["The value 'xyz' is not valid."]}
    assert (await client.delete(f"{URL}/xyz")).status_code == 400
    stale = await client.delete(f"{URL}/{item}", headers={"If-Match": '"0"'})
    assert stale.status_code == 412 and stale.json()["type"] == "urn:ed-fi:api:optimistic-lock-failed"


async def test_ods_read_shape_adds_links_and_empty_collections(body: dict[str, Any]) -> None:
    emu = seeded_emulator(ods_read_shape=True)
    async with token_client(emu) as http:
        location = (await http.post(URL, json=history(body, "01"))).headers["Location"]
        item = (await http.get(location)).json()
        seeded = await http.post("/data/v3/ed-fi/students", json={"studentUniqueId": "00000001"})
    assert item["accommodations"] == [] and item["items"] == [] and item["performanceLevels"] == []
    assert item["studentObjectiveAssessments"][0]["scoreResults"] == []
    assert item["assessmentReference"]["link"]["rel"] == "Assessment"
    objective = item["studentObjectiveAssessments"][0]["objectiveAssessmentReference"]
    assert objective["link"]["rel"] == "ObjectiveAssessment"
    # the student's link names the same id as the seeding Location of that student
    assert seeded.headers["Location"].endswith(item["studentReference"]["link"]["href"])
    assert emu.records()[0]["accommodations"] == []


async def test_an_emulator_bug_answers_500_problem_details(emu: EdfiEmulator, client: httpx.AsyncClient,
                                                           body: dict[str, Any],
                                                           monkeypatch: Any) -> None:
    def broken(*_: Any) -> None:
        raise RuntimeError("bug")

    from streams.emulator import write_checks

    monkeypatch.setattr(write_checks, "unresolved_reference", broken)
    response = await client.post(URL, json=body)
    assert response.status_code == 500 and response.json()["type"] == "urn:ed-fi:api:system"
