"""Topics the product creates get kafka.topicPartitions, kafka.topicReplicationFactor and, for edfi.control, one
partition and compaction; the start-up checks say in plain words what is wrong (issue 15 part 8)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient, ConfigResource

from streams.config import KafkaSettings
from streams.kafka.topics import ensure_product_topics, topic_problems
from streams.sis.rows import CONTROL_TOPIC


def listed(admin: AdminClient, names: list[str], seconds: float = 10.0) -> dict[str, Any]:
    """The cluster's topics once it lists ``names``: a new topic can be missing from a metadata answer for a
    moment after CreateTopics returned (seen once on the Kafka test node)."""
    import time

    deadline = time.monotonic() + seconds
    meta = admin.list_topics(timeout=10).topics
    while not set(names) <= set(meta) and time.monotonic() < deadline:
        time.sleep(0.2)
        meta = admin.list_topics(timeout=10).topics
    return dict(meta)


def test_partitions_replication_and_compaction(broker: Any, unique_name: Callable[[str], str]) -> None:
    kafka = KafkaSettings(bootstrap_servers=broker.bootstrap_servers, topic_partitions=3)
    scores = unique_name("sis.test_scores")
    ensure_product_topics(kafka, [scores, CONTROL_TOPIC])
    admin = AdminClient({"bootstrap.servers": broker.bootstrap_servers, "log_level": 0})
    meta = listed(admin, [scores, CONTROL_TOPIC])
    assert len(meta[scores].partitions) == 3
    assert len(meta[CONTROL_TOPIC].partitions) == 1
    assert all(len(p.replicas) == 1 for p in meta[scores].partitions.values())
    if broker.kind == "kafka":  # tansu accepts the policy and never applies it (docs/operations.md)
        resource = ConfigResource(ConfigResource.Type.TOPIC, CONTROL_TOPIC)
        configs = admin.describe_configs([resource])[resource].result(15)
        assert configs["cleanup.policy"].value == "compact"
        # more replicas than the cluster has brokers: refused with the broker's reason, nothing half-made
        wide = unique_name("sis.students")
        with pytest.raises(RuntimeError, match="cannot create topic"):
            ensure_product_topics(kafka.model_copy(update={"topic_replication_factor": 3}), [wide])
        assert wide not in admin.list_topics(timeout=10).topics


def test_start_up_checks_in_plain_words(broker: Any, unique_name: Callable[[str], str]) -> None:
    kafka = KafkaSettings(bootstrap_servers=broker.bootstrap_servers, topic_partitions=2)
    present, absent = unique_name("sis.enrollments"), unique_name("sis.schools")
    ensure_product_topics(kafka, [present])
    problems = topic_problems(kafka, [present, absent], workers=3)
    assert sorted(problems) == sorted([
        f"topic {present} has 2 partitions for 3 workers: 1 workers would stay idle (raise its partitions)",
        f"topic {absent} does not exist: create it, or let `edfi-stream produce` or Debezium create it "
        "(auto-creation may be off on this cluster)"])
    assert topic_problems(kafka, [present], workers=2) == []


def test_every_topic_of_the_worker_is_created_in_one_place(broker: Any, unique_name: Callable[[str], str]) -> None:
    from streams.kafka.topics import ensure_worker_topics, worker_topics

    kafka = KafkaSettings(bootstrap_servers=broker.bootstrap_servers, topic_partitions=3)
    app_id = unique_name("edfi-stream-app")
    specs = worker_topics(kafka, app_id)
    ensure_worker_topics(kafka, specs)
    admin = AdminClient({"bootstrap.servers": broker.bootstrap_servers, "log_level": 0})
    meta = admin.list_topics(timeout=10).topics
    assert {s.name: len(meta[s.name].partitions) for s in specs if s.name in meta} == {
        s.name: s.partitions for s in specs}
    changelog = f"{app_id}-identity-changelog"
    assert len(meta[changelog].partitions) == 3
    if broker.kind == "kafka":  # tansu accepts the policy and never applies it (docs/operations.md)
        resource = ConfigResource(ConfigResource.Type.TOPIC, changelog)
        assert admin.describe_configs([resource])[resource].result(15)["cleanup.policy"].value == "compact"
    ensure_worker_topics(kafka, specs)  # again: nothing to do, nothing raised
