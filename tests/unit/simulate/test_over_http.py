"""simulate's in-process Ed-Fi API gives the ODS and the dead letters that the same events give when every
request goes over real HTTP, with the worker's transport, to the emulator's HTTP server: the in-process
path must accept and reject exactly what the HTTP path does."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from streams.config import load_settings
from streams.demo.emulator_thread import free_port
from streams.edfi.aiohttp_transport import AiohttpTransport
from streams.emulator.core import EdfiEmulator
from streams.emulator.server import serving
from streams.simulate.inprocess import Recorder
from streams.simulate.run import SimulationSummary, run_simulation
from tests.support.scenario import build


@contextlib.asynccontextmanager
async def over_http(emulator: EdfiEmulator, record: Recorder) -> AsyncIterator[tuple[httpx.AsyncBaseTransport, str]]:
    async with serving(emulator, port=free_port()) as base_url:
        yield AiohttpTransport(8, 10.0), base_url


def _normalized(path: Path) -> str:
    text = re.sub(r"[0-9a-f]{32}", "ID", path.read_text())
    return re.sub(r'"(_etag|_lastModifiedDate)": "[^"]*"', r'"\1": "X"', text)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, SimulationSummary, SimulationSummary]:
    tmp = tmp_path_factory.mktemp("over-http")
    events = build(tmp / "events.jsonl")
    person = {"personID": 7, "stateID": "7" * 40, "lastName": "S", "firstName": "7"}  # longer than the ODS takes
    enrollment = {"enrollmentID": 108, "personID": 7, "calendarID": 11, "grade": "08", "startDate": "2023-08-15",
                  "endDate": None, "stateExclude": False, "noShow": False, "serviceType": "P",
                  "mathAssessmentType": "Yes test in this content area"}
    score = {"scoreID": 7001, "personID": 7, "testID": 1, "date": "2024-02-25", "result": None, "scaleScore": "260"}
    with events.open("a") as extra:
        for topic, pk, row in (("sis.students", "personID", person), ("sis.enrollments", "enrollmentID", enrollment),
                               ("sis.test_scores", "scoreID", score)):
            extra.write(json.dumps({"topic": topic, "key": {pk: row[pk]}, "value": {
                "op": "c", "before": None, "after": row, "ts_ms": 1_800_000_000_000}}) + "\n")
        extra.write("{not json\n")
    config = tmp / "config.yaml"
    config.write_text("schoolYear: {startDate: 2023-07-01, endDate: 2024-06-30, endYear: 2024}\n")
    settings = load_settings(config, environ={})
    direct = run_simulation(events, settings, tmp / "in-process")
    http = run_simulation(events, settings, tmp / "http", connect=over_http)
    return tmp / "in-process", tmp / "http", direct, http


def test_in_process_and_http_give_the_same_ods_and_dead_letters(
        runs: tuple[Path, Path, SimulationSummary, SimulationSummary]) -> None:
    in_process, http, direct, over = runs
    ods = json.loads((in_process / "ods.json").read_text())
    assert len(ods) == direct.ods_records >= 4
    assert direct.dead_letters == over.dead_letters
    rejected = "egress:urn:ed-fi:api:bad-request:data-validation-failed"  # the ODS's 400 for the long id
    assert direct.dead_letters["decode:bad_json"] == 1 and direct.dead_letters[rejected] == 1, direct.dead_letters
    for name in ("ods.json", "dead-letters.jsonl", "decisions.jsonl"):
        assert _normalized(in_process / name) == _normalized(http / name), name
    # the HTTP run's requests are not recorded (no in-process recorder): the in-process run's are
    assert (http / "requests.jsonl").read_text() == ""
    assert direct.requests["POST 400"] >= 1
