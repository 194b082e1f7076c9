"""Replay from a point in time (`worker.replayFrom: <ISO time>`): the worker finds each SIS partition's
offset for that time through the Kafka client on Faust's consumer thread (agents/fixups/group_offsets.py),
rewinds to it and reads again, sending nothing the ODS already has. Before the fixups package, this path
read an attribute Faust's consumer does not have, and the setting refused an ISO time from the
environment (YAML made it a datetime)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from streams.demo.stack import LocalStack
from tests.support.replay import assert_replayed, first_run, scenario


def test_replay_from_a_time_before_the_events_reads_them_all_again(tmp_path: Path) -> None:
    events, config = scenario(tmp_path)
    before_the_events = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).isoformat()
    with LocalStack(config, events, partitions=2) as stack:
        first = first_run(stack, events)
        assert first.before and first.sent > 0
        stack.stop_worker()
        stack.env["EDFI_STREAM_WORKER__REPLAY_FROM"] = before_the_events
        stack.start_worker()
        stack.wait_ready()
        stack.wait_idle()
        log = (stack.workdir / "worker.log").read_text()
        rewound = re.search(rf"replay: rewound (\d+) SIS partitions \({re.escape(before_the_events)}\)", log)
        assert rewound and int(rewound.group(1)) > 0, log[-3000:]
        assert_replayed(stack, events, first)
