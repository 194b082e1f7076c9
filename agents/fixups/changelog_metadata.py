"""Keeping a changelog topic in the producer's metadata from the start.

Symptom: a table with ``use_partitioner=True`` (the identity table) takes its changelog partition from the
producer's metadata. Once aiokafka has sent to some topics it refreshes metadata for those topics only, so
a changelog it has not sent to yet drops out of the metadata and every write to that table fails with a
``TypeError`` in ``key_partition`` (seen in the fault suite). Tracking the topic in the client from the
start keeps it in every refresh; Faust does not expose its aiokafka producer.

Faust: ``faust.transport.drivers.aiokafka.Producer._ensure_producer`` (the aiokafka producer), then
aiokafka's ``AIOKafkaProducer.client.add_topic``; the failing path is ``Producer.key_partition``.

Seen with: faust-streaming 0.15.3, aiokafka 0.14.0.

Remove when: the egress fault suite (tests/faults/test_edfi_faults.py) passes with the call to
:func:`track_topic` removed from agents/egress.py.
"""

from __future__ import annotations

from typing import Any


def producer_client(producer: Any) -> Any:
    """The aiokafka client under Faust's started producer (``faust.exceptions.NotReady`` before start)."""
    return producer._ensure_producer().client


async def track_topic(producer: Any, topic: str) -> None:
    """Keep ``topic`` in every metadata refresh of Faust's producer."""
    await producer_client(producer).add_topic(topic)
