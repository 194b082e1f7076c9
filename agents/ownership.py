"""Partition ownership across a rebalance: a partition's records are worked on by one worker at a time.

The worker runs Faust with ``stream_wait_empty`` off (the egress holds a command's event until the ODS answered
it, which can take as long as a park horizon), so Faust's rebalance does not wait for the agents. Without a
fence, a worker whose partition was given away went on with the batch it had in hand and with its queued,
parked or backing-off writes while the new owner repeated the same records from the committed offset: two
workers wrote one record, and an older body could land after a newer one (docs/faults.md, "Rebalance fence").

:class:`OwnershipFence` closes that window, with Faust's public rebalance signals only
(:func:`attach_fence`):

1. **Revoked** (``app.on_partitions_revoked``, awaited by the consumer before it rejoins the group, so before
   any other worker is given a partition): the fence closes. No agent starts a batch and the egress sends no
   write; the batches under way and the writes on the wire get up to ``bound_seconds``
   (``edfi.drainTimeoutSeconds``) to finish, then the producer is flushed (the tables' changelogs and the
   commands they sent are in the broker before the new owner reads them).
2. **Assigned** (``app.on_partitions_assigned``): the fence opens. Partitions kept go on where they were (Faust
   reads them again from the committed offset; a repeat is an idempotent upsert). Partitions given away are
   dropped: their events are never acknowledged (their offsets stay for the new owner) and the writes held
   for them end without a send (:class:`streams.edfi.dispatcher.PartitionLost`).

An event is never acknowledged after its partition was lost: Faust forgets a revoked partition's
acknowledgements, but one made later would be committed the next time the partition comes back, past
records nobody wrote.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

from streams.edfi.dispatcher import PartitionLost
from streams.observability import metrics

log = logging.getLogger(__name__)

LostHook = Callable[[set[Any]], None]


class OwnershipFence:
    """Which partitions this worker owns, closed while a rebalance is under way. Partitions are Faust
    ``TP`` values (any hashable with ``topic`` and ``partition``)."""

    def __init__(self, bound_seconds: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.bound_seconds = bound_seconds
        self._clock = clock
        self._open = asyncio.Event()
        self._open.set()
        self._owned: set[Any] | None = None  # None until the first assignment: nothing to fence yet
        self._busy = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._on_lost: list[LostHook] = []  # the hand-overs are counted by one of them (count_handed_over)
        self.events_left = 0  # events of partitions given away, left unacknowledged for their new owner

    @property
    def busy(self) -> int:
        return self._busy

    def owns(self, tp: Any) -> bool:
        return self._owned is None or tp in self._owned

    def on_lost(self, hook: LostHook) -> None:
        """``hook(lost)`` at each assignment that took partitions away (before the fence opens)."""
        self._on_lost.append(hook)

    @asynccontextmanager
    async def batch(self, events: Iterable[Any]) -> AsyncIterator[list[Any]]:
        """``async with fence.batch(events) as kept:`` an agent's batch body. Waits while the fence is
        closed; ``kept`` is the events of partitions owned, the others are left unacknowledged for their new
        owner; the body counts as under way until it ends."""
        await self._open.wait()
        kept: list[Any] = []
        for event in events:
            if self.owns(event.message.tp):
                kept.append(event)
            else:
                self.leave(event)
        async with self._working():
            yield kept

    @asynccontextmanager
    async def sending(self, tp: Any) -> AsyncIterator[None]:
        """Around one write to the API for a record of partition ``tp``: waits while the fence is closed,
        raises :class:`PartitionLost` before the send when ``tp`` was given away, and after it when ``tp`` was
        given away while the write was on the wire (past the bound: its effect is the new owner's to repeat)."""
        await self._open.wait()
        if not self.owns(tp):
            raise PartitionLost(tp)
        async with self._working():
            yield
        if not self.owns(tp):
            raise PartitionLost(tp)

    def leave(self, event: Any) -> None:
        """Keep ``event`` unacknowledged for good: one more reference on its message (Faust's own count,
        ``Message.incref``) that is never given back."""
        event.message.incref()
        self.events_left += 1

    @asynccontextmanager
    async def _working(self) -> AsyncIterator[None]:
        self._busy += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._busy -= 1
            if self._busy == 0:
                self._idle.set()

    async def revoked(self) -> bool:
        """Close the fence and wait (at most ``bound_seconds``) for the batches and writes under way; True
        when they all finished."""
        self._open.clear()
        if self._busy == 0:
            return True
        started = self._clock()
        try:
            await asyncio.wait_for(self._idle.wait(), self.bound_seconds)
        except TimeoutError:
            log.warning("rebalance: %d batches or writes still under way after %.0f s; the worker rejoins the "
                        "group without them (a record they finish may be written twice)", self._busy,
                        self.bound_seconds)
            return False
        log.info("rebalance: the batches and writes under way finished in %.1f s", self._clock() - started)
        return True

    def assigned(self, assigned: Iterable[Any]) -> set[Any]:
        """Open the fence on the new assignment; the partitions given away (their hooks have run)."""
        now = set(assigned)
        lost = set() if self._owned is None else self._owned - now
        self._owned = now
        if lost:
            log.info("rebalance: %d partitions handed over to other workers; their records are left to them",
                     len(lost))
            for hook in self._on_lost:
                hook(lost)
        self._open.set()
        return lost


class TopicFence:
    """The fence of one topic's partitions, by partition number (what the Ed-Fi dispatcher knows)."""

    def __init__(self, fence: OwnershipFence, topic: str, tp: Callable[[str, int], Any]) -> None:
        self._fence = fence
        self._topic = topic
        self._tp = tp

    def owns(self, partition: int) -> bool:
        return self._fence.owns(self._tp(self._topic, partition))

    def sending(self, partition: int) -> Any:
        return self._fence.sending(self._tp(self._topic, partition))

    def on_lost(self, hook: Callable[[set[int]], None]) -> None:
        """``hook(partitions)`` with this topic's partitions given away at an assignment."""
        def lost_here(lost: set[Any]) -> None:
            mine = {tp.partition for tp in lost if tp.topic == self._topic}
            if mine:
                hook(mine)
        self._fence.on_lost(lost_here)


def count_handed_over(lost: set[Any]) -> None:
    """``edfi_stream_partitions_handed_over_total{topic}`` for the partitions given away at an assignment."""
    for topic, count in Counter(tp.topic for tp in lost).items():
        metrics.record_partitions_handed_over(topic, count)


def attach_fence(app: Any, fence: OwnershipFence) -> None:
    """Drive ``fence`` by Faust's public rebalance signals (awaited inside the rebalance); count hand-overs."""
    fence.on_lost(count_handed_over)

    @app.on_partitions_revoked.connect  # type: ignore[untyped-decorator]
    async def close_fence(sender: Any, revoked: set[Any], **kwargs: Any) -> None:
        await fence.revoked()
        await app.producer.flush()  # what the batches and writes under way produced, before anyone rejoins

    @app.on_partitions_assigned.connect  # type: ignore[untyped-decorator]
    async def open_fence(sender: Any, assigned: set[Any], **kwargs: Any) -> None:
        fence.assigned(assigned)
