"""Stopping by signal (issue 17 part 4): a worker whose broker is gone still exits on SIGTERM within
worker.shutdownGraceSeconds (it used to wait for the broker forever), and `edfi-stream demo` stopped with
SIGTERM or SIGHUP stops every child as Ctrl-C does (the worker and the broker used to stay alive)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from streams.demo.stack import LocalStack
from tests.support.scenario import build

GRACE_SECONDS = 4.0


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, IndexError):
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def test_worker_exits_on_sigterm_within_its_grace_period_when_the_broker_is_gone(tmp_path: Path) -> None:
    events = build(tmp_path / "events.jsonl")
    config = tmp_path / "config.yaml"
    config.write_text("schoolYear: {startDate: 2023-07-01, endDate: 2024-06-30, endYear: 2024}\n"
                      f"worker: {{shutdownGraceSeconds: {GRACE_SECONDS}}}\n")
    with LocalStack(config, events, partitions=2) as stack:
        stack.produce(events)
        stack.wait_idle(180)
        stack.broker.stop()  # the broker is gone
        time.sleep(2)
        worker = stack.worker.proc
        started = time.monotonic()
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(GRACE_SECONDS + 15)
        except subprocess.TimeoutExpired:
            pytest.fail("the worker did not exit on SIGTERM with its broker gone\n" + stack.worker.tail(30))
        took = time.monotonic() - started
        assert worker.returncode >= 0, "ended by a signal, not by itself"  # not SIGKILLed by anyone
        assert took <= GRACE_SECONDS + 10, took


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_demo_stops_every_child_on_sigterm_and_sighup(tmp_path: Path, signum: signal.Signals) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDFI")}
    demo = subprocess.Popen([sys.executable, "-m", "streams.cli.main", "demo", "--serve"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        seen: list[str] = []
        assert demo.stdout is not None
        for line in demo.stdout:  # the worker line is echoed once broker, emulator and worker were started
            seen.append(line)
            if line.strip().startswith("worker "):
                break
        kids = children(demo.pid)
        assert len(kids) >= 2, (kids, seen)  # the broker and the worker
        demo.send_signal(signum)
        rest, _ = demo.communicate(timeout=60)
        assert demo.returncode == 130, "".join(seen) + rest
        deadline = time.monotonic() + 15
        while any(alive(pid) for pid in kids) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [pid for pid in kids if alive(pid)], "children left running"
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait(10)
