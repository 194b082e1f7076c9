"""Crash safety (issue 7, item 6): the worker is killed with SIGKILL three times at seeded random moments
while it works through the district, and restarted each time; the final ODS equals ``simulate`` on the
same events and no record is lost (at-least-once with idempotent effects, README "delivery guarantees")."""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

import pytest

from tests.faults.support import FaultRun, pending

pytestmark = [pytest.mark.faults, pytest.mark.integration]

SEED = int(os.environ.get("EDFI_FAULT_SEED", "7006"))  # another seed: other kill moments (to reproduce a run)
KILLS = 3


def test_sigkill_three_times_loses_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = FaultRun.prepare("kills", tmp_path)
    records, lines = run.records, run.lines
    rng = random.Random(SEED)
    # The events arrive in KILLS + 1 batches; each kill lands a random moment after a batch was published,
    # while the worker is still busy with it (checked below), so ingest, join and egress are all cut short.
    cuts = sorted(rng.sample(range(200, len(records) - 200), KILLS))
    batches = [records[a:b] for a, b in zip([0, *cuts], [*cuts, len(records)], strict=True)]
    with run.stack(partitions=3) as stack:
        stack.wait_ready()
        pending_at_kill: list[int] = []
        for number, batch in enumerate(batches):
            stack.produce_raw(batch)
            if number == KILLS:
                break
            time.sleep(rng.uniform(0.3, 2.0))
            pending_at_kill.append(pending(stack))
            stack.kill_worker()
            lines.append(f"  SIGKILL {number + 1} with {pending_at_kill[-1]} records pending")
            stack.start_worker()
            stack.wait_ready()
        run.wait_idle(stack, 240)
        result = run.result(stack)
        run.report(result, capsys, kills=len(pending_at_kill))
        assert all(p > 0 for p in pending_at_kill), f"a kill found the worker idle: {pending_at_kill}\n{run.log}"
        run.assert_no_loss(stack, result)
        assert result.dead == [], "a crash must not turn work into dead letters"
