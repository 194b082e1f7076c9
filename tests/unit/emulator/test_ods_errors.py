"""Contract: error bodies as the ODS/API answers them (issue 18, items 3 and 4).

Source, unless a test names another: ODS ``Postman Test Suite/Ed-Fi ODS-API Integration Test Suite
ResponseTests.postman_collection.json`` at 24fe66cf (the request path of each item is in the test's
docstring). The Postman items use students or courses; the behaviour is the same for every resource.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from streams.emulator.core import EdfiEmulator

URL = "/data/v3/ed-fi/studentAssessments"
JSON = {"Content-Type": "application/json"}
VALIDATION = "urn:ed-fi:api:bad-request:data-validation-failed"
DETAIL = "Data validation failed. See 'validationErrors' for details."


async def created_id(client: httpx.AsyncClient, body: dict[str, Any]) -> str:
    return str((await client.post(URL, json=body)).headers["Location"].rsplit("/", 1)[1])


async def test_put_without_a_body(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    """Put/when_putting_a_resource_with_null_parameters/.../Put Request without request body"""
    item = await created_id(client, body)
    problem = (await client.put(f"{URL}/{item}", content=b"", headers=JSON)).json()
    assert (problem["status"], problem["type"], problem["detail"]) == (400, VALIDATION, DETAIL)
    assert problem["validationErrors"] == {"$": ["A non-empty request body is required."]}


async def test_put_with_a_malformed_id_and_no_body(client: httpx.AsyncClient) -> None:
    """Put/.../Put Request with MalformedId and without request body: both ``$`` and ``$.id``."""
    problem = (await client.put(f"{URL}/x", content=b"", headers=JSON)).json()
    assert (problem["status"], problem["type"], problem["detail"]) == (400, VALIDATION, DETAIL)
    assert problem["validationErrors"] == {"$": ["A non-empty request body is required."],
                                           "$.id": ["The value 'x' is not valid."]}


async def test_put_with_a_malformed_id(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    """Put/.../Put Request with MalformedId"""
    problem = (await client.put(f"{URL}/x", json=body)).json()
    assert problem["validationErrors"] == {"$.id": ["The value 'x' is not valid."]}


@pytest.mark.parametrize("query", ["id=invalid", "offset=0&limit=25&id=invalid"])
async def test_get_by_an_invalid_id_filter(client: httpx.AsyncClient, query: str) -> None:
    """Get/GetByExample_400_Tests/When_Given_an_invalid_id_filter_Should_return_400 (and alongside valid filters)"""
    response = await client.get(f"{URL}?{query}")
    problem = response.json()
    assert (response.status_code, problem["type"], problem["title"]) == (400, VALIDATION, "Data Validation Failed")
    assert "The value 'invalid' is not valid for Id." in problem["validationErrors"]["$.id"]


async def test_get_by_a_valid_id_filter(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    item = await created_id(client, body)
    dashed = f"{item[:8]}-{item[8:12]}-{item[12:16]}-{item[16:20]}-{item[20:]}"
    assert [r["id"] for r in (await client.get(URL, params={"id": dashed})).json()] == [item]


@pytest.mark.parametrize("method", ["PATCH", "OPTIONS"])
async def test_patch_and_options_on_the_collection_name_the_method(client: httpx.AsyncClient, method: str) -> None:
    """Get/GetAll_405_Tests/when_http_method_is_patch_should_return_405 (and _options_)"""
    response = await client.request(method, URL)
    problem = response.json()
    assert (response.status_code, problem["type"], problem["detail"]) == (
        405, "urn:ed-fi:api:method-not-allowed", "The request construction was invalid.")
    assert f"The endpoint of the request does not support the '{method}' method." in problem["errors"]


async def test_correlation_id_from_the_query_string_and_the_header(client: httpx.AsyncClient) -> None:
    """CorrelationId Usage: none (server-generated), as query string, as header, both (the header wins)."""
    async def correlation(query: str = "", headers: dict[str, str] | None = None) -> str:
        response = await client.post(f"{URL}{query}", json={}, headers=headers or {})
        assert response.status_code == 400
        return str(response.json()["correlationId"])

    assert len(await correlation()) != 12
    assert await correlation("?correlationId=abcd-in-querystring") == "abcd-in-querystring"
    assert await correlation(headers={"correlation-id": "abcd-in-header"}) == "abcd-in-header"
    assert await correlation("?correlationId=abcd-in-querystring",
                             {"correlation-id": "abcd-in-header"}) == "abcd-in-header"


async def test_required_members_are_named_as_the_ods_names_them(client: httpx.AsyncClient,
                                                               body: dict[str, Any]) -> None:
    """Post/when_posting_a_resource_missing_a_required_value: an empty required string is "X is required
    and should not be left empty."; a missing one "X is required." (DOCS error-response KB, API-BEHAVIOUR 2.7.1)."""
    body["studentAssessmentIdentifier"] = ""
    problem = (await client.post(URL, json=body)).json()
    assert problem["validationErrors"] == {
        "$.studentAssessmentIdentifier": ["StudentAssessmentIdentifier is required and should not be left empty."]}
    del body["studentAssessmentIdentifier"]
    del body["studentReference"]
    problem = (await client.post(URL, json=body)).json()
    assert problem["validationErrors"] == {
        "$.studentAssessmentIdentifier": ["StudentAssessmentIdentifier is required."],
        "$.studentReference": ["StudentReference is required."]}


async def test_a_mismatched_unified_key_is_reported_at_the_child_member_only(client: httpx.AsyncClient,
                                                                             body: dict[str, Any]) -> None:
    """Post/when_posting_a_resource_with_contextual_unified_keys_with_different_source_values: one entry per
    child member by its index, none at the parent."""
    ns = body["assessmentReference"]["namespace"]
    body["items"] = [{"assessmentItemReference": {"assessmentIdentifier": "State Mathematics Assessment",
                                                  "identificationCode": code, "namespace": namespace},
                      "assessmentResponse": "A",
                      "assessmentItemResultDescriptor": "uri://ed-fi.org/AssessmentItemResultDescriptor#Correct"}
                     for code, namespace in (("1", ns), ("2", "uri://other.org/Assessment"))]
    problem = (await client.post(URL, json=body)).json()
    assert problem["validationErrors"] == {"$.items[1].assessmentItemReference.namespace": [
        "All values supplied for 'namespace' must match. Review all references (including those higher up in "
        f"the resource's data) and align the following conflicting values: '{ns}', 'uri://other.org/Assessment'"]}


async def test_an_assessment_item_the_ods_does_not_hold_is_409(emu: EdfiEmulator, client: httpx.AsyncClient,
                                                                body: dict[str, Any]) -> None:
    """ODS: items[].assessmentItemReference is a foreign key (StudentAssessmentItem -> AssessmentItem),
    so an unknown item is 409 unresolved-reference, as ``when_posting_an_association_where_resource_does_not_exist``
    (API-BEHAVIOUR.md 2.7.3, 8 item 5)."""
    ref = {"assessmentIdentifier": "State Mathematics Assessment", "identificationCode": "Q1",
           "namespace": body["assessmentReference"]["namespace"]}
    body["items"] = [{"assessmentItemReference": ref, "assessmentResponse": "A",
                      "assessmentItemResultDescriptor": "uri://ed-fi.org/AssessmentItemResultDescriptor#Correct"}]
    emu.add_descriptor("AssessmentItemResultDescriptor", "uri://ed-fi.org/AssessmentItemResultDescriptor#Correct")
    response = await client.post(URL, json=body)
    assert response.status_code == 409
    assert response.json()["type"] == "urn:ed-fi:api:data-conflict:unresolved-reference"
    assert response.json()["detail"] == "The referenced 'AssessmentItem' item does not exist."
    seeded = await client.post("/data/v3/ed-fi/assessmentItems", json={
        "identificationCode": "Q1", "assessmentReference": {k: ref[k] for k in ("assessmentIdentifier", "namespace")}})
    assert seeded.status_code == 201
    created = await client.post(URL, json=body)
    assert created.status_code == 201
    item = (await client.get(created.headers["Location"])).json()["items"][0]
    assert item["assessmentItemReference"]["link"]["href"] == seeded.headers["Location"].split("/data/v3", 1)[1]
