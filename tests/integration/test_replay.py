"""Replay (issue 5): a worker started with --replay-from beginning rebuilds its state from the SIS topics
(and its recovered tables) and sends nothing the ODS already has; `replay` against the embedded broker,
which refuses offset changes from outside the group, says so and what to do instead; on Apache Kafka it rewinds
the stopped group and the restarted worker reads everything again."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.broker.admin import committed_offsets
from streams.demo.stack import LocalStack
from streams.resync.replay import ReplayRefused, rewind
from streams.sis.rows import SIS_TOPICS
from tests.support.replay import assert_replayed, first_run, scenario


def test_replay_from_the_beginning_sends_nothing_twice(tmp_path: Path) -> None:
    events, config = scenario(tmp_path)
    with LocalStack(config, events, partitions=2) as stack:
        first = first_run(stack, events)
        assert first.sent > 0 and len(first.before) == 4
        stack.stop_worker()
        if stack.broker_kind == "kafka":
            # Apache Kafka takes offset changes for a group with no live member: `edfi-stream replay` rewinds
            assert rewind(stack.settings) > 0
            assert set(committed_offsets(stack.kafka_config, stack.settings.worker.app_id, SIS_TOPICS).values()) == {0}
        else:
            with pytest.raises(ReplayRefused, match="--replay-from"):
                rewind(stack.settings)
            stack.env["EDFI_STREAM_WORKER__REPLAY_FROM"] = "beginning"
        stack.start_worker()
        stack.wait_ready()
        stack.wait_idle()
        log = (stack.workdir / "worker.log").read_text()
        assert stack.broker_kind == "kafka" or "replay: rewound" in log
        assert_replayed(stack, events, first)
