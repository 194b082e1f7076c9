"""Read a topic from its start to the end it had when reading began, keeping the latest record per key.

Why: three commands read a compacted-in-spirit topic as a table (the broker here never compacts): `errors`
reads the dead letters, `resync` reads the worker's identity-map changelog and the toggle state on the
control topic. They share this reader so that the "stop at the end offsets seen at the start" rule, which
keeps a reader from waiting on a topic that is still being written, lives in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, TopicPartition


@dataclass(frozen=True)
class LatestRecord:
    partition: int
    offset: int
    value: bytes | None  # None: a tombstone (the key was deleted)


def read_latest(kafka_config: dict[str, Any], topic: str, group_id: str,
                timeout: float = 10.0) -> dict[bytes, LatestRecord]:
    """The latest record of every key, ordered by when that record was written (oldest first); empty if the
    topic does not exist. Offsets are not committed: the group id only names the reader."""
    consumer = Consumer({**kafka_config, "group.id": group_id, "enable.auto.commit": False,
                         "auto.offset.reset": "earliest", "log_level": 0})
    try:
        meta = consumer.list_topics(topic, timeout=timeout).topics.get(topic)
        if meta is None or meta.error is not None:
            return {}
        tps = [TopicPartition(topic, p, 0) for p in sorted(meta.partitions)]
        ends = {tp.partition: consumer.get_watermark_offsets(tp, timeout=timeout)[1] for tp in tps}
        consumer.assign(tps)
        latest: dict[bytes, LatestRecord] = {}
        remaining = {p for p, end in ends.items() if end > 0}
        while remaining:
            msg = consumer.poll(timeout)
            if msg is None:
                break
            if msg.error() is not None:
                continue
            partition, offset = int(msg.partition() or 0), int(msg.offset() or 0)
            key = msg.key() or b""
            latest.pop(key, None)
            latest[key] = LatestRecord(partition, offset, msg.value())
            if offset + 1 >= ends[partition]:
                remaining.discard(partition)
        return latest
    finally:
        consumer.close()
