"""Broker faults on Apache Kafka (issue 15 part 5), each ending with the ODS equal to ``simulate`` and nothing
lost: the broker stopped and restarted mid-run (its data kept on disk); two workers in one group with one
SIGKILLed mid-run (the group rebalances, the survivor finishes); a worker started before the broker is reachable.
Each prints one FAULTS line (kills, broker restarts, rebalances, records lost, writes beyond the minimal set).

tansu keeps its data in memory, so these always start Apache Kafka, whatever $EDFI_STREAM_TEST_BROKER says.
"""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path

import pytest

from streams.broker.apache import ApacheKafka
from streams.demo.emulator_thread import free_port
from streams.demo.processes import ChildProcess, worker_command
from streams.demo.stack import LocalStack
from tests.faults.support import FaultRun, pending

pytestmark = [pytest.mark.faults, pytest.mark.integration]

SEED = int(os.environ.get("EDFI_FAULT_SEED", "7015"))


def rebalances(stack: LocalStack, *logs: Path) -> int:
    """Completed rebalances the workers logged (aiokafka logs each assignment a member takes)."""
    texts = [(stack.workdir / "worker.log").read_text(errors="replace")] + [p.read_text(errors="replace") for p in logs]
    return sum(text.count("Setting newly assigned partitions") for text in texts)


def finish(run: FaultRun, stack: LocalStack, capsys: pytest.CaptureFixture[str], **extra: int) -> None:
    run.wait_idle(stack, 300)
    result = run.result(stack)
    run.report(result, capsys, kills=extra.pop("kills", 0), extra=extra)
    run.assert_no_loss(stack, result)
    assert result.dead == [], "a broker fault must not turn work into dead letters"


def test_broker_restart_mid_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = FaultRun.prepare("broker-restart", tmp_path)
    records = run.records
    rng = random.Random(SEED)
    cut = rng.randrange(len(records) // 3, 2 * len(records) // 3)
    lines = run.lines
    with run.stack(partitions=3, broker="kafka") as stack:
        broker = stack.broker
        assert isinstance(broker, ApacheKafka)
        stack.wait_ready()
        stack.produce_raw(records[:cut])
        time.sleep(rng.uniform(0.5, 2.0))
        at_stop = pending(stack)
        broker.stop()  # controlled shutdown; the log segments and committed offsets stay on disk
        lines.append(f"  broker stopped with {at_stop} records pending")
        time.sleep(3)
        broker.start()
        lines.append("  broker restarted")
        stack.produce_raw(records[cut:])
        finish(run, stack, capsys, broker_restarts=1, pending_at_stop=at_stop)
        assert at_stop > 0, "the broker stopped while the worker was idle"


def test_two_workers_one_sigkilled(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = FaultRun.prepare("two-workers-one-killed", tmp_path)
    records = run.records
    rng = random.Random(SEED + 1)
    lines = run.lines
    with run.stack(partitions=4, broker="kafka") as stack:
        stack.wait_ready()
        env = {**stack.env, "EDFI_STREAM_WORKER__WEB_PORT": str(free_port()),
               "EDFI_STREAM_WORKER__DATA_DIR": str(stack.workdir / "data-second")}
        second_log = stack.workdir / "worker-second.log"
        second = ChildProcess("worker-second", worker_command(), env, second_log)
        try:
            time.sleep(6)  # the group rebalances onto both workers
            stack.produce_raw(records)
            time.sleep(rng.uniform(1.0, 3.0))
            at_kill = pending(stack)
            os.killpg(second.proc.pid, signal.SIGKILL)
            second.proc.wait(10)
            lines.append(f"  SIGKILL of the second worker with {at_kill} records pending")
            finish(run, stack, capsys, kills=1, rebalances=rebalances(stack, second_log), pending_at_kill=at_kill)
            assert at_kill > 0, "the kill found the group idle"
            second_text = second_log.read_text(errors="replace")
            assert "Setting newly assigned partitions" in second_text, "the second worker never got work"
        finally:
            second.stop()


def test_worker_started_before_the_broker(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = FaultRun.prepare("worker-before-broker", tmp_path)
    records = run.records
    lines = run.lines
    with run.stack(partitions=3, broker="kafka") as stack:
        broker = stack.broker
        assert isinstance(broker, ApacheKafka)
        stack.wait_ready()
        stack.produce_raw(records)
        stack.stop_worker()
        broker.stop()
        stack.start_worker()  # nothing answers on the bootstrap address yet
        time.sleep(8)
        assert stack.worker.alive, "the worker gave up while the broker was away:\n" + stack.worker.tail(30)
        lines.append("  worker waited 8 s for the broker")
        broker.start()
        stack.wait_ready(180)
        finish(run, stack, capsys, broker_restarts=1)
