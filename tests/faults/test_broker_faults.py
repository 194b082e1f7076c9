"""Broker faults on Apache Kafka (issue 15 part 5), each ending with the ODS equal to ``simulate`` and nothing
lost: the broker stopped and restarted mid-run (its data kept on disk); two workers in one group with one
SIGKILLed mid-run (the group rebalances, the survivor finishes); a second worker joining while the first writes
through a slow ODS (the rebalance fence, agents/ownership.py); a worker started before the broker is reachable.
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

from agents.topics import WRITE_COMMANDS
from streams.broker.apache import ApacheKafka
from streams.demo.emulator_thread import free_port
from streams.demo.metrics_scrape import by_label
from streams.demo.processes import ChildProcess, worker_command
from streams.demo.stack import LocalStack
from streams.emulator.faults import FaultSettings
from tests.faults.support import FaultRun, pending

pytestmark = [pytest.mark.faults, pytest.mark.integration]

SEED = int(os.environ.get("EDFI_FAULT_SEED", "7015"))


def logged(stack: LocalStack, text: str, *logs: Path) -> int:
    """How often the workers' logs say ``text``."""
    paths = [stack.workdir / "worker.log", *logs]
    return sum(path.read_text(errors="replace").count(text) for path in paths)


def rebalances(stack: LocalStack, *logs: Path) -> int:
    """Completed rebalances the workers logged (aiokafka logs each assignment a member takes)."""
    return logged(stack, "Setting newly assigned partitions", *logs)


def handovers(stack: LocalStack, *logs: Path) -> int:
    """Rebalances that took partitions from a worker while it was working (agents/ownership.py logs each)."""
    return logged(stack, "partitions handed over to other workers", *logs)


def second_worker(stack: LocalStack) -> tuple[ChildProcess, Path]:
    """A second worker in the stack's group (its own web port and data directory), and its log."""
    env = {**stack.env, "EDFI_STREAM_WORKER__WEB_PORT": str(free_port()),
           "EDFI_STREAM_WORKER__DATA_DIR": str(stack.workdir / "data-second")}
    log = stack.workdir / "worker-second.log"
    return ChildProcess("worker-second", worker_command(), env, log), log


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
        second, second_log = second_worker(stack)
        try:
            time.sleep(6)  # the group rebalances onto both workers
            stack.produce_raw(records)
            time.sleep(rng.uniform(1.0, 3.0))
            at_kill = pending(stack)
            os.killpg(second.proc.pid, signal.SIGKILL)
            second.proc.wait(10)
            lines.append(f"  SIGKILL of the second worker with {at_kill} records pending")
            run.wait_idle(stack, 300)  # then the rebalances counted are all of them
            finish(run, stack, capsys, kills=1, rebalances=rebalances(stack, second_log), pending_at_kill=at_kill)
            assert at_kill > 0, "the kill found the group idle"
            second_text = second_log.read_text(errors="replace")
            assert "Setting newly assigned partitions" in second_text, "the second worker never got work"
        finally:
            second.stop()


def test_second_worker_joins_while_the_first_writes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The rebalance gives half the partitions to a newcomer while the first worker has writes queued and on the
    wire (the ODS answers after 30-80 ms): the first stops writing them before the newcomer starts, so no older
    body lands after a newer one (docs/faults.md, "Rebalance fence")."""
    run = FaultRun.prepare("second-worker-joins", tmp_path)
    records = run.records
    lines = run.lines
    with run.stack(partitions=4, broker="kafka", workdir=tmp_path / "stack") as stack:  # logs kept for a failure
        stack.wait_ready()
        slow = FaultSettings(latency_seconds=0.03, latency_jitter_seconds=0.05, seed=SEED)
        stack.emulator_thread.call(lambda: stack.emulator.faults.configure(slow))
        stack.produce_raw(records)
        time.sleep(1.0)
        at_join = pending(stack)
        second, second_log = second_worker(stack)
        lines.append(f"  second worker started with {at_join} records pending")
        try:
            run.wait_idle(stack, 300)
            finish(run, stack, capsys, rebalances=rebalances(stack, second_log),
                   handovers=handovers(stack, second_log), pending_at_join=at_join)
            assert at_join > 0, "the second worker joined an idle group"
            assert "Setting newly assigned partitions" in second_log.read_text(errors="replace"), \
                "the second worker never got work"
            assert handovers(stack) >= 1, "the first worker handed no partition over"
            handed_over = by_label(stack.metrics(), "edfi_stream_partitions_handed_over_total", "topic")
            assert handed_over.get(WRITE_COMMANDS, 0) >= 1, handed_over  # on its /metrics too
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
