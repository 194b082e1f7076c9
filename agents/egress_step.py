"""The egress's per-record step, without Faust: a write-command record in, a command for the dispatcher out.

:class:`EgressStep` decodes the record (a damaged one is a dead letter and the agent goes on), drops the
commands of a resource turned off, hands the others to the dispatcher holding one reference to their event,
and gives the references back in offset order once the dispatcher reports them committable
(:class:`PendingAcks`), so an input offset is never committed before the ODS answered its write.
agents/egress.py wires it to the Faust agent; tests/unit/agents/test_egress_step.py drives it with plain
objects.
"""

from __future__ import annotations

import collections
from typing import Any, Protocol

from agents.control import ControlState
from agents.deadletter import DeadLetters
from agents.topics import WRITE_COMMANDS
from agents.wire import command_from_record, decode_internal
from streams.errors import PoisonInput
from streams.observability import metrics
from streams.writes import WriteCommand


class Dispatcher(Protocol):
    """What the step needs of :class:`streams.edfi.dispatcher.EgressDispatcher`."""

    async def submit(self, cmd: WriteCommand, position: tuple[int, int]) -> None: ...

    def committable(self) -> dict[int, int]: ...

    def owns(self, partition: int) -> bool: ...

    def forget(self, partitions: set[int]) -> None: ...


class PendingAcks:
    """Input events waiting for the dispatcher to finish their writes, acked in offset order."""

    def __init__(self) -> None:
        self._pending: dict[int, collections.deque[tuple[int, Any]]] = collections.defaultdict(
            collections.deque)

    def add(self, partition: int, offset: int, event: Any) -> None:
        self._pending[partition].append((offset, event))

    def ack_upto(self, committable: dict[int, int]) -> int:
        done = 0
        for partition, upto in committable.items():
            queue = self._pending.get(partition)
            while queue and queue[0][0] <= upto:
                _, event = queue.popleft()
                event.ack()
                done += 1
        return done

    def forget(self, partitions: set[int]) -> int:
        """Drop the events of partitions given away, unacknowledged (their new owner reads them again); how
        many."""
        return sum(len(self._pending.pop(partition, ())) for partition in partitions)

    def __len__(self) -> int:
        return sum(len(q) for q in self._pending.values())


class EgressStep:
    """One write-command event at a time (:meth:`take`), then :meth:`settle` after each batch."""

    def __init__(self, letters: DeadLetters, control: ControlState, dispatcher: Dispatcher) -> None:
        self.letters = letters
        self.control = control
        self.dispatcher = dispatcher
        self.pending = PendingAcks()

    async def command_of(self, message: Any) -> WriteCommand | None:
        """The message's write command, or None when it is done with already (a tombstone, a dead letter,
        a command of a resource turned off)."""
        try:
            record = decode_internal(WRITE_COMMANDS, message.value)
            if record is None:
                return None
            cmd = command_from_record(record)
        except PoisonInput as exc:
            await self.letters.publish(*self.letters.poison_letter("egress", exc, message))
            return None
        except Exception as exc:  # whatever else: a dead letter, and the agent goes on
            await self.letters.publish(*self.letters.error_letter("egress", exc, message))
            return None
        if not self.control.enabled(cmd.resource):
            metrics.record_decision("toggled_off")
            return None
        return cmd

    async def take(self, event: Any) -> bool:
        """Hand the event's command to the dispatcher; True when it did (the event then waits in
        :attr:`pending`), False when the event is done with and is acknowledged with its batch.

        Faust acknowledges a batch's events once the agent asks for the next batch; a command's event must
        stay unacknowledged until the ODS answered it, so it holds one more reference (``incref``, Faust's
        own reference count of a message) that :class:`PendingAcks` gives back when it is committable."""
        message = event.message
        if not self.dispatcher.owns(message.partition):
            message.incref()  # given away by a rebalance: never acknowledged here (agents/ownership.py)
            return True
        cmd = await self.command_of(message)
        if cmd is None:
            return False
        message.incref()
        self.pending.add(message.partition, message.offset, event)
        await self.dispatcher.submit(cmd, (message.partition, message.offset))
        return True

    def forget(self, partitions: set[int]) -> None:
        """A rebalance gave ``partitions`` away: their waiting events and offsets are dropped, never
        acknowledged (agents/ownership.py)."""
        self.pending.forget(partitions)
        self.dispatcher.forget(partitions)

    def settle(self) -> int:
        """Acknowledge the events whose writes the dispatcher reports committable; how many."""
        return self.pending.ack_upto(self.dispatcher.committable())
