"""The one reader of whole topics (streams/io/topic_reader.py) on a real broker: to the end offsets seen at the
start, every record in order per partition (the console's durable figures), or the latest record per key with
the value a tombstone replaced (errors, resync)."""

from __future__ import annotations

from collections.abc import Callable

from confluent_kafka import Producer

from streams.broker.select import LocalBroker
from streams.console.durable import read_all
from streams.io.topic_reader import read_latest, read_to_end


def test_reads_to_the_end_seen_at_the_start(broker: LocalBroker, unique_topic: Callable[..., str],
                                            unique_name: Callable[[str], str]) -> None:
    topic = unique_topic("reader", partitions=2)
    config = {"bootstrap.servers": broker.bootstrap_servers}
    producer = Producer({**config, "linger.ms": 0, "batch.num.messages": 1})
    sent = [(b"a", b"1", 0), (b"b", b"2", 1), (b"a", b"3", 0), (b"b", None, 1), (b"c", b"4", 1)]
    for n, (key, value, partition) in enumerate(sent):
        producer.produce(topic, value, key, partition=partition, timestamp=1_700_000_000_000 + n)
        producer.flush(10)

    everything = read_all(config, topic, unique_name("all"))
    by_time = sorted(everything, key=lambda s: s.ts_ms)
    assert [(s.key, s.value, s.ts_ms - 1_700_000_000_000) for s in by_time] == [
        (k, v, n) for n, (k, v, _) in enumerate(sent)]
    by_partition = [[s.value for s in everything if s.key == b"a"], [s.value for s in everything if s.key != b"a"]]
    assert by_partition == [[b"1", b"3"], [b"2", None, b"4"]]  # in order per partition

    latest = read_latest(config, topic, unique_name("latest"))
    assert {k: r.value for k, r in latest.items()} == {b"a": b"3", b"b": None, b"c": b"4"}
    tombstone = latest[b"b"]
    assert tombstone.previous is not None and tombstone.previous.value == b"2"
    assert (tombstone.partition, tombstone.offset) == (1, 1)

    producer.produce(topic, b"5", b"d", partition=0)
    producer.flush(10)
    assert len(list(read_to_end(config, topic, unique_name("again")))) == len(sent) + 1


def test_a_missing_topic_reads_as_empty(broker: LocalBroker, unique_name: Callable[[str], str]) -> None:
    config = {"bootstrap.servers": broker.bootstrap_servers, "allow.auto.create.topics": False}
    missing = unique_name("missing")
    assert read_all(config, missing, unique_name("g")) == []
    assert read_latest(config, missing, unique_name("g")) == {}
