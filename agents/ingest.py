"""Ingest: decode SIS change events, dead-letter the poison, repartition the rest by student.

One agent reads every SIS topic of contract section 1. A record is decoded (Avro or JSON), validated
(:func:`streams.sis.events.parse_change`) and forwarded to ``edfi-stream.student-events``: to its
student's partition, or to every partition for reference rows (see :mod:`agents.routing`). Anything that
cannot be used becomes a dead letter; the worker never stops on bad input.
"""

from __future__ import annotations

import logging
from typing import Any

from agents import deadletter
from agents.app import FaustParts
from agents.routing import routes_for
from agents.topics import STUDENT_EVENTS
from agents.wire import decode_key, decode_value, encode_value, routed_change
from streams.errors import PoisonInput
from streams.observability import metrics
from streams.sis.events import parse_change

log = logging.getLogger(__name__)


def attach_ingest(parts: FaustParts) -> Any:
    app = parts.app

    @app.agent(parts.inputs, name="edfi-stream.ingest")
    async def ingest(stream: Any) -> None:
        async for event in stream.events():
            message = event.message
            topic = message.topic
            raw_key, raw_value = message.key, message.value
            try:
                value = decode_value(topic, raw_value)
                if value is None:  # a Kafka tombstone after a delete: normal, nothing to do
                    metrics.record_event(topic, "ignored")
                    continue
                key = decode_key(topic, raw_key)
                change = parse_change(topic, key, value)
            except PoisonInput as exc:
                metrics.record_event(topic, "dead_letter")
                await deadletter.publish(parts.dead_letters, deadletter.dead_letter_record(
                    stage="decode", reason=exc.reason, detail=exc.detail or str(exc), source_topic=topic,
                    partition=message.partition, offset=message.offset, key=raw_key, value=raw_value,
                ), key=f"{topic}:{message.partition}:{message.offset}")
                continue
            # No need to wait for each acknowledgement here: Faust flushes the producer before it commits
            # an input offset, so a crash re-reads this event rather than losing its routed copies.
            for route in routes_for(change, parts.partitions):
                record = routed_change(change, value, route.broadcast)
                await parts.student_events.send(
                    key=route.key.encode(), value=encode_value(STUDENT_EVENTS, record), partition=route.partition)
            metrics.record_event(topic, "ok")

    return ingest
