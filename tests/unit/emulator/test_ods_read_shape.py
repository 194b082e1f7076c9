"""Contract: the emulator reads back as the ODS/API does, and the product sees no difference between a
record and its read-back (issue 18, item 1).

Sources:
* DMS ``src/dms/tests/EdFi.DataManagementService.Tests.E2E/Features/General/DataStrictnessValidation.feature``
  scenarios 18-21 (each states "THIS IS ACCEPTED BY THE ODS/API"): ``administrationDate`` sent as
  ``2021-09-28``, ``2021/09/28``, ``2021-09-28 2:15:30 PM``, ``2022-09-05T16:44:33`` reads back
  ``2021-09-28T00:00:00Z``, ``2021-09-28T00:00:00Z``, ``2021-09-28T14:15:30Z``, ``2022-09-05T16:44:33Z``.
* ODS ``Postman Test Suite/Ed-Fi ODS-API Integration Test Suite ResponseTests.postman_collection.json``,
  "ResponseTests/Get/Reference Links": every reference carries ``link: {rel, href}``.
* SPEC ``api-guidelines/v4.0/API-DESIGN-GUIDELINES/GET-REQUESTS.md`` (API-BEHAVIOUR.md 1.7): ``id``,
  ``_etag``, ``_lastModifiedDate`` on every item, every collection answered.
"""

from __future__ import annotations

import copy
import json
import tempfile
from pathlib import Path
from typing import Any

import httpx
import pytest

from streams.config import EdfiSettings, load_settings
from streams.edfi.client import EdfiClient
from streams.edfi.readback import comparable
from streams.edfi.sender import WriteSender
from streams.emulator.core import EdfiEmulator
from streams.emulator.transport import EmulatorTransport
from streams.errors import PoisonInput
from streams.io.events_file import FileEvent, read_events
from streams.resync.diff import plan_resync
from streams.resync.run import Scope, desired_records
from streams.rules.config import RuleConfig
from streams.rules.engine import InMemoryStores, RuleEngine
from streams.rules.evaluate import DesiredRecord
from streams.sample.district import SAMPLE_CONFIG, SAMPLE_EVENTS
from streams.simulate.run import run_simulation
from streams.sis.events import parse_change
from streams.sis.rows import CONTROL_TOPIC
from streams.writes import NaturalKey, WriteCommand
from tests.unit.emulator.emulator_sample import NS, seeded_emulator, token_client

URL = "/data/v3/ed-fi/studentAssessments"


@pytest.mark.parametrize(("sent", "read_back"), [
    ("2021-09-28", "2021-09-28T00:00:00Z"),              # DataStrictnessValidation sc. 18
    ("2021/09/28", "2021-09-28T00:00:00Z"),              # sc. 19
    ("2021-09-28 2:15:30 PM", "2021-09-28T14:15:30Z"),   # sc. 20
    ("2022-09-05T16:44:33", "2022-09-05T16:44:33Z"),     # sc. 21
    ("2021-09-28T10:00:00-05:00", "2021-09-28T15:00:00Z"),
])
async def test_date_times_read_back_normalised(client: httpx.AsyncClient, body: dict[str, Any], sent: str,
                                               read_back: str) -> None:
    body["administrationDate"] = sent
    created = await client.post(URL, json=body)
    assert created.status_code == 201
    item = (await client.get(created.headers["Location"])).json()
    assert item["administrationDate"] == read_back


async def test_an_unreadable_date_time_is_400(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    body["administrationDate"] = "2021-09-28 25:00 PM"
    response = await client.post(URL, json=body)
    assert response.status_code == 400 and "$.administrationDate" in response.json()["validationErrors"]


async def test_every_item_has_links_collections_etag_and_last_modified(client: httpx.AsyncClient,
                                                                      body: dict[str, Any]) -> None:
    body["schoolYearTypeReference"] = {"schoolYear": 2024}
    location = (await client.post(URL, json=body)).headers["Location"]
    item = (await client.get(location)).json()
    for member, rel in (("assessmentReference", "Assessment"), ("studentReference", "Student"),
                        ("reportedSchoolReference", "School"), ("schoolYearTypeReference", "SchoolYearType")):
        assert item[member]["link"]["rel"] == rel and item[member]["link"]["href"].startswith("/ed-fi/")
    assert {m: item[m] for m in ("accommodations", "items", "performanceLevels", "studentObjectiveAssessments")} == {
        "accommodations": [], "items": [], "performanceLevels": [], "studentObjectiveAssessments": []}
    assert item["id"] == location.rsplit("/", 1)[1] and item["_etag"] and item["_lastModifiedDate"].endswith("Z")
    assert (await client.get(URL)).json() == [item]


async def test_a_descriptor_reads_back_as_it_was_loaded(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    """DMS features ``Descriptors/DescriptorCaseInsensitiveValidation.feature`` sc. 3: a descriptor sent in
    another case reads back as it was loaded (the ODS keeps a descriptor id)."""
    body["scoreResults"][0]["assessmentReportingMethodDescriptor"] = (
        "URI://ED-FI.ORG/AssessmentReportingMethodDescriptor#scale SCORE")
    location = (await client.post(URL, json=body)).headers["Location"]
    item = (await client.get(location)).json()
    assert item["scoreResults"][0]["assessmentReportingMethodDescriptor"] == (
        "uri://ed-fi.org/AssessmentReportingMethodDescriptor#Scale score")


async def test_the_echo_shape_switch_leaves_links_and_empty_collections_out(body: dict[str, Any]) -> None:
    emu = seeded_emulator(ods_read_shape=False)
    async with token_client(emu) as http:
        item = (await http.get((await http.post(URL, json=body)).headers["Location"])).json()
    assert "link" not in item["studentReference"] and "accommodations" not in item
    assert item["_etag"] and item["_lastModifiedDate"]


def _desired(payload: dict[str, Any]) -> DesiredRecord:
    return DesiredRecord(NaturalKey.of_payload(payload), payload, 101, "2021-09-28", (1,), "test")


async def test_resync_plans_nothing_against_the_read_back_of_a_differently_written_record(
        client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    """What the rules produce vs what the ODS answers for a record written in other (accepted) forms."""
    rules = copy.deepcopy(body)
    rules["administrationDate"] = "2021-09-28T00:00:00Z"
    # a configuration may spell a descriptor in another case than the state loaded it ("Fall")
    rules["period"] = {"assessmentPeriodDescriptor": "uri://ed-fi.org/AssessmentPeriodDescriptor#FALL",
                       "beginDate": "2021-08-15"}
    written = copy.deepcopy(rules)
    written["administrationDate"] = "2021/09/28"
    written["period"]["beginDate"] = "2021/08/15"
    assert (await client.post(URL, json=written)).status_code == 201
    ods = (await client.get(URL)).json()
    assert ods[0]["administrationDate"] == "2021-09-28T00:00:00Z" and ods[0]["period"] == {
        "assessmentPeriodDescriptor": "uri://ed-fi.org/AssessmentPeriodDescriptor#Fall", "beginDate": "2021-08-15"}
    said = rules["studentAssessmentIdentifier"]
    assert plan_resync({said: _desired(rules)}, ods, {said: {}}).actions == []
    changed = copy.deepcopy(rules)
    changed["scoreResults"][0]["result"] = "251"
    assert [a.action for a in plan_resync({said: _desired(changed)}, ods, {said: {}}).actions] == ["put"]


@pytest.mark.parametrize("ods_form", ["2021-09-28T00:00:00.0000000Z", "2021-09-28T00:00:00+00:00",
                                      "2021-09-27T19:00:00-05:00", "2021-09-28T00:00:00"])
def test_the_comparison_normalises_the_date_time_forms_an_ods_may_answer(ods_form: str) -> None:
    rules = {"administrationDate": "2021-09-28T00:00:00Z", "period": {"beginDate": "2021-08-15"}}
    ods = {"administrationDate": ods_form, "period": {"beginDate": "2021-08-15"}, "_etag": "1", "items": []}
    assert comparable(ods) == comparable(rules)
    assert comparable({**ods, "administrationDate": "2021-09-28T00:00:01Z"}) != comparable(rules)


def _engine_over(events: Path, settings: Any) -> RuleEngine:
    engine = RuleEngine(RuleConfig.from_settings(settings), **InMemoryStores().as_kwargs())
    for item in read_events(events):
        if isinstance(item, PoisonInput) or not isinstance(item, FileEvent):
            continue
        if item.topic == CONTROL_TOPIC or item.value is None:
            continue
        try:
            change = parse_change(item.topic, item.key, item.value)
        except PoisonInput:
            continue
        engine.on_change(change)
    return engine


def test_resync_dry_run_sees_no_difference_between_the_sample_district_and_its_read_back() -> None:
    """simulate writes the sample district to the emulator in its real read shape (ods.json is what GET
    answers); the resync plan of the same SIS against it must be empty: no spurious PUT or POST."""
    settings = load_settings(SAMPLE_CONFIG, environ={})
    with tempfile.TemporaryDirectory() as out:
        summary = run_simulation(SAMPLE_EVENTS, settings, out)
        ods = json.loads((Path(out) / "ods.json").read_text())
    assert summary.ods_records == len(ods) > 10
    assert all("link" in r["studentReference"] and "_etag" in r and "accommodations" in r for r in ods)
    desired = desired_records(_engine_over(SAMPLE_EVENTS, settings), Scope())
    identity = {r["studentAssessmentIdentifier"]: {"id": r["id"]} for r in ods}
    plan = plan_resync(desired, ods, identity)
    assert plan.actions == [], [a.to_dict() for a in plan.actions[:5]]
    assert plan.ods_count == len(desired)


async def test_the_unchanged_payload_check_sends_nothing_again_after_a_read_back(body: dict[str, Any]) -> None:
    """The worker's egress skips a POST whose payload the identity map says the ODS holds; the read-back
    of that record (real shape) compares equal to the payload, so nothing is sent and nothing differs."""
    emu: EdfiEmulator = seeded_emulator()
    body["administrationDate"] = "2024-03-20T00:00:00Z"
    client = EdfiClient(EdfiSettings(base_url="http://ods"), "key", "secret", transport=EmulatorTransport(emu))
    try:
        sender = WriteSender(client, {})
        cmd = WriteCommand("POST", NaturalKey.of_payload(body), body, "test")
        assert (await sender.send(cmd)).outcome == "acked"
        read_back = await client.get_by_key("studentAssessments", cmd.natural_key.query_params())
        assert read_back[0] != body and comparable(read_back[0]) == comparable(body)
        sent_before = len(emu.request_log)
        assert (await sender.send(cmd)).outcome == "unchanged"
        assert len(emu.request_log) == sent_before
    finally:
        await client.aclose()
    assert NS in read_back[0]["assessmentReference"]["namespace"]
