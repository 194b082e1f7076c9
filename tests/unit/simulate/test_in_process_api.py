"""simulate's in-process Ed-Fi API: the client's data requests reach the emulator without httpx requests
and responses, and every answer means what it means over httpx (same outputs, same typed errors)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from streams.config import EdfiSettings, load_settings
from streams.edfi.client import EdfiClient
from streams.edfi.direct import DirectResponse
from streams.edfi.errors import EdfiRejected, EdfiRetryable
from streams.emulator.core import EdfiEmulator
from streams.emulator.faults import FaultSettings
from streams.sample.district import sample_events
from streams.simulate.inprocess import InProcessApi
from streams.simulate.run import run_simulation


def _normalized(path: Path) -> str:
    """A simulate output without what differs from run to run (ids, etags, timestamps)."""
    text = re.sub(r"[0-9a-f]{32}", "ID", path.read_text())
    return re.sub(r'"(_etag|_lastModifiedDate)": "[^"]*"', r'"\1": "X"', text)


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    tmp = tmp_path_factory.mktemp("simulate")
    events = tmp / "district.jsonl"
    events.write_text("".join(json.dumps(e) + "\n" for e in sample_events()))
    config = tmp / "config.yaml"
    config.write_text("schoolYear: {startDate: 2023-07-01, endDate: 2024-06-30, endYear: 2024}\n")
    settings = load_settings(config, environ={})
    run_simulation(events, settings, tmp / "direct")
    run_simulation(events, settings, tmp / "httpx", through_httpx=True)
    return events, tmp / "direct", tmp / "httpx"


def test_simulate_gives_the_same_outputs_in_process_as_through_httpx(sample_run: tuple[Path, Path, Path]) -> None:
    _, direct, through_httpx = sample_run
    requests = (direct / "requests.jsonl").read_text().splitlines()
    assert len(requests) > 100 and {json.loads(r)["method"] for r in requests} >= {"POST", "PUT", "DELETE"}
    for name in ("requests.jsonl", "ods.json", "decisions.jsonl", "dead-letters.jsonl"):
        assert _normalized(direct / name) == _normalized(through_httpx / name), name


class CountingApi(InProcessApi):
    def __init__(self, emulator: EdfiEmulator) -> None:
        super().__init__(emulator, self.log)
        self.seen: list[tuple[str, str, Any, int]] = []
        self.over_httpx = 0

    def log(self, method: str, path: str, body: Any, status: int) -> None:
        self.seen.append((method, path, body, status))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.over_httpx += 1
        return await super().handle_async_request(request)


def _body(sample_run: tuple[Path, Path, Path]) -> dict[str, Any]:
    """A studentAssessment the sample district posts, and the emulator seeded to accept it."""
    for line in (sample_run[1] / "requests.jsonl").read_text().splitlines():
        request = json.loads(line)
        if request["method"] == "POST" and request["status"] == 201:
            return dict(request["body"])
    raise AssertionError("no accepted POST in the sample run")


async def _client(faults: FaultSettings | None = None,
                  retries: int = 0) -> tuple[EdfiClient, CountingApi, EdfiEmulator]:
    emulator = EdfiEmulator(faults=faults)
    emulator.add_client("key", "secret")
    api = CountingApi(emulator)

    async def no_sleep(seconds: float) -> None:
        return None

    return EdfiClient(EdfiSettings(base_url="http://ods", max_retries=retries), "key", "secret", transport=api,
                      sleep=no_sleep), api, emulator


async def test_data_requests_reach_the_emulator_without_httpx(sample_run: tuple[Path, Path, Path]) -> None:
    body = _body(sample_run)
    client, api, emulator = await _client()
    emulator.add_student(body["studentReference"]["studentUniqueId"])
    if "reportedSchoolReference" in body:
        emulator.add_school(body["reportedSchoolReference"]["schoolId"])
    status, ods_id = await client.post("studentAssessments", body)
    assert status == 201 and ods_id is not None and ods_id == emulator.records()[0]["id"]
    found = await client.get_by_key("studentAssessments", {"studentAssessmentIdentifier":
                                                           body["studentAssessmentIdentifier"]})
    assert [r["id"] for r in found] == [ods_id]
    assert await client.delete("studentAssessments", ods_id) == 204 and emulator.records() == []
    # the token (and discovery) went over httpx; the three data requests did not
    assert api.over_httpx == 2
    data = [(method, path.split("?")[0].rsplit("/", 1)[-1], status) for method, path, _, status in api.seen
            if "/data/" in path]
    assert data == [("POST", "studentAssessments", 201), ("GET", "studentAssessments", 200),
                    ("DELETE", ods_id, 204)]
    assert api.seen[-2][1].endswith(f"?studentAssessmentIdentifier={body['studentAssessmentIdentifier']}")
    assert next(b for m, _, b, _ in api.seen if m == "POST" and b is not None) is body  # recorded, not decoded
    await client.aclose()


async def test_errors_keep_their_types_without_httpx(sample_run: tuple[Path, Path, Path]) -> None:
    body = _body(sample_run)
    client, _, _ = await _client()
    with pytest.raises(EdfiRejected) as rejected:  # a body without its student: the ODS's 400
        await client.post("studentAssessments", {k: v for k, v in body.items() if k != "studentReference"})
    assert rejected.value.status == 400
    await client.aclose()
    throttled, _, _ = await _client(FaultSettings(throttle_rate=1.0, retry_after_seconds=2.0))
    with pytest.raises(EdfiRetryable) as retry:
        await throttled.post("studentAssessments", body)
    assert retry.value.retry_after == 2.0
    await throttled.aclose()
    dropped, _, _ = await _client(FaultSettings(drop_rate=1.0))
    with pytest.raises(EdfiRetryable, match="RemoteProtocolError"):
        await dropped.post("studentAssessments", body)
    await dropped.aclose()


def test_a_direct_response_reads_its_headers_in_any_case() -> None:
    response = DirectResponse(201, {"Location": "http://ods/x/1", "Retry-After": "3"}, b'{"a": 1}')
    assert response.headers.get("location") == "http://ods/x/1" and response.headers["RETRY-AFTER"] == "3"
    assert "LOCATION" in response.headers and response.headers.get("ETag") is None
    assert response.json() == {"a": 1} and response.status_code == 201
