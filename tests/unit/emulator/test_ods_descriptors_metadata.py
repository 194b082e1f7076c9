"""Contract: descriptors, discovery and metadata as the ODS/API answers them (issue 18, items 5 and 6).

Sources:
* DMS ``src/dms/tests/EdFi.DataManagementService.Tests.E2E/Features/Descriptors/``
  ``ReadDescriptorsValidation.feature`` (sc. 01 by id, 02 unknown id 404, 04-06 ``codeValue``/``namespace``
  filters, 07 malformed id 400) and
  ``CreateDescriptorsValidation.feature`` (sc. 01 201, 11 ``id`` in the body 400, 15 existing 200);
* ODS ``Postman Test Suite/Ed-Fi ODS-API Integration Test Suite ResponseTests.postman_collection.json``,
  "GetAll_200_Tests/When_No_Resources_Exist_Should_Return_Empty_Collection_With_200";
* ODS ``tests/EdFi.Ods.WebApi.IntegrationTests/Controllers/VersionControllerTests.cs`` and
  ``Application/EdFi.Ods.Api/Constants/ApiVersionConstants.cs``;
* ODS ``tests/EdFi.Ods.WebApi.IntegrationTests/Controllers/``
  ``OpenApiMetadataControllerTests.MetadataEndpointGetShouldBeValid.approved.txt``;
* ODS ``tests/EdFi.Ods.WebApi.IntegrationTests/Controllers/Standard/5.2.0/``
  ``AggregateDependencyControllerTests.Should_Get_Dependencies.approved.txt``.
"""

from __future__ import annotations

import httpx

from streams.emulator.core import EdfiEmulator

DATA = "/data/v3/ed-fi"
SICK = {"codeValue": "Sick Leave", "description": "Sick Leave",
        "namespace": "uri://ed-fi.org/AbsenceEventCategoryDescriptor", "shortDescription": "Sick Leave"}


async def test_a_descriptor_is_readable_by_id_at_its_location(client: httpx.AsyncClient) -> None:
    created = await client.post(f"{DATA}/absenceEventCategoryDescriptors", json=SICK)
    assert created.status_code == 201
    item = (await client.get(created.headers["Location"])).json()
    assert {k: item[k] for k in ("codeValue", "namespace", "shortDescription")} == {
        k: SICK[k] for k in ("codeValue", "namespace", "shortDescription")}
    assert created.headers["Location"].endswith("/" + item["id"]) and len(item["id"]) == 32
    assert item["_etag"] and item["_lastModifiedDate"].endswith("Z")
    again = await client.post(f"{DATA}/absenceEventCategoryDescriptors", json=SICK)
    assert (again.status_code, again.headers["Location"]) == (200, created.headers["Location"])   # sc. 15
    unknown = await client.get(f"{DATA}/absenceEventCategoryDescriptors/124c8513-fade-4ce2-ab71-0e40e148de5b")
    assert unknown.status_code == 404                                                            # sc. 02
    malformed = await client.get(f"{DATA}/absenceEventCategoryDescriptors/00112233445566")
    assert malformed.status_code == 400                                                          # sc. 07
    assert malformed.json()["validationErrors"] == {"$.id": ["The value '00112233445566' is not valid."]}


async def test_descriptor_filters_by_code_value_and_namespace(client: httpx.AsyncClient) -> None:
    url = f"{DATA}/academicSubjectDescriptors"
    found = (await client.get(url, params={"codeValue": "mathematics"})).json()
    assert [(d["namespace"], d["codeValue"]) for d in found] == [
        ("uri://ed-fi.org/AcademicSubjectDescriptor", "Mathematics")]
    assert all(d["_etag"] and d["_lastModifiedDate"] for d in found)
    assert (await client.get(url, params={"codeValue": "Test"})).json() == []                     # sc. 04
    assert (await client.get(url, params={"namespace": "uri://ed-fi.org/DoesNotExist"})).json() == []  # sc. 05
    assert (await client.get(url, params={                                                      # sc. 06
        "namespace": "uri://ed-fi.org/AcademicSubjectDescriptor#Mathematics"})).json() == []
    by_id = (await client.get(f"{url}/{found[0]['id']}")).json()
    assert by_id == found[0]


async def test_a_valid_descriptor_resource_with_no_values_answers_an_empty_array(client: httpx.AsyncClient) -> None:
    """Data Standard 5.2 has behaviorDescriptors; the emulated ODS holds none: 200 [], not 404."""
    response = await client.get(f"{DATA}/behaviorDescriptors")
    assert (response.status_code, response.json()) == (200, [])
    assert (await client.get(f"{DATA}/noSuchThingDescriptors")).status_code == 404


async def test_an_id_in_a_descriptor_post_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{DATA}/absenceEventCategoryDescriptors",
                                 json={"id": "3a93cdce-157d-4cfe-b6f8-d5caa88c986b", **SICK})   # sc. 11
    problem = response.json()
    assert (response.status_code, problem["type"], problem["detail"]) == (
        400, "urn:ed-fi:api:bad-request:data-validation-failed", "The request data was constructed incorrectly.")
    assert problem["errors"] == ["Resource identifiers cannot be assigned by the client. The 'id' property "
                                 "should not be included in the request body."]


async def test_descriptor_writes_advance_the_change_version(client: httpx.AsyncClient) -> None:
    versions = "/changeQueries/v1/availableChangeVersions"
    before = (await client.get(versions)).json()["newestChangeVersion"]
    await client.post(f"{DATA}/absenceEventCategoryDescriptors", json=SICK)
    after = (await client.get(versions)).json()["newestChangeVersion"]
    assert after == before + 1
    changed = (await client.get(f"{DATA}/absenceEventCategoryDescriptors",
                                params={"minChangeVersion": after})).json()
    assert [d["codeValue"] for d in changed] == ["Sick Leave"]


async def test_discovery_as_the_version_controller(client: httpx.AsyncClient) -> None:
    root = (await client.get("/")).json()
    assert (root["applicationName"], root["version"], root["informationalVersion"], root["suite"]) == (
        "Ed-Fi Alliance ODS/API", "7.3", "7.3.2", "3")
    assert root["build"] and root["dataModels"]
    assert {"dependencies", "openApiMetadata", "oauth", "dataManagementApi", "xsdMetadata", "composites",
            "identity"} <= set(root["urls"])


async def test_metadata_lists_what_the_ods_lists(client: httpx.AsyncClient) -> None:
    listed = (await client.get("/metadata/")).json()
    assert [(m["name"], m["prefix"]) for m in listed] == [
        ("Enrollment", "Composites"), ("Identity", "Other"), ("Descriptors", ""), ("Resources", "")]
    assert [m["endpointUri"].split("/metadata", 1)[1] for m in listed] == [
        "/composites/v1/ed-fi/enrollment/swagger.json", "/identity/v2/swagger.json",
        "/data/v3/descriptors/swagger.json", "/data/v3/resources/swagger.json"]
    for entry in listed:
        path = entry["endpointUri"].split("://", 1)[1].split("/", 1)[1]
        assert (await client.get("/" + path)).json()["openapi"].startswith("3.")


async def test_dependencies_give_the_approved_order(emu: EdfiEmulator, client: httpx.AsyncClient) -> None:
    deps = (await client.get("/metadata/data/v3/dependencies")).json()
    order = {(d["resource"], tuple(d["operations"])): d["order"] for d in deps}
    assert order[("/ed-fi/studentAssessments", ("Create", "Update"))] == 14
    assert order[("/ed-fi/students", ("Create",))] == 3 and order[("/ed-fi/students", ("Update",))] == 14
    assert order[("/ed-fi/schools", ("Create", "Update"))] == 5
    assert order[("/ed-fi/assessments", ("Create", "Update"))] == 11
    assert order[("/ed-fi/objectiveAssessments", ("Create", "Update"))] == 13
    assert order[("/ed-fi/academicSubjectDescriptors", ("Create", "Update"))] == 1
    assert order[("/ed-fi/assessmentRequestDescriptors", ("Create", "Update"))] == 1   # Kansas's, held
    assert [d["order"] for d in deps] == sorted(d["order"] for d in deps)
