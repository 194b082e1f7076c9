"""The join's open batch: events whose rules have run but whose write commands the broker has not acknowledged.

Why: the tables may only record an event's writes once the broker holds its write commands (see
:mod:`agents.tablestore`). Waiting for that acknowledgement after every event costs one broker round trip
per event, and the worker spent most of its time waiting (py-spy: busy ~9 % at 397 events/s). So the join
takes its events in batches (``stream.take_events``: ``worker.batchMaxEvents`` events, or what came within
``worker.batchMaxWaitMs``), applies them all, evaluates each student they touched once, and settles the
batch: it awaits every acknowledgement of the batch at once, writes each partition's buffered table
changes, then acknowledges the input events.

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
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from agents.fixups.current_event import as_current_event  # table writes read their partition from it
from streams.rules.batch import PendingEvaluations


class Flushable(Protocol):
    def flush(self) -> None: ...


@dataclass
class _PartitionPart:
    latest_event: Any
    views: Iterable[Flushable]


@dataclass
class JoinBatch:
    """Events processed since the last settle, in arrival order, with the sends they are waiting for."""

    events: list[Any] = field(default_factory=list)
    sends: list[Awaitable[Any]] = field(default_factory=list)
    partitions: dict[int, _PartitionPart] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def add(self, event: Any, views: Iterable[Flushable] | None = None,
            sends: Iterable[Awaitable[Any]] = ()) -> None:
        """Record a processed event: its pending sends and (when it used the tables) its partition's views."""
        self.events.append(event)
        self.sends.extend(sends)
        if views is not None:
            self.partitions[event.message.partition] = _PartitionPart(event, views)

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
            with as_current_event(part.latest_event):
                for view in part.views:
                    view.flush()
        events = self.events
        for event in events:
            event.ack()
        self.events, self.sends, self.partitions = [], [], {}
        return len(events)


@dataclass
class OpenPartition:
    """One partition's part of a batch being applied: the events applied to its state (in order), the
    students to evaluate, and the views' buffers as they were before the batch (to take it back)."""

    engine: Any
    views: list[Any]
    marks: list[Any]
    applied: list[tuple[Any, Any, int | None]] = field(default_factory=list)  # (event, change, only person)
    pending: PendingEvaluations = field(default_factory=PendingEvaluations)
    growth: list[tuple[int, int]] = field(default_factory=list)  # (person, bytes) counted by the budget

    def add(self, event: Any, change: Any, only: int | None, pending: PendingEvaluations,
            growth: Iterable[tuple[int, int]]) -> None:
        self.applied.append((event, change, only))
        self.pending.merge(pending)
        self.growth.extend(growth)

    def take_back(self, budget: Any) -> None:
        """Undo the partition's whole batch: buffers, budget, the engine's caches."""
        for view, mark in zip(self.views, self.marks, strict=True):
            view.restore(mark)
        for person, grows in self.growth:
            budget.add(person, -grows)
        self.engine.reset_index()
        self.engine.scope.forget()
