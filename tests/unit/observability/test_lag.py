"""Consumer lag: the arithmetic, and the gauge from a real (embedded) broker, no mocked Kafka client."""

from __future__ import annotations

import uuid

import pytest
from confluent_kafka import Producer, TopicPartition

from streams.observability import lag, metrics


def test_compute_lag() -> None:
    ends = {("a", 0): 10, ("a", 1): 5, ("b", 0): 3}
    committed = {("a", 0): 4, ("a", 1): 7, ("x", 0): 1}
    # a partition never committed counts from 0; a committed offset beyond the (tansu-low) end gives 0
    assert lag.compute_lag(ends, committed) == {("a", 0): 6, ("a", 1): 0, ("b", 0): 3}


@pytest.mark.integration
def test_update_lag_against_the_embedded_broker() -> None:
    from confluent_kafka import ConsumerGroupTopicPartitions
    from confluent_kafka.admin import AdminClient

    from streams.broker.admin import ensure_topics
    from streams.broker.embedded import EmbeddedBroker

    topic, group = f"lag-{uuid.uuid4().hex[:8]}", f"g-{uuid.uuid4().hex[:8]}"
    with EmbeddedBroker() as broker, metrics.use_registry() as m:
        bootstrap = broker.bootstrap_servers
        ensure_topics(bootstrap, [topic], partitions=2)
        # one record per batch: tansu's high watermark is exact only then (see streams/observability/lag.py)
        producer = Producer({"bootstrap.servers": bootstrap, "batch.num.messages": 1, "linger.ms": 0})
        for _ in range(5):
            producer.produce(topic, value=b"x", partition=0)
            producer.flush(10)
        for _ in range(2):
            producer.produce(topic, value=b"y", partition=1)
            producer.flush(10)
        admin = AdminClient({"bootstrap.servers": bootstrap})
        admin.alter_consumer_group_offsets(
            [ConsumerGroupTopicPartitions(group, [TopicPartition(topic, 0, 3)])])[group].result(15)

        got = lag.update_lag(bootstrap, group, [topic, "no-such-topic"])

        assert got == {(topic, 0): 2, (topic, 1): 2}
        assert m.registry.get_sample_value("edfi_stream_consumer_lag_messages",
                                           {"topic": topic, "partition": "0"}) == 2
