"""Contract: the token endpoint answers as the ODS's TokenController (issue 18, item 2).

Source: ODS ``Application/EdFi.Ods.Tests/EdFi.Ods.Api/Controllers/TokenControllerTests.cs`` (fixtures named
in each test) and ``Application/EdFi.Ods.Api/Controllers/TokenController.cs``,
``Providers/ClientCredentialsTokenRequestProvider.cs`` at 24fe66cf.
"""

from __future__ import annotations

import base64

import httpx
import pytest

from streams.emulator.transport import EmulatorTransport
from tests.unit.emulator.emulator_sample import seeded_emulator

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def basic(text: str) -> str:
    return "Basic " + base64.b64encode(text.encode()).decode()


async def token(headers: dict[str, str], data: str, education_organizations: list[int] | None = None
                ) -> httpx.Response:
    emu = seeded_emulator()
    emu.add_client("clientId", "clientSecret", education_organization_ids=education_organizations)
    async with httpx.AsyncClient(transport=EmulatorTransport(emu), base_url="http://ods") as http:
        return await http.post("/oauth/token", content=data, headers={**FORM, **headers})


@pytest.mark.parametrize(("fixture", "headers", "body", "status", "error"), [
    ("With_valid_key_and_secret", {"Authorization": basic("clientId:clientSecret")},
     "grant_type=client_credentials", 200, None),
    ("With_valid_key_and_secret_in_request_body", {},
     "grant_type=client_credentials&client_id=clientId&client_secret=clientSecret", 200, None),
    ("With_No_Header_Request", {}, "grant_type=client_credentials", 401, "invalid_request"),
    ("With_Header_Invalid_Bearer_Token_Request (no grant_type)", {"Authorization": basic("clientId:clientSecret")},
     "", 400, "unsupported_grant_type"),
    ("..._client_id_is_provided_in_the_body_as_well", {"Authorization": basic("clientId:clientSecret")},
     "grant_type=client_credentials&client_id=clientId", 400, "invalid_client"),
    ("..._client_secret_is_provided_in_the_body_as_well", {"Authorization": basic("clientId:clientSecret")},
     "grant_type=client_credentials&client_secret=clientSecret", 400, "invalid_client"),
    ("Using_digest_authorization", {"Authorization": "Digest some-value"},
     "grant_type=client_credentials", 401, "invalid_client"),
    ("Using_basic_authorization_with_no_value", {"Authorization": "Basic "},
     "grant_type=client_credentials", 400, "invalid_request"),
    ("Using_basic_authorization_with_unacceptable_format_value",
     {"Authorization": "Basic Y2xpZW50SWQ6Y2xpZW50U2VjcmV0 Y2xpZW50SWQ6Y2xpZW50U2VjcmV0"},
     "grant_type=client_credentials", 400, "invalid_request"),
    ("Using_basic_authorization_with_invalid_value (decoded 'NoColonHere')",
     {"Authorization": "Basic Tm9Db2xvbkhlcmU="},
     "grant_type=client_credentials", 400, "invalid_client"),
    ("Using_basic_authorization_with_unencoded_value", {"Authorization": "Basic ThisIsNotBase64Encoded"},
     "grant_type=client_credentials", 400, "invalid_request"),
    ("bad secret", {"Authorization": basic("clientId:wrong")}, "grant_type=client_credentials", 401, "invalid_client"),
])
async def test_token_controller_fixtures(fixture: str, headers: dict[str, str], body: str, status: int,
                                         error: str | None) -> None:
    response = await token(headers, body)
    assert response.status_code == status, fixture
    if error is None:
        answer = response.json()
        assert answer["token_type"] == "bearer" and answer["expires_in"] == 1800 and len(answer["access_token"]) == 32
    else:
        assert response.json() == {"error": error}, fixture


async def test_a_scope_matching_an_associated_education_organization() -> None:
    """With_a_scope_matching_an_associated_EdOrgId: 200 with the scope echoed."""
    response = await token({"Authorization": basic("clientId:clientSecret")},
                           "grant_type=client_credentials&scope=255901", [255901, 255902])
    assert response.status_code == 200 and response.json()["scope"] == "255901"


@pytest.mark.parametrize(("scope", "description"), [
    ("999", "The client is not explicitly associated with the EducationOrganizationId specified in the "
            "requested 'scope'."),                                        # With_a_scope_not_matching_...
    ("abc", "The supplied 'scope' was not a number (it should be an EducationOrganizationId that is "
            "explicitly associated with the client)."),                   # With_a_scope_that_is_not_a_number
])
async def test_a_scope_the_client_may_not_use_is_invalid_scope(scope: str, description: str) -> None:
    response = await token({"Authorization": basic("clientId:clientSecret")},
                           f"grant_type=client_credentials&scope={scope}", [255901])
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_scope", "error_description": description}
