"""Topic creation, end offsets and committed offsets with confluent-kafka (demo progress, lag, tests).

Against the embedded tansu broker end offsets are exact only when producers write one record per batch
(docs/operations.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

Config = Mapping[str, Any] | str


def _cfg(config: Config) -> dict[str, Any]:
    # log_level 0: these short-lived probe clients must not print librdkafka housekeeping lines
    if isinstance(config, str):
        return {"bootstrap.servers": config, "log_level": 0}
    base = {k: v for k, v in config.items() if k in _ADMIN_KEYS or k.startswith(("sasl.", "ssl."))}
    return {**base, "log_level": 0}


_ADMIN_KEYS = {"bootstrap.servers", "security.protocol", "client.id"}


def ensure_topics(config: Config, names: Iterable[str], partitions: int, replication: int = 1) -> None:
    """Create the topics that do not exist yet (existing ones are left as they are); idempotent.

    ``config`` is a bootstrap string or a librdkafka config (only connection/security keys are used).
    """
    admin = AdminClient(_cfg(config))
    existing = set(admin.list_topics(timeout=10).topics)
    missing = [NewTopic(n, num_partitions=partitions, replication_factor=replication)
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


def committed_offsets(config: Config, group: str, topics: Iterable[str]) -> dict[tuple[str, int], int]:
    """The group's committed offset per partition; partitions with no commit are left out."""
    tps = [TopicPartition(t, p) for t, p in partitions_of(config, topics)]
    if not tps:
        return {}
    admin = AdminClient(_cfg(config))
    futures = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group, tps)])
    result = futures[group].result(15)
    return {(tp.topic, tp.partition): tp.offset for tp in result.topic_partitions if tp.offset >= 0}
