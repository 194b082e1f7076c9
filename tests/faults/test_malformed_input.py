"""Poison input (issue 7, item 8): 200 bad records mixed into the district's stream as raw bytes. Every
poison record ends on ``edfi-stream.dead-letters`` with its reason, the worker keeps running, the scores
that refer to an unknown student or test are held (not poison), and the final ODS equals ``simulate``
over the well-formed events."""

from __future__ import annotations

import json
import random
import time
import urllib.request
from pathlib import Path

import pytest

from streams.demo.metrics_scrape import by_label
from streams.demo.stack import LocalStack
from tests.faults.history import build_district
from tests.faults.malformed import poison, unknown_references
from tests.faults.support import FaultRun

pytestmark = [pytest.mark.faults, pytest.mark.integration]

SEED = 7008
MALFORMED, UNKNOWN_REFERENCES = 200, 20   # of the 200, 20 are well-formed scores with unknown references


def explain(stack: LocalStack, score_id: int) -> list[dict]:
    request = urllib.request.Request(f"{stack.web_url}/explain", data=json.dumps({"scoreID": score_id}).encode(),
                                     headers={"Content-Type": "application/json", **stack.auth_headers()})
    with urllib.request.urlopen(request, timeout=10) as response:
        return list(json.loads(response.read())["decisions"])


def test_poison_is_dead_lettered_and_the_rest_goes_through(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    rng = random.Random(SEED)
    history = build_district()
    unknown = unknown_references(history.events, UNKNOWN_REFERENCES, rng)
    good = list(history.events)
    for event in unknown:
        good.insert(rng.randint(len(good) // 2, len(good)), event)
    history.events = good
    run = FaultRun.prepare("malformed", tmp_path, events=history.write(tmp_path / "well-formed.jsonl"))
    run.started = started

    bad = poison(good, MALFORMED - UNKNOWN_REFERENCES, rng)
    stream: list[tuple[str, bytes | None, bytes | None]] = list(run.records)
    poison_at: list[int] = sorted(rng.sample(range(len(stream) + len(bad)), len(bad)))
    for index, item in zip(poison_at, bad, strict=True):   # ascending: earlier inserts keep later indexes right
        stream.insert(index, (item.topic, item.key, item.value))
    with run.stack(partitions=3) as stack:
        placed = stack.produce_raw(stream)
        stack.wait_idle(240)
        assert stack.worker.alive
        result = run.result(stack)
        letters = {d.key: d for d in result.dead}
        consumed = by_label(stack.metrics(), "edfi_stream_events_consumed_total", "outcome")
        held = {e["key"]["scoreID"]: [d.get("reason") for d in explain(stack, e["key"]["scoreID"])]
                for e in unknown}

        expected = {f"{t}:{p}:{o}": item for item, (t, p, o) in
                    zip(bad, [placed[i] for i in poison_at], strict=True)}
        found = {key: letters[key] for key in expected if key in letters}
        run.report(result, capsys, events=len(stream), poison=len(found), held_unknown_reference=sum(
            1 for reasons in held.values() if reasons and set(reasons) <= {"student_unknown", "test_unknown"}))
        missing = sorted({item.kind for key, item in expected.items() if key not in found})
        assert not missing, f"poison kinds without a dead letter: {missing}"
        wrong = [(item.kind, item.reason, found[key].record.get("reason")) for key, item in expected.items()
                 if found[key].record.get("reason") != item.reason or found[key].stage != "decode"]
        assert not wrong, wrong
        assert all(found[key].record.get("value") == item.value for key, item in expected.items()), (
            "a dead letter carries the original bytes")
        assert len(letters) == len(bad), "only the poison records are dead letters"
        assert consumed.get("dead_letter") == len(bad)
        assert consumed.get("ok", 0) + consumed.get("ignored", 0) == len(stream) - len(bad)
        assert all(reasons and set(reasons) <= {"student_unknown", "test_unknown"} for reasons in held.values()), held
        run.assert_no_loss(stack, result)
