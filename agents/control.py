"""The resource toggle as every worker sees it (contract section 2, seed 003 Resync Logic).

``edfi.control`` is read in full by *every* worker (no consumer group: all partitions assigned, from the
beginning), because turning a resource off must stop sends on all workers at once, not only on the one
that a group would give the partition to.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from agents.fixups import topic_metadata
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


class ControlStep:
    """The control follower's per-record step: every record read is applied to the state, and the state is
    ready once this worker has read up to the end offsets ``ends`` seen when it started (an empty topic:
    ready at once)."""

    def __init__(self, state: ControlState, ends: Mapping[Any, int]) -> None:
        self.state = state
        self.ends = dict(ends)
        if all(v == 0 for v in self.ends.values()):
            state.ready.set()

    def apply(self, records: Iterable[Any]) -> int:
        """Apply each record (``key``, ``value``) in order; how many were read."""
        count = 0
        for record in records:
            self.state.apply_record(record.key, record.value)
            count += 1
        return count

    def caught_up(self, positions: Mapping[Any, int]) -> bool:
        """Whether ``positions`` reach the start's end offsets; sets the state ready when they do."""
        if not self.state.ready.is_set() and all(positions.get(tp, 0) >= end for tp, end in self.ends.items()):
            self.state.ready.set()
        return self.state.ready.is_set()


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
            await topic_metadata.refresh(consumer)  # topic may be created a moment later
            await asyncio.sleep(0.2)
        tps = [TopicPartition(CONTROL_TOPIC, p) for p in sorted(partitions or {0})]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        step = ControlStep(state, await consumer.end_offsets(tps))
        while True:
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                step.apply(records)
            if not state.ready.is_set():
                step.caught_up({tp: await consumer.position(tp) for tp in tps})
    finally:
        await consumer.stop()
