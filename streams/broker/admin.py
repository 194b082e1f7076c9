"""Topic creation, end offsets and committed offsets with confluent-kafka (demo progress, lag, tests).

Against the embedded tansu broker the reported end offsets are exact only when producers write one record per
batch (docs/operations.md); :func:`exact_end_offsets` reads them off the records instead, for runs that
cannot afford that workaround.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

Config = Mapping[str, Any] | str


def _cfg(config: Config) -> dict[str, Any]:
    # log_level 0: these short-lived probe clients must not print librdkafka housekeeping lines
    if isinstance(config, str):
        return {"bootstrap.servers": config, "log_level": 0}
    base = {k: v for k, v in config.items() if k in _ADMIN_KEYS or k.startswith(("sasl.", "ssl."))}
    return {**base, "log_level": 0}


_ADMIN_KEYS = {"bootstrap.servers", "security.protocol", "client.id"}


def ensure_topics(config: Config, names: Iterable[str], partitions: int, replication: int = 1,
                  topic_config: Mapping[str, str] | None = None) -> None:
    """Create the topics that do not exist yet (existing ones are left as they are); idempotent.

    ``config`` is a bootstrap string or a librdkafka config (only connection/security keys are used);
    ``topic_config``: topic-level settings such as ``cleanup.policy`` (streams/kafka/topics.py).
    """
    admin = AdminClient(_cfg(config))
    existing = set(admin.list_topics(timeout=10).topics)
    missing = [NewTopic(n, num_partitions=partitions, replication_factor=replication,
                        config=dict(topic_config or {}))
               for n in sorted(set(names)) if n not in existing]
    if not missing:
        return
    for name, future in admin.create_topics(missing).items():
        try:
            future.result(15)
        except KafkaException as exc:
            if "TOPIC_ALREADY_EXISTS" not in str(exc) and "already exists" not in str(exc).lower():
                raise RuntimeError(f"cannot create topic {name}: {exc}") from exc


def partitions_of(config: Config, topics: Iterable[str]) -> list[tuple[str, int]]:
    """(topic, partition) of every existing topic among ``topics``; missing topics are left out."""
    admin = AdminClient(_cfg(config))
    meta = admin.list_topics(timeout=10).topics
    out: list[tuple[str, int]] = []
    for topic in topics:
        if topic in meta:
            out.extend((topic, p) for p in sorted(meta[topic].partitions))
    return out


def end_offsets(config: Config, topics: Iterable[str]) -> dict[tuple[str, int], int]:
    """High watermark of every partition (exact on tansu only with one record per batch)."""
    tps = partitions_of(config, topics)
    # A consumer is needed for watermarks; it never joins the group (no subscribe), so the id is harmless.
    consumer = Consumer({**_cfg(config), "group.id": "edfi-stream-offsets-probe",
                         "enable.auto.commit": False})
    try:
        out: dict[tuple[str, int], int] = {}
        for topic, partition in tps:
            _, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
            out[(topic, partition)] = max(0, high)
        return out
    finally:
        consumer.close()


def exact_end_offsets(config: Config, topics: Iterable[str], timeout: float = 15.0) -> dict[tuple[str, int], int]:
    """The next offset to be written of every partition, read off the records: the reported high watermark,
    then the rest of the partition from one record before it to its end.

    tansu reports "first offset of the last batch + 1" as the high watermark, so with multi-record batches
    up to a whole batch lies past it; reading from there to the end costs one fetch per partition. On a
    Kafka that reports the right value this reads one record per partition and changes nothing.
    """
    ends = end_offsets(config, topics)
    starts = {tp: high - 1 for tp, high in ends.items() if high > 0}
    if not starts:
        return ends
    consumer = Consumer({**_cfg(config), "group.id": "edfi-stream-offsets-probe", "enable.auto.commit": False,
                         "enable.partition.eof": True, "fetch.wait.max.ms": 10})
    try:
        consumer.assign([TopicPartition(t, p, offset) for (t, p), offset in starts.items()])
        pending = set(starts)
        deadline = time.monotonic() + timeout
        while pending:
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not read to the end of {sorted(pending)[:3]} within {timeout:.0f} s")
            msg = consumer.poll(0.2)
            if msg is None:
                continue
            tp = (str(msg.topic()), int(msg.partition() or 0))
            error = msg.error()
            if error is not None:
                if error.code() != KafkaError._PARTITION_EOF:
                    raise KafkaException(error)
                pending.discard(tp)
                continue
            ends[tp] = max(ends[tp], int(msg.offset() or 0) + 1)
        return ends
    finally:
        consumer.close()


def record_offsets(config: Config, topic: str, partition: int, first: int, last: int,
                   timeout: float = 10.0) -> set[int] | None:
    """The offsets in ``[first, last]`` of one partition that hold a record, as a ``read_uncommitted``
    consumer reads them (a transaction marker, or a record compacted away or deleted, holds none); None when
    the partition could not be read that far within ``timeout``. Used by agents/fixups/gap_check.py."""
    consumer = Consumer({**_cfg(config), "group.id": "edfi-stream-gap-check", "enable.auto.commit": False,
                         "enable.partition.eof": True, "fetch.wait.max.ms": 10, "auto.offset.reset": "earliest",
                         "isolation.level": "read_uncommitted"})
    try:
        consumer.assign([TopicPartition(topic, partition, first)])
        found: set[int] = set()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = consumer.poll(0.2)
            if msg is None:
                continue
            error = msg.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    return found  # nothing past the end: every offset up to it was read
                return None
            offset = int(msg.offset() or 0)
            if offset > last:
                return found
            found.add(offset)
        return None
    finally:
        consumer.close()


_COORDINATOR_MOVING = (KafkaError.NOT_COORDINATOR, KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
                       KafkaError.COORDINATOR_NOT_AVAILABLE)


def committed_offsets(config: Config, group: str, topics: Iterable[str]) -> dict[tuple[str, int], int]:
    """The group's committed offset per partition; partitions with no commit are left out.

    Read by a consumer of the group that never joins it (no subscribe), not by the AdminClient's
    list_consumer_group_offsets: librdkafka 2.16 crashes the whole process (SIGSEGV in rd_kafka_cgrp_op, from
    rd_kafka_handle_OffsetFetch) on some OffsetFetch answers of Apache Kafka 4 to an admin client, which has no
    consumer group of its own. The consumer's own OffsetFetch path is the one every Kafka consumer uses.
    """
    tps = [TopicPartition(t, p) for t, p in partitions_of(config, topics)]
    if not tps:
        return {}
    consumer = Consumer({**_cfg(config), "group.id": group, "enable.auto.commit": False})
    deadline = time.monotonic() + 15
    try:
        while True:
            try:
                result = consumer.committed(tps, timeout=15)
                break
            except KafkaException as exc:  # the coordinator moves or loads (a new group, a restarted broker)
                error = exc.args[0] if exc.args else None
                moving = isinstance(error, KafkaError) and (error.retriable() or error.code() in _COORDINATOR_MOVING)
                if not moving or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        consumer.close()
    return {(tp.topic, tp.partition): tp.offset for tp in result if tp.offset >= 0}
