"""agents/fixups/held_acks.py on a real broker: a worker stopped while its agent is half-way through a batch (or
an event) must not commit the offsets of what it never finished.

Faust acknowledges the events a stream handed out in a ``finally`` that also runs when the agent is cancelled
at stop, and commits them as it stops. The first test asserts that upstream symptom (so a Faust release that
fixes it fails here, and the fix can go); the second, that the events held by :func:`held` are not committed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from typing import Any

import faust
import pytest
from confluent_kafka import Producer

from agents.fixups.held_acks import held
from streams.broker.admin import committed_offsets
from streams.broker.select import LocalBroker

RECORDS = 5


def _publish(bootstrap: str, topic: str) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
    for n in range(RECORDS):
        producer.produce(topic, str(n).encode(), b"k", partition=0)
    assert producer.flush(10) == 0


async def _stopped_half_way(broker: LocalBroker, topic: str, group: str, batched: bool, guard: bool) -> int | None:
    """Run an agent that never finishes the first batch (or event) it takes, stop the app, and return the
    group's committed offset of the topic's partition (None: nothing committed)."""
    # stream_wait_empty off, as the worker runs (agents/app.py): a stop does not wait for the agents
    app = faust.App(group, broker=f"kafka://{broker.bootstrap_servers}", web_enabled=False, topic_partitions=1,
                    consumer_auto_offset_reset="earliest", stream_wait_empty=False)
    busy = asyncio.Event()

    async def work(events: list[Any]) -> None:
        busy.set()
        await asyncio.sleep(3600)  # still at it when the worker stops

    def hold(events: list[Any]) -> AbstractAsyncContextManager[Any]:
        return held(events) if guard else nullcontext()

    @app.agent(app.topic(topic, value_serializer="raw", key_serializer="raw"))
    async def agent(stream: Any) -> None:  # a faust Stream (take_events is not on StreamT)
        batches = stream.take_events(RECORDS, within=0.5) if batched else (
            [event] async for event in stream.events())
        async for events in batches:
            async with hold(list(events)):
                await work(list(events))

    await app.start()
    try:
        await asyncio.wait_for(busy.wait(), 60)
        await asyncio.sleep(1.0)  # let the batch fill: every record is in hand
    finally:
        await app.stop()  # cancels the agent, then commits what is acknowledged
    done = await asyncio.to_thread(committed_offsets, {"bootstrap.servers": broker.bootstrap_servers}, group,
                                   [topic])
    return done.get((topic, 0))


@pytest.fixture
def published(broker: LocalBroker, unique_topic: Callable[..., str]) -> str:
    """A fresh topic holding the records the agent takes."""
    topic = unique_topic("held-acks")
    _publish(broker.bootstrap_servers, topic)
    return topic


@pytest.mark.parametrize("batched", [True, False], ids=["take_events", "async_for"])
async def test_faust_commits_what_a_stopped_agent_never_finished(
        broker: LocalBroker, published: str, unique_name: Callable[[str], str], batched: bool) -> None:
    committed = await _stopped_half_way(broker, published, unique_name("group"), batched, guard=False)
    assert committed is not None and committed >= 1, (
        "Faust no longer commits a stopped agent's unfinished events: agents/fixups/held_acks.py can go")


@pytest.mark.parametrize("batched", [True, False], ids=["take_events", "async_for"])
async def test_held_events_of_a_stopped_agent_are_not_committed(
        broker: LocalBroker, published: str, unique_name: Callable[[str], str], batched: bool) -> None:
    committed = await _stopped_half_way(broker, published, unique_name("group"), batched, guard=True)
    assert committed in (None, 0), f"offset {committed} committed past events the agent never finished"
