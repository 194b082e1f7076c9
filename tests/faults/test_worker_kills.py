"""Crash safety (issue 7, item 6): the worker is killed with SIGKILL three times at seeded random moments
while it works through the district, and restarted each time; the final ODS equals ``simulate`` on the
same events and no record is lost (at-least-once with idempotent effects, README "delivery guarantees")."""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

import pytest
from history import read_lines, write_district  # type: ignore[import-not-found]
from support import (  # type: ignore[import-not-found]
    Summary,
    compare,
    encoded,
    pending,
    simulate,
    worker_errors,
    write_config,
    write_requests,
)

from streams.deadletters.log import read_dead_letters
from streams.demo.stack import LocalStack

pytestmark = [pytest.mark.faults, pytest.mark.integration]

SEED = int(os.environ.get("EDFI_FAULT_SEED", "7006"))  # another seed: other kill moments (to reproduce a run)
KILLS = 3


def test_sigkill_three_times_loses_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    events = write_district(tmp_path / "events.jsonl")
    config = write_config(tmp_path)
    reference = simulate(events, config, tmp_path / "sim")
    records = encoded(events)
    rng = random.Random(SEED)
    # The events arrive in KILLS + 1 batches; each kill lands a random moment after a batch was published,
    # while the worker is still busy with it (checked below), so ingest, join and egress are all cut short.
    cuts = sorted(rng.sample(range(200, len(records) - 200), KILLS))
    batches = [records[a:b] for a, b in zip([0, *cuts], [*cuts, len(records)], strict=True)]
    lines: list[str] = []
    with LocalStack(config, events, partitions=3, echo=lines.append) as stack:
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
        try:
            stack.wait_idle(240)
        except RuntimeError as error:
            raise AssertionError("\n".join([*lines[-40:], str(error)])) from error
        actual = stack.emulator.records()
        outcome = compare(reference.records, actual)
        attempts, acked = write_requests(stack)
        dead = read_dead_letters(stack.kafka_config)
        summary = Summary("kills", events=len(read_lines(events)), seconds=time.monotonic() - started,
                          kills=len(pending_at_kill), records=len(actual), lost=outcome.lost,
                          write_attempts=attempts, writes_acked=acked, simulate_writes=reference.writes)
        with capsys.disabled():
            print("\n" + summary.line())
        log = "\n".join(lines)
        assert all(p > 0 for p in pending_at_kill), f"a kill found the worker idle: {pending_at_kill}\n{log}"
        assert outcome.lost == 0 and outcome.unexpected == 0, f"{outcome}\n{log}"
        assert outcome.equal, log
        assert worker_errors(stack) == [], "unhandled errors in the worker log"
        assert dead == [], "a crash must not turn work into dead letters"
