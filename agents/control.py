"""The resource toggle as every worker sees it (contract section 2, seed 003 Resync Logic).

``edfi.control`` is read in full by *every* worker (no consumer group: all partitions assigned, from the
beginning), because turning a resource off must stop sends on all workers at once, not only on the one
that a group would give the partition to.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from agents.topics import CONTROL_TOPIC
from agents.wire import decode_key, decode_value
from streams.errors import PoisonInput
from streams.sis.events import parse_control

log = logging.getLogger(__name__)


class ControlState:
    """Which resources are enabled; resources are on until a control event says otherwise."""

    def __init__(self) -> None:
        self._enabled: dict[str, bool] = {}
        self._listeners: list[Callable[[str, bool], None]] = []
        self.ready = asyncio.Event()

    def enabled(self, resource: str = "studentAssessments") -> bool:
        return self._enabled.get(resource, True)

    def subscribe(self, listener: Callable[[str, bool], None]) -> None:
        self._listeners.append(listener)

    def set(self, resource: str, enabled: bool) -> None:
        if self._enabled.get(resource, True) != enabled:
            log.info("resource %s turned %s", resource, "on" if enabled else "off")
        self._enabled[resource] = enabled
        for listener in self._listeners:
            listener(resource, enabled)

    def apply_record(self, raw_key: bytes | None, raw_value: bytes | None) -> None:
        try:
            key = decode_key(CONTROL_TOPIC, raw_key)
            value = decode_value(CONTROL_TOPIC, raw_value)
            if value is None:
                return
            event = parse_control(key, value)
        except PoisonInput as exc:
            log.warning("ignored a bad control event: %s", exc)
            return
        self.set(event.resource, event.enabled)


async def follow_control(state: ControlState, consumer_factory: Callable[[], Any]) -> None:
    """Read ``edfi.control`` from the beginning and keep following it (aiokafka consumer, no group)."""
    from aiokafka import TopicPartition

    consumer = consumer_factory()
    await consumer.start()
    try:
        partitions: set[int] | None = None
        for _ in range(100):
            partitions = consumer.partitions_for_topic(CONTROL_TOPIC)
            if partitions:
                break
            await consumer._client.force_metadata_update()  # topic may be created a moment later
            await asyncio.sleep(0.2)
        tps = [TopicPartition(CONTROL_TOPIC, p) for p in sorted(partitions or {0})]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        caught_up = all(v == 0 for v in ends.values())
        if caught_up:
            state.ready.set()
        while True:
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                for record in records:
                    state.apply_record(record.key, record.value)
            if not state.ready.is_set():
                positions = {tp: await consumer.position(tp) for tp in tps}
                if all(positions[tp] >= ends[tp] for tp in tps):
                    state.ready.set()
    finally:
        await consumer.stop()
