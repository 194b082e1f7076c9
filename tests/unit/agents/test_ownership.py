"""The rebalance fence (agents/ownership.py) with the real dispatcher and egress step, without Faust: while a
rebalance is under way no write starts and the revocation waits for those on the wire; after it, the partitions
kept go on and those given away are never written nor acknowledged here."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from faust.types import TP

from agents.control import ControlState
from agents.deadletter import DeadLetters
from agents.egress_step import EgressStep
from agents.ownership import OwnershipFence, TopicFence, count_handed_over
from agents.topics import WRITE_COMMANDS
from agents.wire import Wire, command_to_record
from streams.edfi.dispatcher import EgressDispatcher, PartitionLost
from streams.edfi.sender import SendResult
from streams.observability import metrics
from streams.writes import WriteCommand
from tests.unit.edfi.commands_factory import command

WIRE = Wire("json")


class Sender:
    """Every send waits for ``release`` (set: at once); records what was sent, in order."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.on_wire = 0
        self.release = asyncio.Event()
        self.release.set()

    async def send(self, cmd: WriteCommand) -> SendResult:
        self.on_wire += 1
        try:
            await self.release.wait()
            self.sent.append(cmd.reason)
            return SendResult("acked")
        finally:
            self.on_wire -= 1


class Message:
    topic = WRITE_COMMANDS

    def __init__(self, value: bytes, partition: int, offset: int) -> None:
        self.key, self.value, self.partition, self.offset = b"k", value, partition, offset
        self.tp = TP(WRITE_COMMANDS, partition)
        self.refcount = 1

    def incref(self) -> None:
        self.refcount += 1


class Event:
    def __init__(self, cmd: WriteCommand, partition: int, offset: int) -> None:
        self.message = Message(WIRE.encode_value(WRITE_COMMANDS, command_to_record(cmd)) or b"", partition, offset)
        self.acked = 0

    def ack(self) -> None:
        self.acked += 1
        self.message.refcount -= 1


class Letters:
    async def send(self, key: bytes, value: bytes) -> Any:
        raise AssertionError("no dead letter expected")


def cmd(student: int, reason: str) -> WriteCommand:
    base = command("PUT", student=f"{student:08d}", result="1")
    return WriteCommand(base.action, base.natural_key, base.payload, reason)


def egress(fence: OwnershipFence, sender: Sender) -> tuple[EgressStep, EgressDispatcher]:
    topic_fence = TopicFence(fence, WRITE_COMMANDS, TP)
    dispatcher = EgressDispatcher(sender, max_in_flight=8, fence=topic_fence)  # type: ignore[arg-type]
    step = EgressStep(DeadLetters(Letters(), WIRE), ControlState(), dispatcher)
    topic_fence.on_lost(step.forget)
    return step, dispatcher


async def until(predicate: Any, seconds: float = 2.0) -> None:
    for _ in range(int(seconds / 0.005)):
        if predicate():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition not reached")


async def test_revocation_waits_for_the_writes_on_the_wire_and_starts_none() -> None:
    fence, sender = OwnershipFence(bound_seconds=5), Sender()
    fence.assigned({TP(WRITE_COMMANDS, 0), TP(WRITE_COMMANDS, 1)})
    step, dispatcher = egress(fence, sender)
    sender.release.clear()
    await step.take(Event(cmd(1, "on-the-wire"), 0, 10))
    await until(lambda: sender.on_wire == 1)
    revoking = asyncio.create_task(fence.revoked())
    await asyncio.sleep(0.05)
    assert not revoking.done()  # the rebalance waits for the write on the wire
    await step.take(Event(cmd(2, "after-revoke"), 1, 20))
    sender.release.set()
    assert await asyncio.wait_for(revoking, 1) is True
    await asyncio.sleep(0.05)
    assert sender.sent == ["on-the-wire"]  # nothing started while the rebalance is under way
    fence.assigned({TP(WRITE_COMMANDS, 0), TP(WRITE_COMMANDS, 1)})
    await dispatcher.drain()
    assert sender.sent == ["on-the-wire", "after-revoke"]


async def test_a_partition_given_away_is_neither_written_nor_acknowledged() -> None:
    fence, sender = OwnershipFence(bound_seconds=5), Sender()
    fence.assigned({TP(WRITE_COMMANDS, 0), TP(WRITE_COMMANDS, 1)})
    step, dispatcher = egress(fence, sender)
    await fence.revoked()
    kept = [Event(cmd(1, "kept-1"), 0, 5), Event(cmd(1, "kept-2"), 0, 6)]
    lost = [Event(cmd(2, "lost-1"), 1, 7), Event(cmd(3, "lost-2"), 1, 8)]
    for event in (kept[0], lost[0], kept[1], lost[1]):
        await step.take(event)
    assert fence.assigned({TP(WRITE_COMMANDS, 0)}) == {TP(WRITE_COMMANDS, 1)}
    late = Event(cmd(4, "late"), 1, 9)  # still in the egress's batch after the assignment
    await step.take(late)
    await dispatcher.drain()
    step.settle()
    assert sender.sent == ["kept-1", "kept-2"]
    assert all(e.acked == 1 for e in kept)
    assert all(e.message.refcount > 0 for e in (*lost, late))  # never acknowledged: the new owner's
    assert dispatcher.committable() == {0: 6}
    assert dispatcher.handed_over == 2


async def test_a_partition_regained_later_commits_again() -> None:
    fence, sender = OwnershipFence(bound_seconds=5), Sender()
    fence.assigned({TP(WRITE_COMMANDS, 1)})
    step, dispatcher = egress(fence, sender)
    await fence.revoked()
    await step.take(Event(cmd(2, "left"), 1, 40))
    fence.assigned(set())
    await dispatcher.drain()
    await fence.revoked()
    fence.assigned({TP(WRITE_COMMANDS, 1)})
    again = Event(cmd(2, "again"), 1, 30)  # read again from the committed offset
    await step.take(again)
    await dispatcher.drain()
    step.settle()
    assert sender.sent == ["again"]
    assert again.acked == 1 and dispatcher.committable() == {1: 30}  # no stale offset 40 holds it back


async def test_a_write_past_the_bound_is_not_recorded_when_its_partition_went_away() -> None:
    fence, sender = OwnershipFence(bound_seconds=0.05), Sender()
    fence.assigned({TP(WRITE_COMMANDS, 0)})
    results: list[str] = []
    topic_fence = TopicFence(fence, WRITE_COMMANDS, TP)
    dispatcher = EgressDispatcher(sender, on_result=lambda c, r: results.append(r.outcome),  # type: ignore[arg-type]
                                  fence=topic_fence)
    sender.release.clear()
    await dispatcher.submit(cmd(1, "slow"), (0, 3))
    await until(lambda: sender.on_wire == 1)
    assert await fence.revoked() is False  # the bound ended the wait
    fence.assigned(set())
    sender.release.set()
    await dispatcher.drain()
    assert sender.sent == ["slow"] and results == [] and dispatcher.handed_over == 1
    assert dispatcher.committable() == {0: 2}  # not acknowledged here


async def test_an_agent_batch_waits_for_the_assignment_and_keeps_its_partitions() -> None:
    fence = OwnershipFence(bound_seconds=5)
    fence.assigned({TP("scores", 0), TP("scores", 1)})
    await fence.revoked()
    events = [Event(cmd(1, "a"), 0, 1), Event(cmd(2, "b"), 1, 2)]
    for event, partition in zip(events, (0, 1), strict=True):
        event.message.tp = TP("scores", partition)
    seen: list[list[Any]] = []

    async def body() -> None:
        async with fence.batch(events) as kept:
            seen.append(kept)

    task = asyncio.create_task(body())
    await asyncio.sleep(0.05)
    assert not task.done() and fence.busy == 0  # waiting, not under way
    fence.assigned({TP("scores", 0)})
    await asyncio.wait_for(task, 1)
    assert seen == [[events[0]]]
    assert events[1].message.refcount == 2 and fence.events_left == 1  # left unacknowledged for good


async def test_revocation_waits_for_a_batch_under_way() -> None:
    fence = OwnershipFence(bound_seconds=5)
    fence.assigned({TP("scores", 0)})
    release = asyncio.Event()

    async def body() -> None:
        async with fence.batch([]):
            await release.wait()

    task = asyncio.create_task(body())
    await until(lambda: fence.busy == 1)
    revoking = asyncio.create_task(fence.revoked())
    await asyncio.sleep(0.05)
    assert not revoking.done()
    release.set()
    assert await asyncio.wait_for(revoking, 1) is True
    await task


async def test_sending_raises_before_the_send_for_a_partition_not_owned() -> None:
    fence = OwnershipFence()
    fence.assigned({TP(WRITE_COMMANDS, 0)})
    with pytest.raises(PartitionLost):
        async with fence.sending(TP(WRITE_COMMANDS, 1)):
            raise AssertionError("no send for a partition not owned")


def test_partitions_handed_over_are_counted_by_topic() -> None:
    with metrics.use_registry() as m:
        fence = OwnershipFence()
        fence.on_lost(count_handed_over)
        fence.assigned({TP(WRITE_COMMANDS, 0), TP(WRITE_COMMANDS, 1), TP("scores", 0), TP("scores", 1)})
        fence.assigned({TP(WRITE_COMMANDS, 0)})
        assert m.registry.get_sample_value("edfi_stream_partitions_handed_over_total",
                                           {"topic": WRITE_COMMANDS}) == 1
        assert m.registry.get_sample_value("edfi_stream_partitions_handed_over_total", {"topic": "scores"}) == 2
