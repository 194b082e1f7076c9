"""The egress's per-record step (agents/egress_step.py) without Faust: a command goes to the dispatcher and its
event stays unacknowledged until the dispatcher reports it committable, in offset order; a damaged record is a
dead letter, a tombstone is done with, a command of a resource turned off is dropped."""

from __future__ import annotations

import asyncio
from typing import Any

from agents.control import ControlState
from agents.deadletter import DeadLetters
from agents.egress_step import EgressStep
from agents.topics import DEAD_LETTERS, WRITE_COMMANDS
from agents.wire import Wire, command_to_record, decode_internal
from streams.writes import NaturalKey, WriteCommand

CMD = WriteCommand("POST", NaturalKey("A", "uri://x", "K_S7_2024", "S7"), {"b": [1]}, "new", 5, 3)
WIRE = Wire("json")


class Message:
    topic = WRITE_COMMANDS

    def __init__(self, value: bytes | None, partition: int, offset: int) -> None:
        self.key, self.value, self.partition, self.offset = b"K_S7_2024", value, partition, offset
        self.refs = 0

    def incref(self) -> None:
        self.refs += 1


class Event:
    def __init__(self, value: bytes | None, partition: int = 0, offset: int = 0) -> None:
        self.message = Message(value, partition, offset)
        self.acked = False

    def ack(self) -> None:
        self.acked = True


class Dispatcher:
    def __init__(self) -> None:
        self.submitted: list[tuple[WriteCommand, tuple[int, int]]] = []
        self.done: dict[int, int] = {}

    async def submit(self, cmd: WriteCommand, position: tuple[int, int]) -> None:
        self.submitted.append((cmd, position))

    def committable(self) -> dict[int, int]:
        return self.done

    def owns(self, partition: int) -> bool:
        return True

    def forget(self, partitions: set[int]) -> None:
        raise AssertionError("no rebalance here")


class Topic:
    def __init__(self) -> None:
        self.sent: list[bytes] = []

    async def send(self, key: bytes, value: bytes) -> asyncio.Future[Any]:
        self.sent.append(value)
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        fut.set_result("ok")
        return fut


def step() -> tuple[EgressStep, Dispatcher, Topic, ControlState]:
    dispatcher, topic, control = Dispatcher(), Topic(), ControlState()
    return EgressStep(DeadLetters(topic, WIRE), control, dispatcher), dispatcher, topic, control


def command(cmd: WriteCommand = CMD) -> bytes:
    return WIRE.encode_value(WRITE_COMMANDS, command_to_record(cmd)) or b""


async def test_an_event_waits_for_the_dispatcher_and_is_acked_in_offset_order() -> None:
    egress, dispatcher, topic, _ = step()
    events = [Event(command(), 0, 10), Event(command(), 0, 11), Event(command(), 1, 5)]
    for event in events:
        assert await egress.take(event) is True
    assert [pos for _, pos in dispatcher.submitted] == [(0, 10), (0, 11), (1, 5)]
    assert dispatcher.submitted[0][0] == CMD
    assert all(e.message.refs == 1 for e in events) and not any(e.acked for e in events)
    assert egress.settle() == 0
    dispatcher.done = {0: 10}
    assert egress.settle() == 1
    assert [e.acked for e in events] == [True, False, False]
    dispatcher.done = {0: 11, 1: 5}
    assert egress.settle() == 2 and all(e.acked for e in events) and len(egress.pending) == 0
    assert topic.sent == []


async def test_a_damaged_record_is_a_dead_letter_and_a_tombstone_is_done_with() -> None:
    egress, dispatcher, topic, _ = step()
    damaged, tombstone = Event(b'{"action": "POST"', 0, 1), Event(None, 0, 2)
    assert await egress.take(damaged) is False
    assert await egress.take(tombstone) is False
    assert dispatcher.submitted == [] and len(egress.pending) == 0
    assert damaged.message.refs == 0 and tombstone.message.refs == 0  # acknowledged with their batch
    (letter,) = [decode_internal(DEAD_LETTERS, v) or {} for v in topic.sent]
    assert (letter["stage"], letter["reason"], letter["offset"]) == ("egress", "bad_json", 1)


async def test_a_command_of_a_resource_turned_off_is_dropped() -> None:
    egress, dispatcher, topic, control = step()
    control.set("studentAssessments", False)
    assert await egress.command_of(Event(command()).message) is None
    control.set("studentAssessments", True)
    assert await egress.command_of(Event(command()).message) == CMD
    assert dispatcher.submitted == [] and topic.sent == []
