"""The local stack without the one-record-per-batch workaround (what the 100,000-student memory benchmark
runs on): the broker's reported end offsets fall short, and `wait_idle` still waits until the worker is
done, so the ODS equals `simulate` when it returns."""

from __future__ import annotations

import json
from pathlib import Path

from agents.topics import INPUT_TOPICS
from streams.broker.admin import end_offsets, exact_end_offsets
from streams.config import load_settings
from streams.demo.run import comparable
from streams.demo.stack import LocalStack
from streams.sample.district import sample_events
from streams.simulate.run import run_simulation


def test_wait_idle_reads_real_end_offsets_when_records_are_batched(tmp_path: Path) -> None:
    events = tmp_path / "district.jsonl"
    events.write_text("".join(json.dumps(e) + "\n" for e in sample_events()))
    config = tmp_path / "config.yaml"
    config.write_text("schoolYear: {startDate: 2023-07-01, endDate: 2024-06-30, endYear: 2024}\n")
    run_simulation(events, load_settings(config, environ={}), tmp_path / "sim")
    expected = json.loads((tmp_path / "sim" / "ods.json").read_text())
    lines: list[str] = []
    # tansu-only: Apache Kafka reports exact end offsets whatever the batches (test_broker_roundtrip.py)
    with LocalStack(config, events, partitions=2, echo=lines.append, one_record_per_batch=False,
                    broker="tansu") as stack:
        assert stack.settings.kafka.one_record_per_batch is False
        produced = stack.produce(events)
        reported = sum(end_offsets(stack.kafka_config, INPUT_TOPICS).values())
        exact = sum(exact_end_offsets(stack.kafka_config, INPUT_TOPICS).values())
        assert reported < exact == produced  # the case this mode exists for
        stack.wait_idle(180)
        records = stack.emulator.records()
    assert [comparable(r) for r in records] == [comparable(r) for r in expected], "\n".join(lines[-20:])
