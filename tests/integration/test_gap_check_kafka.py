"""The broker read behind agents/fixups/gap_check.py on a real broker: the offsets of a range that hold a
record, with a transaction marker (on Apache Kafka) holding none."""

from __future__ import annotations

from collections.abc import Callable

from confluent_kafka import Producer

from streams.broker.admin import end_offsets, record_offsets
from streams.broker.select import LocalBroker


def test_record_offsets_finds_the_records_and_not_a_transaction_marker(
        broker: LocalBroker, unique_topic: Callable[..., str], unique_name: Callable[[str], str]) -> None:
    topic = unique_topic("gap-check")
    plain = Producer({"bootstrap.servers": broker.bootstrap_servers, "linger.ms": 0})
    for n in range(3):
        plain.produce(topic, str(n).encode(), partition=0)
    assert plain.flush(10) == 0
    assert record_offsets(broker.bootstrap_servers, topic, 0, 0, 2) == {0, 1, 2}
    assert record_offsets(broker.bootstrap_servers, topic, 0, 1, 1) == {1}
    assert record_offsets(broker.bootstrap_servers, topic, 0, 1, 9) == {1, 2}  # the end: nothing past it
    if broker.kind != "kafka":
        return  # the embedded broker's transactions are not what this is about
    transactional = Producer({"bootstrap.servers": broker.bootstrap_servers, "transactional.id": unique_name("tx")})
    transactional.init_transactions(30)
    transactional.begin_transaction()
    for n in range(2):
        transactional.produce(topic, f"tx{n}".encode(), partition=0)
    transactional.commit_transaction(30)  # offsets 3 and 4, then a commit marker (written asynchronously)
    plain.produce(topic, b"after", partition=0)
    assert plain.flush(10) == 0
    end = end_offsets(broker.bootstrap_servers, [topic])[(topic, 0)]
    present = record_offsets(broker.bootstrap_servers, topic, 0, 0, end - 1)
    assert end == 7 and present is not None and len(present) == 6  # 7 offsets, 6 records: one is the marker
    (marker,) = set(range(end)) - present
    assert marker >= 5  # after the transaction's records: the marker holds no record, a true gap
