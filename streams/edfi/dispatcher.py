"""Ordered, bounded, crash-safe dispatch of write commands (pure asyncio; the egress agent wraps it).

* Order within a record: commands for one studentAssessmentIdentifier run one after another (a chain per
  key); different keys run concurrently, at most ``limit.current`` at a time (an adaptive limit,
  :mod:`streams.edfi.concurrency`, or a fixed ``max_in_flight``). ``submit`` waits for a free slot: that is
  the backpressure that pauses consumption instead of piling up work.
* Parking: a 409 unresolved reference (the student is not in the ODS yet) is retried every
  ``park_retry_seconds`` until ``park_horizon_seconds``, then dead-lettered. A parked write gives its slot
  back while it waits but still blocks later writes of the same record, so order holds.
* The API being down never loses or reorders a write: a retryable failure that outlives the client's
  retries keeps the chain blocked and is retried with backoff until it succeeds.
* Credentials refused, or every write forbidden: the :class:`streams.edfi.auth_pause.AuthGate` pauses; the
  writes wait (slot given back, chain blocked) instead of being dead-lettered, and resume together.
* Rebalance: with a :class:`SendFence` (agents/ownership.py) every send waits while the worker's partitions
  are being reassigned, and the writes of a partition given away end without a send (:class:`PartitionLost`;
  the new owner repeats them from the committed offset); :meth:`forget` drops that partition's offsets.
* :meth:`committable` gives, per partition, the highest offset such that every command at or below it is
  acknowledged, unchanged or dead-lettered: a crash at any moment loses nothing, and a replay is an
  idempotent upsert.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from typing import Any, Protocol

from streams.edfi.auth_pause import AuthGate, PauseReason
from streams.edfi.concurrency import AdaptiveLimit, SlotGate
from streams.edfi.retry import RetryPolicy
from streams.edfi.sender import SendResult, WriteSender
from streams.errors import RetryableError
from streams.writes import WriteCommand

AUTH_OUTCOMES = frozenset({"credentials_refused", "unauthorized", "forbidden", "forbidden_record"})
DeadLetterHook = Callable[[WriteCommand, SendResult], Awaitable[None]]
ResultHook = Callable[[WriteCommand, SendResult], None]

log = logging.getLogger(__name__)


class PartitionLost(Exception):
    """The write's input partition was given to another worker by a rebalance: the write ends unsent (or, on
    the wire when it happened, unrecorded) and its offset is never acknowledged here; the new owner repeats it
    from the committed offset. Control flow, not an error: never dead-lettered."""


class SendFence(Protocol):
    """What the dispatcher needs of the worker's partition ownership (agents/ownership.py: TopicFence)."""

    def owns(self, partition: int) -> bool: ...

    def sending(self, partition: int) -> AbstractAsyncContextManager[None]: ...



class EgressDispatcher:
    def __init__(self, sender: WriteSender, max_in_flight: int = 16, park_horizon_seconds: float = 3600.0,
                 park_retry_seconds: float = 30.0, on_dead_letter: DeadLetterHook | None = None,
                 on_result: ResultHook | None = None, clock: Callable[[], float] = time.monotonic,
                 outage_policy: RetryPolicy | None = None, limit: AdaptiveLimit | None = None,
                 gate: AuthGate | None = None, fence: SendFence | None = None) -> None:
        self.sender = sender
        self.fence = fence
        self.limit = limit or AdaptiveLimit(max_in_flight, max_in_flight, max_in_flight)
        self.park_horizon = park_horizon_seconds
        self.park_retry = park_retry_seconds
        self._on_dead_letter = on_dead_letter
        self._on_result = on_result or (lambda cmd, result: None)
        self._clock = clock
        self._outage = outage_policy or RetryPolicy(max_retries=1_000_000, base_seconds=0.5, max_seconds=30.0)
        self.gate = gate or AuthGate()
        self._slots = SlotGate(lambda: self.limit.current)
        self._chains: dict[str, asyncio.Task[None]] = {}
        self._pending: dict[int, set[int]] = {}
        self._seen: dict[int, int] = {}
        self.in_flight = 0
        self.parked_count = 0
        self.results: dict[str, int] = {}
        self.handed_over = 0  # writes left to another worker by a rebalance (PartitionLost)

    def owns(self, partition: int) -> bool:
        """Whether this worker owns the input partition (always, without a fence)."""
        return self.fence is None or self.fence.owns(partition)

    def forget(self, partitions: set[int]) -> None:
        """Drop the offsets of partitions given away (their writes end with :class:`PartitionLost`)."""
        for partition in partitions:
            self._pending.pop(partition, None)
            self._seen.pop(partition, None)

    async def submit(self, cmd: WriteCommand, position: tuple[int, int]) -> None:
        await self._slots.acquire()
        partition, offset = position
        self._pending.setdefault(partition, set()).add(offset)
        self._seen[partition] = max(self._seen.get(partition, -1), offset)
        previous = self._chains.get(cmd.key)
        self.in_flight += 1
        task = asyncio.create_task(self._run(cmd, position, previous))
        self._chains[cmd.key] = task

    async def _run(self, cmd: WriteCommand, position: tuple[int, int], previous: asyncio.Task[None] | None
                   ) -> None:
        holding = True
        unfinished = False
        try:
            if previous is not None:
                await asyncio.gather(previous, return_exceptions=True)
            result, holding = await self._deliver(cmd, position[0])
            self.results[result.outcome] = self.results.get(result.outcome, 0) + 1
            self._on_result(cmd, result)
        except PartitionLost as lost:
            unfinished = True  # the new owner repeats it; its offset is not ours to acknowledge
            holding = False  # _deliver gave its slot back
            self.handed_over += 1
            log.debug("a %s of partition %s left to its new owner", cmd.action, lost)
        except asyncio.CancelledError:
            unfinished = True  # cut off (shutdown): not done, so its offset must never become committable
            raise
        finally:
            self.in_flight -= 1
            if not unfinished:
                self._pending.get(position[0], set()).discard(position[1])
            if holding:
                self._slots.release()
            if self._chains.get(cmd.key) is asyncio.current_task():
                del self._chains[cmd.key]

    async def _deliver(self, cmd: WriteCommand, partition: int) -> tuple[SendResult, bool]:
        """Send until the command is acknowledged or dead-lettered; returns (result, holds a slot). Raises
        :class:`PartitionLost` (its slot given back) when a rebalance gave the partition away."""
        first_parked: float | None = None
        outage_attempt = 0
        holding = True
        while True:
            if self.gate.paused:
                if holding:
                    self._slots.release()
                    holding = False
                await self.gate.wait_turn()
            if not holding:
                await self._slots.acquire()
                holding = True
            successes_before = self.gate.successes
            try:
                async with self.fence.sending(partition) if self.fence is not None else nullcontext():
                    result = await self.sender.send(cmd)
            except PartitionLost:
                if holding:
                    self._slots.release()
                raise
            except RetryableError as exc:
                outage_attempt += 1
                await asyncio.sleep(self._outage.delay(outage_attempt, exc.retry_after))
                continue
            except Exception:
                # Not an Ed-Fi answer but a failure of ours around the send (e.g. recording the identity
                # map). Finishing the command here would make its offset committable with its effect
                # unrecorded, or lost if the request never went out; the upsert is idempotent, so retry.
                log.exception("unexpected error around a %s; the command is retried", cmd.action)
                outage_attempt += 1
                await asyncio.sleep(self._outage.delay(outage_attempt))
                continue
            if result.outcome in AUTH_OUTCOMES:
                if holding:
                    self._slots.release()  # a held write gives its slot back, as a parked one does
                    holding = False
                if await self._held_for_auth(cmd, result, successes_before):
                    continue
                result.outcome = "dead_letter"  # a 403 for this record only
            elif result.outcome != "dead_letter":
                self.gate.record_success()
            if result.outcome == "parked":
                now = self._clock()
                first_parked = first_parked if first_parked is not None else now
                if now - first_parked >= self.park_horizon:
                    result.outcome = "dead_letter"
                else:
                    self._slots.release()
                    holding = False
                    self.parked_count += 1
                    try:
                        await asyncio.sleep(self.park_retry)
                    finally:
                        self.parked_count -= 1
                    continue
            if result.outcome == "dead_letter" and self._on_dead_letter is not None:
                await self._on_dead_letter(cmd, result)
            return result, holding

    async def _held_for_auth(self, cmd: WriteCommand, result: SendResult, successes_before: int) -> bool:
        """An authentication or authorization answer: True to hold the write and send it again once the gate
        lets it (paused), False for a 403 that concerns this record only (dead-lettered)."""
        detail = result.error.summary() if result.error else ""
        if result.outcome == "forbidden_record":
            self.gate.record_forbidden(cmd.key, detail)
            if not self.gate.paused:
                return await self.gate.judge_forbidden(successes_before) == "paused"
            return True
        reason: PauseReason = "forbidden" if result.outcome == "forbidden" else (
            "credentials_refused" if result.outcome == "credentials_refused" else "unauthorized")
        self.gate.pause(reason, detail)
        return True

    def committable(self) -> dict[int, int]:
        out = {}
        for partition, seen in self._seen.items():
            pending = self._pending.get(partition)
            out[partition] = (min(pending) - 1) if pending else seen
        return out

    async def drain(self) -> None:
        while self._chains:
            await asyncio.gather(*list(self._chains.values()), return_exceptions=True)

    def snapshot(self) -> dict[str, Any]:
        return {"in_flight": self.in_flight, "parked": self.parked_count, "results": dict(self.results)}
