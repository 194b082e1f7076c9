"""Toggle off/on and resync on the real broker and the emulator (seed 003, Resync Logic).

The ODS is damaged on purpose (an orphan, a drifted value, a missing record, a stale id) and changes arrive
while the resource is off; after `resync` the ODS equals what `simulate` gives for the same events.
"""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path

import pytest

from streams.config import load_settings
from streams.demo.emulator_thread import DEMO_CLIENT
from streams.demo.run import comparable
from streams.demo.stack import LocalStack
from streams.resync.run import (
    ResyncRefused,
    Scope,
    build_plan,
    check_enabled,
    check_safety,
    commands_for,
    publish,
    read_identity_map,
)
from streams.simulate.run import run_simulation
from tests.support.scenario import History, build


def changes_while_off(path: Path) -> Path:
    h = History()
    h.ts = 1_800_000_000_000
    h.events.append({"topic": "sis.test_scores", "key": {"scoreID": 1001}, "value": {
        "op": "u", "before": None, "after": {"scoreID": 1001, "personID": 1, "testID": 1, "date": "2024-02-12",
                                             "scaleScore": "299", "result": None}, "ts_ms": h.ts}})
    h.events.append({"topic": "sis.test_scores", "key": {"scoreID": 2002}, "value": {
        "op": "c", "before": None, "after": {"scoreID": 2002, "personID": 2, "testID": 2, "date": "2024-03-20",
                                             "scaleScore": "12", "result": None}, "ts_ms": h.ts + 1}})
    return h.write(path)


def test_toggle_off_then_resync_repairs_the_ods(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDFI_CLIENT_ID", DEMO_CLIENT[0])
    monkeypatch.setenv("EDFI_CLIENT_SECRET", DEMO_CLIENT[1])
    first = build(tmp_path / "first.jsonl")
    second = changes_while_off(tmp_path / "second.jsonl")
    both = tmp_path / "both.jsonl"
    both.write_text(first.read_text() + second.read_text())
    config = tmp_path / "config.yaml"
    config.write_text("schoolYear: {startDate: 2023-07-01, endDate: 2024-06-30, endYear: 2024}\n"
                      "resync: {maxDeleteShare: 0.5}\n")
    settings = load_settings(config, environ={})
    run_simulation(both, settings, tmp_path / "sim")
    expected = json.loads((tmp_path / "sim" / "ods.json").read_text())
    with LocalStack(config, both, partitions=2) as stack:
        stack.produce(first)
        stack.wait_idle()
        before_off = [comparable(r) for r in stack.emulator.records()]
        assert len(before_off) == 4

        stack.toggle(False)
        with pytest.raises(ResyncRefused, match="turned off"):
            check_enabled(stack.settings)  # its commands would be dropped by the egress
        stack.wait_idle(settle_seconds=2)
        stack.produce(second)
        stack.wait_idle()
        assert [comparable(r) for r in stack.emulator.records()] == before_off, "nothing may change while off"
        stack.toggle(True)

        emu = stack.emulator

        def damage() -> None:
            records = sorted(emu.records_by_id.values(), key=lambda r: r.body["studentAssessmentIdentifier"])
            orphan = copy.deepcopy(records[0].body)
            orphan["studentAssessmentIdentifier"] = "Math_99999999_2024"
            emu.add_student("99999999")
            emu._save(uuid.uuid4().hex, orphan)                      # in the ODS, not in the SIS
            drifted = copy.deepcopy(records[1].body)
            drifted["scoreResults"][0]["result"] = "1"
            emu._save(records[1].id, drifted)                          # a value changed behind our back
            gone = records[2]
            del emu.records_by_id[gone.id]
            emu.by_key.pop(gone.natural_key(), None)                  # missing, identity map still has it
            stale = records[3]
            del emu.records_by_id[stale.id]
            emu.by_key.pop(stale.natural_key(), None)
            emu._save(uuid.uuid4().hex, stale.body)                   # same record, a new id: ours is stale

        stack.emulator_thread.call(damage)
        plan = build_plan(stack.settings, Scope())
        counts = plan.counts()
        assert counts["delete"] == 1 and counts["post"] >= 1 and counts["put"] >= 1, plan.actions
        check_enabled(stack.settings)
        check_safety(plan, stack.settings, force=False)
        identity = read_identity_map(stack.kafka_config, stack.settings.worker.app_id)
        commands = commands_for(plan, identity)
        requests_before = len(stack.emulator.request_log)
        publish(commands, stack.settings)
        stack.wait_idle()
        # on a mismatch: what resync planned and sent, and what the ODS was asked after the damage
        story = "\n".join([f"plan: {plan.actions}", f"commands: {[c.to_dict() for c in commands]}",
                           f"requests: {list(stack.emulator.request_log)[requests_before:]}"])
        assert [comparable(r) for r in stack.emulator.records()] == [comparable(r) for r in expected], story
        again = build_plan(stack.settings, Scope())
        assert again.actions == [], "a second resync finds nothing to do"
