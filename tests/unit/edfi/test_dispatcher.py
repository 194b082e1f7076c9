"""EgressDispatcher: order within a record, bounded concurrency, safe commit positions, parking."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from streams.edfi.dispatcher import EgressDispatcher
from streams.edfi.sender import SendResult
from streams.errors import RetryableError
from streams.writes import WriteCommand
from tests.unit.edfi.commands_factory import command


class FakeSender:
    """Records the order of writes per key, with random latency, and scripted outcomes."""

    def __init__(self, seed: int = 1) -> None:
        self.rng = random.Random(seed)
        self.applied: dict[str, list[str]] = {}
        self.active = 0
        self.max_active = 0
        self.script: dict[str, list[Any]] = {}

    async def send(self, cmd: WriteCommand) -> SendResult:
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            await asyncio.sleep(self.rng.random() * 0.003)
            planned = self.script.get(cmd.reason)
            if planned:
                step = planned.pop(0)
                if isinstance(step, Exception):
                    raise step
                if step != "acked":
                    return SendResult(step)
            self.applied.setdefault(cmd.key, []).append(cmd.payload["scoreResults"][0]["result"])  # type: ignore[index]
            return SendResult("acked")
        finally:
            self.active -= 1


def numbered(student: int, n: int, reason: str = "test") -> WriteCommand:
    cmd = command("PUT", student=f"{student:08d}", result=str(n))
    return WriteCommand(cmd.action, cmd.natural_key, cmd.payload, reason)


async def test_order_per_record_and_bounded_concurrency() -> None:
    sender = FakeSender()
    dispatcher = EgressDispatcher(sender, max_in_flight=8)  # type: ignore[arg-type]
    rng = random.Random(2)
    expected: dict[str, list[str]] = {}
    for offset in range(500):
        student = rng.randint(1, 50)
        cmd = numbered(student, offset)
        expected.setdefault(cmd.key, []).append(str(offset))
        await dispatcher.submit(cmd, (offset % 3, offset))
    await dispatcher.drain()
    assert sender.applied == expected
    assert 1 < sender.max_active <= 8


async def test_committable_never_passes_an_unfinished_write() -> None:
    sender = FakeSender()
    gate = asyncio.Event()
    original = sender.send

    async def slow(cmd: WriteCommand) -> SendResult:
        if cmd.reason == "slow":
            await gate.wait()
        return await original(cmd)

    sender.send = slow  # type: ignore[method-assign]
    dispatcher = EgressDispatcher(sender, max_in_flight=4)  # type: ignore[arg-type]
    await dispatcher.submit(numbered(1, 1), (0, 10))
    await dispatcher.submit(numbered(2, 2, "slow"), (0, 11))
    await dispatcher.submit(numbered(3, 3), (0, 12))
    await asyncio.sleep(0.05)
    assert dispatcher.committable() == {0: 10}
    gate.set()
    await dispatcher.drain()
    assert dispatcher.committable() == {0: 12}


async def test_outage_retries_until_it_succeeds_and_keeps_order() -> None:
    sender = FakeSender()
    sender.script["down"] = [RetryableError("503"), RetryableError("503"), "acked"]
    from streams.edfi.retry import RetryPolicy

    dispatcher = EgressDispatcher(sender, max_in_flight=4,  # type: ignore[arg-type]
                                  outage_policy=RetryPolicy(1000, 0.001, 0.002))
    await dispatcher.submit(numbered(1, 1, "down"), (0, 0))
    await dispatcher.submit(numbered(1, 2), (0, 1))
    await dispatcher.drain()
    assert sender.applied["Math_00000001_2024"] == ["1", "2"]


async def test_parked_write_retries_then_dead_letters_after_the_horizon() -> None:
    sender = FakeSender()
    sender.script["wait"] = ["parked", "acked"]
    sender.script["never"] = ["parked"] * 100
    dead: list[WriteCommand] = []

    async def on_dead(cmd: WriteCommand, result: SendResult) -> None:
        dead.append(cmd)

    clock = [0.0]
    dispatcher = EgressDispatcher(sender, max_in_flight=2, park_horizon_seconds=10,  # type: ignore[arg-type]
                                  park_retry_seconds=0.01, on_dead_letter=on_dead, clock=lambda: clock[0])
    await dispatcher.submit(numbered(1, 1, "wait"), (0, 0))
    await dispatcher.submit(numbered(2, 2, "never"), (0, 1))
    await dispatcher.submit(numbered(2, 3), (0, 2))  # same record as the parked one: must wait behind it
    await asyncio.sleep(0.05)
    assert sender.applied.get("Math_00000001_2024") == ["1"]
    assert "Math_00000002_2024" not in sender.applied  # parked, and the later write waits behind it
    assert len(sender.script["never"]) <= 98  # retried while parked
    assert dispatcher.committable() == {0: 0}
    clock[0] = 11
    await dispatcher.drain()
    assert [c.reason for c in dead] == ["never"]
    assert sender.applied["Math_00000002_2024"] == ["3"]
    assert dispatcher.committable() == {0: 2}


async def test_in_flight_follows_the_adaptive_limit() -> None:
    from streams.edfi.concurrency import AdaptiveLimit

    sender = FakeSender()
    limit = AdaptiveLimit(4, 2, 6)
    dispatcher = EgressDispatcher(sender, limit=limit)  # type: ignore[arg-type]
    for offset in range(200):
        await dispatcher.submit(numbered(offset, offset), (0, offset))
        if offset == 100:
            for _ in range(200):  # the ODS's answers let the limit grow to its maximum
                limit.observe(200, 0.05)
    await dispatcher.drain()
    assert limit.current == 6
    assert 4 < sender.max_active <= 6
    assert len(sender.applied) == 200
