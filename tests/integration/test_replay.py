"""Replay (issue 5): rewinding the worker group on the SIS topics and restarting rebuilds state from the
topics and the recovered tables, and sends nothing the ODS already has."""

from __future__ import annotations

from pathlib import Path

from scenario import build  # type: ignore[import-not-found]

from streams.demo.run import comparable
from streams.demo.stack import LocalStack
from streams.resync.replay import rewind


def writes(stack: LocalStack) -> int:
    return sum(1 for method, path, _ in list(stack.emulator.request_log)
               if method in ("POST", "PUT", "DELETE") and "studentassessments" in path.lower())


def test_replay_from_the_beginning_sends_nothing_twice(tmp_path: Path) -> None:
    events = build(tmp_path / "events.jsonl")
    config = tmp_path / "config.yaml"
    config.write_text("schoolYear: {startDate: 2023-07-01, endDate: 2024-06-30, endYear: 2024}\n")
    with LocalStack(config, events, partitions=2) as stack:
        stack.produce(events)
        stack.wait_idle()
        before = [comparable(r) for r in stack.emulator.records()]
        sent = writes(stack)
        assert sent > 0 and len(before) == 4
        stack.stop_worker()
        moved = rewind(stack.settings)
        assert moved >= 6  # every partition of every SIS topic
        stack.start_worker()
        stack.wait_ready()
        stack.wait_idle()
        assert [comparable(r) for r in stack.emulator.records()] == before
        assert writes(stack) == sent, "a replay must not send payloads the ODS already has"
