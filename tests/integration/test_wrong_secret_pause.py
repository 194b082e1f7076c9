"""A wrong Ed-Fi secret, or a 403 on every write, pauses the egress instead of dead-lettering (issue 13
part 4), on the test broker with the emulator: the worker started with a secret the API refuses holds every
write, reports not ready and says why on /metrics; restarted with the right secret, every held write reaches
the ODS, none is a dead letter, and the result equals `simulate`. An API that answers 403 to every write
pauses the egress too, and once it accepts writes again the paused worker resumes by itself."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from streams.config import load_settings
from streams.demo.emulator_thread import DEMO_CLIENT
from streams.demo.metrics_scrape import total
from streams.demo.run import comparable
from streams.demo.stack import LocalStack
from streams.emulator.responses import EmulatorResponse
from streams.simulate.run import run_simulation
from tests.support.scenario import build


def readyz(port: int) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def scenario(directory: Path, edfi: str) -> tuple[Path, Path, list[dict[str, Any]]]:
    """(events, configuration with the ``edfi:`` line given, the ODS ``simulate`` ends with)."""
    events = build(directory / "events.jsonl")
    config = directory / "config.yaml"
    config.write_text("schoolYear: {startDate: 2023-07-01, endDate: 2024-06-30, endYear: 2024}\n" + edfi)
    run_simulation(events, load_settings(config, environ={}), directory / "sim")
    return events, config, json.loads((directory / "sim" / "ods.json").read_text())


def wait_for(check: Callable[[], bool], what: str, stack: LocalStack, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached in {seconds:.0f} s\n{stack.worker.tail(40)}")
        time.sleep(0.5)


def test_wrong_secret_pauses_then_the_right_one_delivers_every_write(tmp_path: Path) -> None:
    events, config, expected = scenario(tmp_path, "edfi: {authProbeSeconds: 2}\n")
    wrong = (DEMO_CLIENT[0], "rotated-away-secret")
    with LocalStack(config, events, partitions=2, edfi_credentials=wrong) as stack:
        stack.produce(events)
        paused = "edfi_stream_egress_paused{reason=credentials_refused}"
        wait_for(lambda: stack.metrics().get(paused) == 1.0, "the pause", stack)
        wait_for(lambda: total(stack.metrics(), "edfi_stream_writes_waiting_on_auth") >= 4, "held writes", stack)
        time.sleep(5)  # a few probes, all refused
        metrics = stack.metrics()
        assert total(metrics, "edfi_stream_dead_letters_total") == 0
        assert total(metrics, "edfi_stream_writes_completed_total") == 0
        assert stack.emulator.records() == []
        status, body = readyz(stack.web_port)
        assert status == 503 and body["checks"]["edfi_token"] is False and body["checks"]["edfi_authorized"] is False
        assert "client id/secret" in body["details"]["edfi_authorized"]
        assert wrong[1] not in json.dumps(body) and wrong[1] not in stack.worker.tail(400)

        stack.stop_worker()  # the secret is fixed: the worker restarts with the right one
        stack.env["EDFI_CLIENT_SECRET"] = DEMO_CLIENT[1]
        stack.start_worker()
        stack.wait_idle(180)
        records = stack.emulator.records()
        assert [comparable(r) for r in records] == [comparable(r) for r in expected]
        metrics = stack.metrics()
        assert total(metrics, "edfi_stream_dead_letters_total") == 0
        assert metrics.get(paused) == 0.0
        status, body = readyz(stack.web_port)
        assert status == 200, body


def test_403_on_every_write_pauses_and_resumes_when_the_api_accepts_writes(tmp_path: Path) -> None:
    events, config, expected = scenario(tmp_path, "edfi: {authProbeSeconds: 5, forbiddenPauseAfter: 3}\n")
    with LocalStack(config, events, partitions=2) as stack:
        emulator = stack.emulator
        original = emulator.handle
        refused: list[str] = []

        async def claim_set_lost(method: str, path: str, *args: Any) -> EmulatorResponse:
            if method.upper() in ("POST", "PUT", "DELETE") and "/data/" in path:
                refused.append(method)
                body = {"detail": "Access to the requested data could not be authorized.", "status": 403,
                        "type": "urn:ed-fi:api:security:authorization", "title": "Authorization Denied"}
                return EmulatorResponse(403, {"Content-Type": "application/problem+json"}, json.dumps(body).encode())
            return await original(method, path, *args)

        emulator.handle = claim_set_lost  # the API client's claim set lost its studentAssessments permissions
        stack.produce(events)
        paused = "edfi_stream_egress_paused{reason=forbidden}"
        wait_for(lambda: stack.metrics().get(paused) == 1.0, "the pause", stack)
        status, body = readyz(stack.web_port)
        assert status == 503 and body["checks"]["edfi_authorized"] is False and body["checks"]["edfi_token"]
        assert total(stack.metrics(), "edfi_stream_dead_letters_total") == 0 and len(refused) >= 3

        emulator.handle = original  # the claim set is fixed: no restart needed, a probe finds out
        stack.wait_idle(180)
        assert [comparable(r) for r in stack.emulator.records()] == [comparable(r) for r in expected]
        metrics = stack.metrics()
        assert total(metrics, "edfi_stream_dead_letters_total") == 0 and metrics.get(paused) == 0.0
