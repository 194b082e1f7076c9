"""The join's open batch: events whose rules have run but whose write commands the broker has not acknowledged.

Why: the tables may only record an event's writes once the broker holds its write commands (see
:mod:`agents.tablestore`). Waiting for that acknowledgement after every event costs one broker round trip
per event, and the worker spent most of its time waiting (py-spy: busy ~9 % at 397 events/s). So the join
keeps processing while records are waiting in its stream, and settles the batch when the stream runs dry,
when the batch is full, or when it is older than ``max_age_seconds``: it awaits every acknowledgement of
the batch at once, writes each partition's buffered table changes, then acknowledges the input events.

The invariants are those of the one-event version:

* a table never records a write command the broker does not hold (flush after the acknowledgements);
* an input offset is never committed before its event's table changes are written (Faust commits only
  acknowledged events, and they are acknowledged last; Faust also flushes its producer before a commit);
* each table change goes to the changelog partition of the event that caused it (Faust takes it from the
  *current event*; every event of one partition shares it, so a partition's buffer is flushed with its
  latest event made current).
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from faust.streams import _current_event  # Faust's "current event" (table writes read their partition from it)


class Flushable(Protocol):
    def flush(self) -> None: ...


DEFAULT_MAX_EVENTS = 256
DEFAULT_MAX_AGE_SECONDS = 0.05


@dataclass
class _PartitionPart:
    latest_event: Any
    views: Iterable[Flushable]


@dataclass
class JoinBatch:
    """Events processed since the last settle, in arrival order, with the sends they are waiting for."""

    max_events: int = DEFAULT_MAX_EVENTS
    max_age_seconds: float = DEFAULT_MAX_AGE_SECONDS
    events: list[Any] = field(default_factory=list)
    sends: list[Awaitable[Any]] = field(default_factory=list)
    partitions: dict[int, _PartitionPart] = field(default_factory=dict)
    opened_at: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def add(self, event: Any, views: Iterable[Flushable] | None = None,
            sends: Iterable[Awaitable[Any]] = ()) -> None:
        """Record a processed event: its pending sends and (when it used the tables) its partition's views."""
        if not self.events:
            self.opened_at = time.monotonic()
        self.events.append(event)
        self.sends.extend(sends)
        if views is not None:
            self.partitions[event.message.partition] = _PartitionPart(event, views)

    def due(self, more_waiting: bool) -> bool:
        """Whether to settle now: nothing else is waiting in the stream, the batch is full, or it is old."""
        return bool(self.events) and (not more_waiting or len(self.events) >= self.max_events or self.stale())

    def stale(self) -> bool:
        return bool(self.events) and time.monotonic() - self.opened_at >= self.max_age_seconds

    async def settle(self) -> int:
        """:meth:`settle_locked` under the batch lock (for a timer: the agent may be mid-event)."""
        async with self.lock:
            return await self.settle_locked()

    async def settle_locked(self) -> int:
        """Await the sends, write the table buffers, acknowledge the events; returns how many were settled.
        The caller holds :attr:`lock`, so no event can add to the buffers while the sends are awaited."""
        if not self.events:
            return 0
        for send in self.sends:
            await send
        for part in self.partitions.values():
            token = _current_event.set(weakref.ref(part.latest_event))
            try:
                for view in part.views:
                    view.flush()
            finally:
                _current_event.reset(token)
        events = self.events
        for event in events:
            event.ack()
        self.events, self.sends, self.partitions = [], [], {}
        return len(events)
