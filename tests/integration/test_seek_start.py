"""agents/fixups/seek_start.py on a real broker: the upstream symptom it works around, and the fix in Faust.

A partition the group never committed stays where the client read to when Faust seeks "to the committed
offsets" (aiokafka seeks only a committed offset above 0), so records Faust dropped while its flow was
suspended were never read again. With the fix, Faust's own ``perform_seek`` puts such a partition back at its
first record it dropped (neither acknowledged nor in flight) and an agent reads the records again; records
already processed are not read twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import faust
from aiokafka import AIOKafkaConsumer, TopicPartition
from confluent_kafka import Producer

from agents.fixups import seek_start
from streams.broker.select import LocalBroker


def _publish(bootstrap: str, topic: str, count: int, start: int = 0) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
    for n in range(start, start + count):
        producer.produce(topic, str(n).encode(), b"k", partition=0)
    assert producer.flush(10) == 0


async def test_aiokafka_leaves_a_never_committed_partition_where_it_was(
        broker: LocalBroker, unique_topic: Callable[..., str], unique_name: Callable[[str], str]) -> None:
    topic = unique_topic("seek-start")
    _publish(broker.bootstrap_servers, topic, 5)
    consumer = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap_servers, group_id=unique_name("group"),
                                enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        read = 0
        for _ in range(50):
            batch = await consumer.getmany(tp, timeout_ms=500)
            read += sum(len(records) for records in batch.values())
            if read >= 5:
                break
        assert read == 5
        assert await consumer.seek_to_committed() == {tp: None}
        # the upstream symptom seek_start works around: no seek, the records read are not read again
        assert await consumer.position(tp) == 5, "aiokafka now seeks a never-committed partition: see seek_start"
    finally:
        await consumer.stop()


async def test_faust_reads_a_never_committed_partition_again_from_its_start_after_its_seek(
        broker: LocalBroker, unique_topic: Callable[..., str], unique_name: Callable[[str], str]) -> None:
    topic = unique_topic("seek-start")
    _publish(broker.bootstrap_servers, topic, 5)
    seek_start.install()
    app = faust.App(unique_name("seek-start"), broker=f"kafka://{broker.bootstrap_servers}",
                    web_enabled=False, topic_partitions=1, broker_commit_every=10_000,
                    broker_commit_interval=3600.0, consumer_auto_offset_reset="earliest")
    seen: list[bytes] = []

    @app.agent(app.topic(topic, value_serializer="raw", key_serializer="raw"))
    async def reader(stream: faust.StreamT) -> None:
        async for value in stream:
            seen.append(value)

    await app.start()
    try:
        for _ in range(120):
            if len(seen) >= 5:
                break
            await asyncio.sleep(0.5)
        assert seen == [b"0", b"1", b"2", b"3", b"4"]
        tp = faust.types.TP(topic, 0)
        assert seek_start.never_committed(app.consumer) == [tp]  # commits held off
        await app.consumer.perform_seek()  # every record below the position was processed: none read again
        await asyncio.sleep(3)
        assert seen == [b"0", b"1", b"2", b"3", b"4"], "records processed once were read again"
        _publish(broker.bootstrap_servers, topic, 5, start=5)
        for _ in range(120):
            if len(seen) >= 10:
                break
            await asyncio.sleep(0.5)
        # as if offsets 7-9 had been read by the fetch loop and skipped by the stream: never acknowledged
        consumer: Any = app.consumer
        for offset in (7, 8, 9):  # test only: Faust's acknowledgement bookkeeping
            consumer._acked[tp].remove(offset)
            consumer._acked_index[tp].discard(offset)
        await app.consumer.perform_seek()  # what Faust does after such a drop
        for _ in range(60):
            if len(seen) >= 13:
                break
            await asyncio.sleep(0.5)
        assert seen == [str(n).encode() for n in [*range(10), 7, 8, 9]], "not read again from the first dropped"
    finally:
        await app.stop()
