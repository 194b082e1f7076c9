"""Ingest: decode SIS change events, dead-letter the poison, repartition the rest by student.

One agent reads every SIS topic of contract section 1 (under the Kafka names of the ``topics:`` setting).
A record is decoded in whatever format it came (:mod:`streams.codec.debezium`: the contract's JSON and
Avro, Debezium's JSON with or without schemas, registry Avro), validated
(:func:`streams.sis.events.parse_change`), given its owner when its before image is partial
(:mod:`streams.sis.owners`) and forwarded to ``edfi-stream.student-events``: to its
student's partition, or to every partition for reference rows (see :mod:`agents.routing`). Anything that
cannot be used becomes a dead letter; the worker never stops on bad input. The agent takes its events in
micro-batches (``worker.batchMaxEvents`` / ``worker.batchMaxWaitMs``); :mod:`agents.ingest_batch` is the step
over one batch (the owner tables are written once the broker holds the batch's copies).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from agents.app import FaustParts
from agents.fixups.held_acks import held
from agents.ingest_batch import BufferedOwners, IngestBatch, Outgoing
from agents.routing import routes_for
from agents.topics import STUDENT_EVENTS
from agents.wire import routed_change
from streams.codec.debezium import RegistryUnavailable, SisDecoder
from streams.errors import PoisonInput
from streams.observability import metrics
from streams.sis.events import ChangeEvent, parse_change
from streams.sis.owners import OwnerIndex, before_image
from streams.topics import DEFAULT_TOPICS, OWNED_TABLES, OWNER_TABLES, SIS_TABLES, TopicMap

log = logging.getLogger(__name__)

_NO_OWNERS = OwnerIndex({})


def repartitioned(parts: FaustParts, message: Any, decoder: SisDecoder | None = None,
                  owners: OwnerIndex = _NO_OWNERS, table: str | None = None) -> Outgoing | None:
    """The copies of one input record for ``edfi-stream.student-events``, encoded (``None``: a tombstone).
    Raises PoisonInput for unusable input; nothing is sent, and no owner recorded, before every copy is
    encoded. The record's writer schemas must be known to ``decoder`` (:func:`_fetch_schemas`)."""
    decoder = decoder or SisDecoder()
    table = table or message.topic
    value = decoder.decode_value(table, message.value)  # the value first: its error is the one to report
    if value is None:
        return None  # a tombstone: its key is not needed
    change = owners.resolve(parse_change(table, decoder.decode_key(table, message.key), value))
    forwarded = {**value, "before": before_image(change, value.get("before"))}
    out: Outgoing = []
    for route in routes_for(change, parts.partitions):
        data = parts.wire.encode_value(STUDENT_EVENTS, routed_change(change, forwarded, route.broadcast))
        assert data is not None
        if len(data) > parts.max_value_bytes:
            raise PoisonInput("oversized_record", f"the repartitioned record would be {len(data)} bytes "
                                                  f"(worker.maxValueBytes is {parts.max_value_bytes})")
        out.append((route.key.encode(), data, route.partition))
    owners.record(change)
    return out


REGISTRY_BACKOFF_SECONDS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)


def owner_tables(parts: FaustParts, topic_map: TopicMap, partitions_of: Callable[[str], int | None]) -> Any:
    """One Faust table per owned SIS table (scores, enrollments): ``row -> personID`` (streams/sis/owners.py).

    Written while an input event is processed, so each lives in the partition of its source topic: a
    table has as many partitions as its topic (Faust refuses a mismatch)."""
    tables = {}
    for table in OWNED_TABLES:
        partitions = partitions_of(topic_map.kafka(table)) or parts.partitions
        tables[table] = parts.app.Table(OWNER_TABLES[table], partitions=partitions,
                                        help=f"{table} row -> personID (partial before images)")
    return tables


class _TableOwners(OwnerIndex):
    """The owner index over the per-table Faust tables."""

    def __init__(self, tables: dict[str, Any]) -> None:
        super().__init__({})
        self.tables = tables

    def resolve(self, event: ChangeEvent) -> ChangeEvent:
        self.store = self.tables.get(event.topic, self.store)
        return super().resolve(event)

    def record(self, event: ChangeEvent) -> None:
        self.store = self.tables.get(event.topic, self.store)
        super().record(event)


async def _fetch_schemas(decoder: SisDecoder, table: str, raw_key: bytes | None, raw_value: bytes | None) -> None:
    """A writer schema not seen before is fetched in a thread; while the schema registry does not answer
    the record waits (retried with backoff, never dead-lettered)."""
    attempt = 0
    for schema_id in decoder.missing_schema_ids(table, raw_key, raw_value):
        while True:
            try:
                await asyncio.to_thread(decoder.fetch_schema, schema_id)  # DecodeError (404) propagates
                break
            except RegistryUnavailable as exc:
                delay = REGISTRY_BACKOFF_SECONDS[min(attempt, len(REGISTRY_BACKOFF_SECONDS) - 1)]
                log.warning("schema registry unavailable (%s): %s waits %.1f s", exc, table, delay)
                attempt += 1
                await asyncio.sleep(delay)


def attach_ingest(parts: FaustParts, topic_map: TopicMap = DEFAULT_TOPICS, decoder: SisDecoder | None = None,
                  partitions_of: Callable[[str], int | None] = lambda topic: None) -> Any:
    app = parts.app
    decoder = decoder or SisDecoder()
    buffered = {table: BufferedOwners(faust_table)
                for table, faust_table in owner_tables(parts, topic_map, partitions_of).items()}
    owners = _TableOwners(dict(buffered))

    def table_of(topic: str) -> str:
        return topic_map.table(topic) or topic

    async def route(table: str, message: Any) -> Outgoing | None:
        if table == message.topic and table not in SIS_TABLES:
            raise PoisonInput("unknown_topic", table)
        await _fetch_schemas(decoder, table, message.key, message.value)
        return repartitioned(parts, message, decoder, owners, table)

    async def send(key: bytes, data: bytes, partition: int) -> Any:
        # the producer's own send: one future per copy, none of the topic's per-record bookkeeping; one
        # partition's copies keep their order
        return await app.producer.send(STUDENT_EVENTS, key, data, partition, None, None)

    async def letter(table: str, exc: BaseException, message: Any) -> None:
        if isinstance(exc, PoisonInput):
            await parts.letters.publish(*parts.letters.poison_letter("decode", exc, message))
        else:
            await parts.letters.publish(*parts.letters.error_letter("decode", exc, message))

    step = IngestBatch(table_of, route, send, letter, list(buffered.values()), metrics.record_event)

    @app.agent(parts.inputs, name="edfi-stream.ingest")
    async def ingest(stream: Any) -> None:
        # Faust acknowledges a batch's events when this body asks for the next batch: after every copy of
        # the batch was acknowledged and the owner tables written (agents/ingest_batch.py); it flushes the
        # producer (the owner tables' changelogs) before it commits them
        async for events in stream.take_events(parts.batch_max_events, within=parts.batch_max_wait_seconds):
            # a batch stopped half-way is not acknowledged; none starts while a rebalance moves partitions
            async with held(events), parts.fence.batch(events) as kept:
                await step.run(kept)

    return ingest
