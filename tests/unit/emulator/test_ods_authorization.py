"""Contract: a client whose claim set does not cover a record's school gets 403 (issue 18, item 7), and the
egress's handling of such a 403.

Source: DMS ``src/dms/tests/EdFi.DataManagementService.Tests.E2E/Features/Authorization/RoleNamedSecurity/``
``StudentAssessmentAuthorization.feature``: a client of school 255901001 POSTs (01, 201), reads by id (02.1)
and by query (02.2), PUTs (03, 204) and DELETEs (04, 204); a client of 255901044 gets 403 on POST (05), GET
by id (06.1), PUT (07) and DELETE (08), and GET by query answers 200 ``[]`` (06.2). The 403 body is
API-BEHAVIOUR.md 2.7.5's. ODS Postman "Custom View-Based Authorization Test Suite", "Student Assessment
Lifecyle" 1-2: a studentAssessment outside the client's authorization is 403 "Access to the requested data
could not be authorized.".
"""

from __future__ import annotations

import copy
from typing import Any

import httpx

from streams.config import EdfiSettings
from streams.edfi.client import EdfiClient
from streams.edfi.dispatcher import EgressDispatcher
from streams.edfi.sender import SendResult, WriteSender
from streams.emulator.core import EdfiEmulator
from streams.emulator.transport import EmulatorTransport
from streams.writes import NaturalKey, WriteCommand
from tests.unit.emulator.emulator_sample import SAMPLE, seeded_emulator

URL = "/data/v3/ed-fi/studentAssessments"
OURS, THEIRS = 255901001, 255901044


def emulator() -> EdfiEmulator:
    emu = seeded_emulator()
    emu.add_school(OURS)
    emu.add_school(THEIRS)
    emu.add_client("ours", "s1", education_organization_ids=[OURS])
    emu.add_client("theirs", "s2", education_organization_ids=[THEIRS])
    return emu


async def client_of(emu: EdfiEmulator, key: str, secret: str) -> httpx.AsyncClient:
    http = httpx.AsyncClient(transport=EmulatorTransport(emu), base_url="http://ods")
    token = (await http.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=(key, secret))).json()
    http.headers["Authorization"] = f"Bearer {token['access_token']}"
    return http


def record(school: int, said: str = "Math_00000001_2024") -> dict[str, Any]:
    body = copy.deepcopy(SAMPLE)
    body["studentAssessmentIdentifier"] = said
    body["reportedSchoolReference"] = {"schoolId": school}
    return body


def assert_forbidden(response: httpx.Response) -> None:
    problem = response.json()
    assert (response.status_code, problem["type"], problem["title"], problem["detail"]) == (
        403, "urn:ed-fi:api:security:authorization", "Authorization Denied",
        "Access to the requested data could not be authorized.")
    assert problem["errors"] == ["No relationships have been established between the caller's education "
                                 f"organization id claims ('{THEIRS}') and the resource item's 'ReportedSchool' value."]


async def test_the_lifecycle_of_an_authorized_and_an_unauthorized_client() -> None:
    emu = emulator()
    ours, theirs = await client_of(emu, "ours", "s1"), await client_of(emu, "theirs", "s2")
    try:
        created = await ours.post(URL, json=record(OURS))                                     # 01
        assert created.status_code == 201
        location = created.headers["Location"]
        assert (await ours.get(location)).status_code == 200                                   # 02.1
        said = {"studentAssessmentIdentifier": "Math_00000001_2024"}
        assert len((await ours.get(URL, params=said)).json()) == 1                             # 02.2
        assert_forbidden(await theirs.post(URL, json=record(OURS)))                            # 05
        assert_forbidden(await theirs.get(location))                                           # 06.1
        listed = await theirs.get(URL, params=said)                                            # 06.2
        assert (listed.status_code, listed.json()) == (200, [])
        assert_forbidden(await theirs.put(location, json=record(OURS)))                        # 07
        assert_forbidden(await theirs.delete(location))                                        # 08
        moved = await theirs.post(URL, json=record(THEIRS))        # an upsert of a record of ours: an update
        assert_forbidden(moved)
        assert (await ours.put(location, json=record(OURS))).status_code == 204                # 03
        assert (await ours.delete(location)).status_code == 204                                # 04
    finally:
        await ours.aclose()
        await theirs.aclose()


async def test_authorization_comes_before_the_reference_check() -> None:
    """A record of a school outside the claims is 403 even when it references a student the ODS lacks
    (API-BEHAVIOUR.md 2.7.3: with relationship-based authorization a missing person yields 403)."""
    emu = emulator()
    theirs = await client_of(emu, "theirs", "s2")
    try:
        body = record(OURS)
        body["studentReference"] = {"studentUniqueId": "not-in-the-ods"}
        assert_forbidden(await theirs.post(URL, json=body))
    finally:
        await theirs.aclose()


async def test_a_token_scoped_to_one_school_covers_only_that_school() -> None:
    emu = emulator()
    emu.add_client("both", "s3", education_organization_ids=[OURS, THEIRS])
    async with httpx.AsyncClient(transport=EmulatorTransport(emu), base_url="http://ods") as http:
        answer = (await http.post("/oauth/token", data={"grant_type": "client_credentials", "scope": str(THEIRS)},
                                  auth=("both", "s3"))).json()
        http.headers["Authorization"] = f"Bearer {answer['access_token']}"
        assert_forbidden(await http.post(URL, json=record(OURS)))
        assert (await http.post(URL, json=record(THEIRS))).status_code == 201


async def test_the_egress_dead_letters_the_record_of_a_school_outside_the_claims_and_sends_the_others() -> None:
    """The product's egress (client, sender, dispatcher) with a client limited to school ``THEIRS``: the one
    record of another school ends as a dead letter carrying the 403 and its Ed-Fi error; the records of the
    client's school reach the ODS; nothing waits forever (everything is committable)."""
    emu = emulator()
    for n in range(2, 6):
        emu.add_student(f"{n:08d}")

    async def no_sleep(seconds: float) -> None:
        return None

    client = EdfiClient(EdfiSettings(base_url="http://ods", max_retries=1), "theirs", "s2",
                        transport=EmulatorTransport(emu), sleep=no_sleep)
    dead: list[tuple[WriteCommand, SendResult]] = []

    async def on_dead(cmd: WriteCommand, result: SendResult) -> None:
        dead.append((cmd, result))

    dispatcher = EgressDispatcher(WriteSender(client, {}), max_in_flight=1, on_dead_letter=on_dead)
    schools = [THEIRS, THEIRS, OURS, THEIRS, THEIRS]
    try:
        for offset, school in enumerate(schools):
            body = record(school, f"Math_{offset + 1:08d}_2024")
            body["studentReference"] = {"studentUniqueId": f"{offset + 1:08d}"}
            await dispatcher.submit(WriteCommand("POST", NaturalKey.of_payload(body), body, "test", school_id=school),
                                    (0, offset))
        await dispatcher.drain()
    finally:
        await client.aclose()
    assert [(c.key, r.status) for c, r in dead] == [("Math_00000003_2024", 403)]
    error = dead[0][1].error
    assert error is not None and error.type == "urn:ed-fi:api:security:authorization"
    assert sorted(r["studentAssessmentIdentifier"] for r in emu.records()) == [
        "Math_00000001_2024", "Math_00000002_2024", "Math_00000004_2024", "Math_00000005_2024"]
    assert dispatcher.committable() == {0: 4}


def test_the_emulator_verb_can_limit_its_client_to_some_schools() -> None:
    from streams.emulator.cli import parse_schools
    from streams.emulator.server import build_emulator

    assert parse_schools(None) is None and parse_schools(" ") is None
    schools = parse_schools(f"{OURS}, {THEIRS}")
    emu = build_emulator(clients={"k": "s", "other": "t"}, client_schools={"k": schools or []})
    assert emu.client_education_organizations == {"k": frozenset({OURS, THEIRS})}
