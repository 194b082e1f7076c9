"""One student receiving 20,000 scores while the other students keep flowing (issue 13, part 2).

A long SIS history of local and formative tests once pushed one student's table value past the broker's
1 MB limit (the worker exited, and again after every restart) and made every event of that student
re-evaluate all their scores. Here 20,000 scores of one student (mostly a local test, some state-test
scores dated outside the year, a few in the year) are produced at a steady pace while 40 other students
each get new state-test scores. The worker never exits, the other students' writes reach the ODS with a
p99 latency under 1 s, and every record is applied or a dead letter: the flooded student's state stops at
``worker.maxValueBytes`` and what would exceed it is dead-lettered as ``student_state_limit``."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from agents.topics import STUDENT_EVENTS
from agents.wire import change_from_routed, decode_internal
from streams.deadletters.log import read_dead_letters
from streams.demo.metrics_scrape import by_label
from streams.demo.stack import LocalStack
from streams.io.produce import make_producer
from tests.faults.history import LOCAL, MATH, build_district
from tests.faults.support import Summary, worker_errors, write_config

pytestmark = [pytest.mark.faults, pytest.mark.integration]

FLOOD, FLOOD_RATE = 20_000, 100          # scores of one student, per second
OTHERS, OTHER_EVERY = 40, 0.2            # other students, seconds between two of their new scores
FLOODED = 99_000
ONE_RECORD_PER_BATCH = os.environ.get("FLOOD_ONE_RECORD_PER_BATCH", "") == "1"
FIRST_FLOOD_SCORE, FIRST_OTHER_SCORE = 5_000_000, 4_000_000


def flood_score(i: int) -> dict[str, Any]:
    if i % 50 == 7:    # a state test in the year: the flooded student's record moves too
        test, date = MATH, f"2024-0{1 + i % 5}-1{i % 10}"
    elif i % 12 == 3:  # a state test outside the configuration year: kept, not reported
        test, date = MATH, f"20{19 + i % 3}-10-0{1 + i % 9}"
    else:
        test, date = LOCAL, f"202{i % 4}-0{1 + i % 9}-1{i % 10}"
    return {"scoreID": FIRST_FLOOD_SCORE + i, "personID": FLOODED, "testID": test, "date": date, "result": None,
            "scaleScore": str(100 + i % 200), "rawScore": None, "percent": None, "percentile": None,
            "proctorPersonID": None}


def change(row: dict[str, Any], ts: int) -> tuple[bytes, bytes]:
    return (json.dumps({"scoreID": row["scoreID"]}).encode(),
            json.dumps({"op": "c", "before": None, "after": row, "ts_ms": ts}).encode())


def test_one_student_flood_keeps_the_others_flowing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    history = build_district(students=OTHERS + 20, seed=7014)
    history.put("sis.students", "personID", {"personID": FLOODED, "stateID": "7000099000", "lastName": "Flood",
                                             "firstName": "F"})
    history.put("sis.enrollments", "enrollmentID", {
        "enrollmentID": 2 * FLOODED, "personID": FLOODED, "calendarID": 11, "grade": "07",
        "startDate": "2023-08-16", "endDate": None, "serviceType": "P", "stateExclude": False, "noShow": False,
        "mathAssessmentType": "Yes test in this content area"})
    events = history.write(tmp_path / "district.jsonl")
    # the other students who report a math record on the last day of the year
    others = [pid for (topic, pid), row in history.rows.items() if topic == "sis.students" and pid != FLOODED
              and (e := history.rows.get(("sis.enrollments", 2 * pid))) is not None and e["calendarID"] in (11, 12)
              and e["endDate"] is None and not e["stateExclude"] and not e["noShow"]][:OTHERS]
    assert len(others) >= OTHERS // 2

    # Without the tansu one-record-per-batch workaround, as on a real Kafka: with it, aiokafka keeps one
    # pending batch per partition, so every send to the one dead-letter partition waits for the previous
    # letter's round trip, and 15,000 letters throttle the join to the broker's round-trip rate.
    with LocalStack(write_config(tmp_path), events, partitions=3, one_record_per_batch=ONE_RECORD_PER_BATCH) as stack:
        stack.produce(events)
        stack.wait_idle(240)
        sent_at: dict[str, float] = {}
        seen_at: dict[str, float] = {}
        done = threading.Event()

        def watch() -> None:  # when each of the other students' new results is in the ODS
            while not done.is_set() or len(seen_at) < len(sent_at):
                for rec in list(stack.emulator.records_by_id.values()):
                    for result in rec.body.get("scoreResults") or ():
                        value = result.get("result")
                        if value in sent_at and value not in seen_at:
                            seen_at[value] = time.monotonic()
                if done.is_set() and time.monotonic() - stop_at > 60:
                    return
                time.sleep(0.005)

        def others_flow() -> None:
            producer = make_producer(stack.settings.kafka)
            i = 0
            while not done.is_set():
                pid = others[i % len(others)]
                value = str(100_000 + i)
                row = {"scoreID": FIRST_OTHER_SCORE + i, "personID": pid, "testID": MATH, "date": "2024-06-29",
                       "result": None, "scaleScore": value, "rawScore": None, "percent": None,
                       "percentile": None, "proctorPersonID": None}
                key, data = change(row, 1_800_000_000_000 + i)
                sent_at[value] = time.monotonic()
                producer.produce("sis.test_scores", key=key, value=data)
                producer.flush(10)
                i += 1
                time.sleep(OTHER_EVERY)

        stop_at = float("inf")
        watcher, flow = threading.Thread(target=watch), threading.Thread(target=others_flow)
        watcher.start()
        flow.start()
        producer = make_producer(stack.settings.kafka)
        flood_started = time.monotonic()
        for i in range(FLOOD):
            key, data = change(flood_score(i), 1_750_000_000_000 + i)
            producer.produce("sis.test_scores", key=key, value=data)
            producer.poll(0)
            behind = flood_started + (i + 1) / FLOOD_RATE - time.monotonic()
            if behind > 0:
                time.sleep(behind)
        producer.flush(60)
        done.set()
        stop_at = time.monotonic()
        flow.join()
        stack.wait_idle(300)
        watcher.join()
        assert stack.worker.alive, "the worker exited"
        letters = read_dead_letters(stack.kafka_config, timeout=60)
        consumed = by_label(stack.metrics(), "edfi_stream_events_consumed_total", "outcome")
        log = (stack.workdir / "worker.log").read_text(errors="replace")
        errors = worker_errors(stack)

    latencies = sorted(seen_at[v] - sent_at[v] for v in seen_at)
    p99 = latencies[int(0.99 * (len(latencies) - 1))] if latencies else float("inf")
    limited = [d for d in letters if d.record.get("reason") == "student_state_limit"]
    people = {change_from_routed(decode_internal(STUDENT_EVENTS, d.record["value"]) or {}).after.person_id  # type: ignore[union-attr]
              for d in limited}
    summary = Summary("student_flood", events=len(sent_at) + FLOOD, seconds=time.monotonic() - started,
                      poison=len(letters), extra={
                          "other_writes": len(latencies), "other_p50_s": round(latencies[len(latencies) // 2], 3),
                          "other_p99_s": round(p99, 3), "other_max_s": round(latencies[-1], 3),
                          "state_limit_letters": len(limited)})
    with capsys.disabled():
        print("\n" + summary.line())
    assert len(seen_at) == len(sent_at), f"{len(sent_at) - len(seen_at)} other students' scores never arrived"
    assert p99 < 1.0, f"p99 of the other students' writes {p99:.3f} s"
    # every record is applied or a dead letter: all ingested, and the dead letters are the flooded student's
    assert consumed.get("ok", 0) >= FLOOD + len(sent_at) and consumed.get("dead_letter", 0) == 0, consumed
    assert people == {FLOODED} and len(letters) == len(limited)
    assert 0 < len(limited) < FLOOD, "the state stopped at its limit, after a good share of the scores"
    assert "Crashed reason" not in log and errors == []
