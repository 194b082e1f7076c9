"""Poison fuzz (issue 13, part 3): hypothesis-generated keys and values (bytes, JSON, Avro) on every SIS input
topic, and values over 1 MB, produced to the real test broker between well-formed rows. Every record ends
applied or dead-lettered, no dead letter is an ``internal_error`` (each would be a bug found), the letters
keep at most ``worker.deadLetterMaxBytes`` of the original, and no agent crashes or restarts."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from streams.deadletters.log import read_dead_letters
from streams.demo.metrics_scrape import by_label
from streams.demo.stack import LocalStack
from tests.faults.fuzz_records import ROWS, TOPICS, internal_record, record
from tests.faults.support import Summary, worker_errors, write_config

pytestmark = [pytest.mark.faults, pytest.mark.integration]

BATCHES, PER_BATCH = 40, 10
INTERNAL_BATCHES = 6
HUGE = 1_200_000  # over the broker's and the producers' 1 MB default
LETTER_MAX = 4096
Raw = tuple[str, bytes | None, bytes | None]


def fuzzed(strategy: Any = None, batches: int = BATCHES) -> list[Raw]:
    out: list[Raw] = []

    @settings(max_examples=batches, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.generate])
    @given(st.lists(record() if strategy is None else strategy, min_size=PER_BATCH, max_size=PER_BATCH))
    def collect(batch: list[Raw]) -> None:
        out.extend(batch)

    collect()
    return out


def well_formed() -> list[Raw]:
    out: list[Raw] = []
    ts = 1_700_000_000_000
    for topic in TOPICS:
        pk, template = ROWS[topic]
        for ident in range(1, 4):
            ts += 1
            row = {**template, pk: ident if topic != "sis.test_scores" else 1000 + ident}
            value = {"op": "c", "before": None, "after": row, "ts_ms": ts}
            out.append((topic, json.dumps({pk: row[pk]}).encode(), json.dumps(value).encode()))
    return out


def huge() -> list[Raw]:
    big_name = {"op": "c", "after": {**ROWS["sis.students"][1], "lastName": "X" * HUGE}, "ts_ms": 1}
    big_extra = {"op": "c", "after": {**ROWS["sis.students"][1], "notes": "Y" * HUGE}, "ts_ms": 2}
    return [("sis.students", b'{"personID": 1}', json.dumps(big_name).encode()),
            ("sis.students", b'{"personID": 1}', json.dumps(big_extra).encode())]


def allow_large_values(stack: LocalStack, topic: str) -> None:
    """Apache Kafka refuses a value over its topic's max.message.bytes (1 MB by default) at produce: a district
    whose SIS rows can be that large raises it on the topic, and this is what the worker then receives."""
    from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource

    from streams.broker.select import test_broker_kind

    if test_broker_kind() != "kafka":
        return  # tansu takes any size
    admin = AdminClient({k: v for k, v in stack.kafka_config.items()
                         if k.startswith(("bootstrap", "security", "sasl", "ssl"))})
    entry = ConfigEntry("max.message.bytes", "4000000", incremental_operation=AlterConfigOpType.SET)
    resource = ConfigResource("topic", topic, incremental_configs=[entry])
    for future in admin.incremental_alter_configs([resource]).values():
        future.result(30)


def produce(stack: LocalStack, records: list[Raw]) -> list[tuple[str, int, int]]:
    """Like LocalStack.produce_raw, with a producer that allows values over 1 MB."""
    from confluent_kafka import Producer

    producer = Producer({**stack.kafka_config, "message.max.bytes": 4_000_000, "batch.num.messages": 1,
                         "log_level": 0})
    placed: list[Any] = [None] * len(records)
    errors: list[str] = []

    def report(index: int) -> Any:
        def done(err: Any, msg: Any) -> None:
            if err is not None:
                errors.append(str(err))
            else:
                placed[index] = (msg.topic(), msg.partition(), msg.offset())
        return done

    for index, (topic, key, value) in enumerate(records):
        producer.produce(topic, key=key, value=value, on_delivery=report(index))
        producer.poll(0)
    producer.flush(60)
    assert not errors and all(placed), errors[:3]
    return placed


def test_fuzzed_records_are_applied_or_dead_lettered(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    started = time.monotonic()
    fuzz = fuzzed()
    assert len(fuzz) >= BATCHES * PER_BATCH // 2
    kinds = Counter("avro" if v[:1] == b"\x00" else "json" if v[:1] in (b"{", b"[", b'"') else "bytes"
                    for _, _, v in fuzz if v)
    records = [*well_formed(), *fuzz, *huge()]
    config = write_config(tmp_path)
    monkeypatch.setenv("EDFI_STREAM_WORKER__DEAD_LETTER_MAX_BYTES", str(LETTER_MAX))
    with LocalStack(config, None, partitions=2) as stack:
        stack.wait_ready()
        allow_large_values(stack, "sis.students")
        placed = produce(stack, records)
        stack.wait_idle(300)
        # the topics the worker itself reads (repartitioned changes, write commands), damaged
        inner = fuzzed(internal_record(), INTERNAL_BATCHES)
        inner_placed = produce(stack, inner)
        stack.wait_idle(300)
        assert stack.worker.alive
        letters = read_dead_letters(stack.kafka_config)
        consumed = by_label(stack.metrics(), "edfi_stream_events_consumed_total", "outcome")
        log = (stack.workdir / "worker.log").read_text(errors="replace")

    coordinates = {f"{t}:{p}:{o}" for t, p, o in placed}
    inner_coordinates = {f"{t}:{p}:{o}" for t, p, o in inner_placed}
    decode = [d for d in letters if d.stage == "decode"]
    inner_letters = {d.key for d in letters if d.stage in ("rules", "egress")} & inner_coordinates
    reasons = Counter(d.record["reason"] for d in letters)
    summary = Summary("poison_fuzz", events=len(records), seconds=time.monotonic() - started,
                      poison=len(letters), extra={"kinds": dict(kinds), "reasons": dict(reasons)})
    with capsys.disabled():
        print("\n" + summary.line())
    # every record: ingested (ok / a tombstone) or a dead letter of its own coordinates
    assert sum(consumed.values()) == len(records), consumed
    assert consumed.get("dead_letter", 0) == len(decode)
    assert {d.key for d in decode} <= coordinates
    assert reasons["internal_error"] == 0, [d.record["detail"] for d in letters if d.record["reason"] ==
                                            "internal_error"][:5]
    assert consumed.get("ok", 0) >= len(well_formed())
    # a damaged internal record is a dead letter of its own coordinates too (a few may be usable records)
    assert len(inner_letters) >= len(inner) // 2, (len(inner_letters), len(inner))
    assert {c for c in inner_coordinates if c.startswith("edfi-stream.write-commands")} <= inner_letters
    # the letters keep a bounded prefix of the original, with its size and digest
    assert all(len(d.record.get("value") or b"") <= LETTER_MAX for d in letters)
    big = [d for d in decode if (d.record.get("valueSize") or 0) > HUGE]
    assert len(big) == 2 and all(d.record["truncated"] and d.record["valueSha256"] for d in big), big
    assert {d.record["reason"] for d in big} == {"oversized_value", "oversized_record"}
    # no agent crashed or was restarted, nothing unhandled
    assert "Crashed reason" not in log
    assert worker_errors(stack) == []
