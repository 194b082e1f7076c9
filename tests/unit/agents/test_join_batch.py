"""The join's batch: table changes only after every send of the batch is acknowledged, each partition's
changes under an event of that partition, input events acknowledged last."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from faust.streams import current_event

from agents.join_batch import JoinBatch


@dataclass
class FakeMessage:
    partition: int
    offset: int


@dataclass
class FakeEvent:
    message: FakeMessage
    log: list[str]

    def ack(self) -> bool:
        self.log.append(f"ack {self.message.partition}:{self.message.offset}")
        return True


@dataclass
class RecordingView:
    name: str
    log: list[str]
    flushed_under: list[Any] = field(default_factory=list)

    def flush(self) -> None:
        event = current_event()
        self.flushed_under.append(event)
        self.log.append(f"flush {self.name}")


def test_settle_waits_for_every_send_then_flushes_under_the_partitions_latest_event_then_acks() -> None:
    async def scenario() -> None:
        log: list[str] = []
        loop = asyncio.get_running_loop()
        sends = [loop.create_future() for _ in range(3)]
        view0, view1 = RecordingView("p0", log), RecordingView("p1", log)
        e00, e01, e10 = (FakeEvent(FakeMessage(0, 0), log), FakeEvent(FakeMessage(0, 1), log),
                         FakeEvent(FakeMessage(1, 0), log))
        batch = JoinBatch()
        batch.add(e00, [view0], [sends[0]])
        batch.add(e10, [view1], [sends[1]])
        batch.add(e01, [view0], [sends[2]])
        settling = asyncio.ensure_future(batch.settle())
        for i, fut in enumerate(sends):
            await asyncio.sleep(0)
            assert log == [], "nothing is flushed or acknowledged before every send is acknowledged"
            fut.set_result(i)
        assert await settling == 3
        assert log == ["flush p0", "flush p1", "ack 0:0", "ack 1:0", "ack 0:1"]
        assert view0.flushed_under == [e01] and view1.flushed_under == [e10]
        assert current_event() is None
        assert await batch.settle() == 0

    asyncio.run(scenario())


def test_a_failed_send_flushes_and_acknowledges_nothing() -> None:
    async def scenario() -> None:
        log: list[str] = []
        failed = asyncio.get_running_loop().create_future()
        failed.set_exception(RuntimeError("broker down"))
        batch = JoinBatch()
        batch.add(FakeEvent(FakeMessage(0, 7), log), [RecordingView("p0", log)], [failed])
        try:
            await batch.settle()
        except RuntimeError:
            pass
        else:
            raise AssertionError("the send's failure must surface")
        assert log == []

    asyncio.run(scenario())


def test_events_without_table_use_are_acknowledged_without_a_flush() -> None:
    async def scenario() -> None:
        log: list[str] = []
        batch = JoinBatch()
        batch.add(FakeEvent(FakeMessage(2, 5), log))
        assert await batch.settle() == 1
        assert log == ["ack 2:5"]

    asyncio.run(scenario())
