"""A primary-key change as Debezium emits it converges without its ``__debezium.oldkey``/``newkey`` headers.

``UPDATE "TestScore" SET "scoreID" = 9002, "scaleScore" = '399' WHERE "scoreID" = 5007`` reaches Kafka as three
records: a delete of 5007 (at PostgreSQL's default replica identity its before image carries only the key:
``personID`` 0), a tombstone of 5007 and a create of 9002 with the whole row. The two keys may sit in
different partitions, so the worker may read the create first. In both orders, the ODS must be what the
final SIS state gives (5007 gone, 9002 there), through the same rule engine and owner index as the worker
(``simulate``), and both halves must reach the student's partition.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from streams.config import load_settings
from streams.demo.run import comparable
from streams.sample.district import SAMPLE_CONFIG, SAMPLE_EVENTS
from streams.simulate.run import run_simulation

OLD, NEW = 5007, 9002
CHANGED = {"scoreID": NEW, "scaleScore": "399"}  # UPDATE ... SET "scoreID" = 9002, "scaleScore" = '399'
LATER = 1_800_000_000_000  # after every event of the sample district


def _lines() -> list[dict[str, Any]]:
    return [json.loads(line) for line in SAMPLE_EVENTS.read_text().splitlines() if line.strip()]


def _old_row(lines: list[dict[str, Any]]) -> dict[str, Any]:
    return next(e["value"]["after"] for e in lines if e["topic"] == "sis.test_scores" and e["key"] == {"scoreID": OLD})


def _key_change(row: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    key_only = dict.fromkeys(row, None) | {"scoreID": OLD, "personID": 0, "testID": 0}  # replica identity DEFAULT
    delete = {"topic": "sis.test_scores", "key": {"scoreID": OLD}, "headers": {"__debezium.newkey": {"scoreID": NEW}},
              "value": {"op": "d", "before": key_only, "after": None, "ts_ms": LATER, "source": {"lsn": 900}}}
    tombstone = {"topic": "sis.test_scores", "key": {"scoreID": OLD}, "value": None}
    create = {"topic": "sis.test_scores", "key": {"scoreID": NEW}, "headers": {"__debezium.oldkey": {"scoreID": OLD}},
              "value": {"op": "c", "before": None, "after": {**row, **CHANGED}, "ts_ms": LATER,
                        "source": {"lsn": 900}}}
    return {"delete, tombstone, create": [delete, tombstone, create],
            "create first": [create, delete, tombstone]}


def _ods(tmp_path: Path, name: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    path = tmp_path / f"{name}.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    out = tmp_path / f"{name}-out"
    summary = run_simulation(path, load_settings(SAMPLE_CONFIG, environ={}), out)
    assert not summary.dead_letters, summary.dead_letters
    records = json.loads((out / "ods.json").read_text())
    return {r["studentAssessmentIdentifier"]: comparable(r) for r in records}


@pytest.mark.parametrize("order", ["delete, tombstone, create", "create first"])
def test_a_primary_key_change_converges_to_the_final_state_in_either_order(tmp_path: Path, order: str) -> None:
    lines = _lines()
    row = _old_row(lines)
    final = [e if e["key"] != {"scoreID": OLD} or e["topic"] != "sis.test_scores" else
             {**e, "key": {"scoreID": NEW}, "value": {**e["value"], "after": {**row, **CHANGED}}} for e in lines]
    want = _ods(tmp_path, "final", final)
    before = _ods(tmp_path, "before", lines)
    assert want != before  # the new score shows: a stale 5007 row in the student's state would hide it
    assert _ods(tmp_path, "changed", lines + _key_change(row)[order]) == want


@pytest.mark.parametrize("order", ["delete, tombstone, create", "create first"])
def test_both_halves_of_a_primary_key_change_reach_the_students_partition(order: str) -> None:
    """``simulate`` has one state; the worker has one per partition: the key-only delete must reach the
    partition of the student who had the row (the owner index), as the create does, in either order."""
    from agents.routing import routes_for
    from streams.sis.events import parse_change
    from streams.sis.owners import OwnerIndex

    lines = _lines()
    owners = OwnerIndex()
    for e in lines:  # the snapshot: every row seen once
        if e["topic"] == "sis.test_scores" and e["value"] is not None:
            owners.apply(parse_change(e["topic"], e["key"], e["value"]))
    row = _old_row(lines)
    routes = {}
    for e in _key_change(row)[order]:
        if e["value"] is not None:
            change = owners.apply(parse_change(e["topic"], e["key"], e["value"]))
            routes[change.op] = [r.key for r in routes_for(change, 4)]
    assert routes == {"d": [str(row["personID"])], "c": [str(row["personID"])]}
