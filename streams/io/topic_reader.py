"""Read a topic from its start to the end it had when reading began, keeping the latest record per key.

Why: three commands read a compacted-in-spirit topic as a table (the broker here never compacts): `errors`
reads the dead letters, `resync` reads the worker's identity-map changelog and the toggle state on the
control topic. The console's durable figures (streams/console/durable.py) read whole topics with
``read_to_end``. They share this reader so that the "stop at the end offsets seen at the start" rule, which
keeps a reader from waiting on a topic that is still being written, lives in one place.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, Message, TopicPartition


@dataclass(frozen=True)
class LatestRecord:
    partition: int
    offset: int
    value: bytes | None  # None: a tombstone (the key was deleted)
    # for a tombstone: the last value before it and where it was (an archived dead letter stays findable)
    previous: LatestRecord | None = None


def read_to_end(kafka_config: dict[str, Any], topic: str, group_id: str, timeout: float = 10.0,
                partitions: Collection[int] | None = None) -> Iterator[Message]:
    """Every record of ``topic`` (of its ``partitions`` only, when given) up to the end offsets it had when
    reading began, in order per partition; nothing if the topic does not exist. Offsets are not committed:
    the group id only names the reader."""
    consumer = Consumer({**kafka_config, "group.id": group_id, "enable.auto.commit": False,
                         "auto.offset.reset": "earliest", "log_level": 0})
    try:
        meta = consumer.list_topics(topic, timeout=timeout).topics.get(topic)
        if meta is None or meta.error is not None:
            return
        tps = [TopicPartition(topic, p, 0) for p in sorted(meta.partitions)
               if partitions is None or p in partitions]
        ends = {tp.partition: consumer.get_watermark_offsets(tp, timeout=timeout)[1] for tp in tps}
        remaining = {p for p, end in ends.items() if end > 0}
        consumer.assign([tp for tp in tps if tp.partition in remaining])
        while remaining:
            msg = consumer.poll(timeout)
            if msg is None:
                break
            if msg.error() is not None:
                continue
            yield msg
            partition, offset = int(msg.partition() or 0), int(msg.offset() or 0)
            if offset + 1 >= ends[partition]:
                remaining.discard(partition)
    finally:
        consumer.close()


def read_latest(kafka_config: dict[str, Any], topic: str, group_id: str,
                timeout: float = 10.0) -> dict[bytes, LatestRecord]:
    """The latest record of every key, ordered by when that record was written (oldest first); empty if the
    topic does not exist."""
    latest: dict[bytes, LatestRecord] = {}
    for msg in read_to_end(kafka_config, topic, group_id, timeout):
        key = msg.key() or b""
        before = latest.pop(key, None)
        value = msg.value()
        previous = None
        if value is None and before is not None:
            previous = before if before.value is not None else before.previous
        latest[key] = LatestRecord(int(msg.partition() or 0), int(msg.offset() or 0), value, previous)
    return latest
