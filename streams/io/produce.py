"""Publish events (from a file or from memory) to their Kafka topics with confluent-kafka.

Values are encoded with the topic's codec (Avro in the Confluent wire format by default, or JSON). Against
the embedded tansu broker each record is its own batch (``one_record_per_batch``), see
docs/operations.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import Producer

from streams.codec import Format, codec_for
from streams.config import KafkaSettings
from streams.errors import PoisonInput
from streams.io.events_file import FileEvent
from streams.kafka import clients
from streams.topics import DEFAULT_TOPICS, SIS_TABLES, TopicMap


@dataclass
class ProduceReport:
    produced: int = 0
    by_topic: dict[str, int] = field(default_factory=dict)
    rejected: list[str] = field(default_factory=list)


def make_producer(kafka: KafkaSettings) -> Producer:
    return clients.make_producer(kafka)


def encode_event(event: FileEvent, fmt: Format) -> tuple[bytes | None, bytes | None]:
    codec = codec_for(event.topic)
    key = codec.encode_key(event.key, fmt=fmt) if isinstance(event.key, dict) else (
        json.dumps(event.key).encode() if event.key is not None else None)
    value = codec.encode_value(event.value, fmt=fmt) if event.value is not None else None
    return key, value


STALL_SECONDS = 60.0


def flush_while_progressing(producer: Producer, stall_seconds: float = STALL_SECONDS) -> int:
    """Wait for every queued record's delivery for as long as deliveries keep coming (a large file on a
    slow broker takes minutes); give up after ``stall_seconds`` without one. Returns the records left."""
    remaining = producer.flush(0)
    while remaining:
        before = remaining
        remaining = producer.flush(stall_seconds)
        if remaining >= before:
            break
    return remaining


def produce_events(events: Iterable[FileEvent | PoisonInput], kafka: KafkaSettings, fmt: Format = "avro",
                   producer: Producer | None = None, topics: TopicMap = DEFAULT_TOPICS) -> ProduceReport:
    """Encode and publish; events that cannot be encoded are listed in the report, not dropped silently.

    An event of a SIS table (``"topic": "sis.test_scores"``) goes to that table's Kafka topic (``topics``)."""
    report = ProduceReport()
    own = producer is None
    producer = producer or make_producer(kafka)
    errors: list[str] = []

    def on_delivery(err: Any, msg: Any) -> None:
        if err is not None:
            errors.append(f"{msg.topic()}: {err}")

    for event in events:
        if isinstance(event, PoisonInput):
            report.rejected.append(str(event))
            continue
        try:
            key, value = encode_event(event, fmt)
        except PoisonInput as exc:
            report.rejected.append(f"line {event.line}: {exc}")
            continue
        except Exception as exc:  # the Avro writer raises several types for a value of the wrong shape
            report.rejected.append(f"line {event.line}: cannot encode for {event.topic}: {exc}")
            continue
        while True:
            try:
                producer.produce(topics.kafka(event.topic) if event.topic in SIS_TABLES else event.topic,
                                 key=key, value=value, on_delivery=on_delivery)
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
        report.produced += 1
        report.by_topic[event.topic] = report.by_topic.get(event.topic, 0) + 1
    if own:
        remaining = flush_while_progressing(producer)
        if remaining:
            errors.append(f"{remaining} records not delivered: no delivery for {STALL_SECONDS:.0f} s")
    if errors:
        raise RuntimeError("delivery failed: " + "; ".join(errors[:5]))
    return report
