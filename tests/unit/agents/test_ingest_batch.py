"""The ingest's step over one batch (agents/ingest_batch.py): copies routed in order, the owner tables written
only after the broker acknowledged every copy of the batch (each write under the event that made it), poison
dead-lettered alone."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest
from faust.streams import current_event

from agents.ingest_batch import BufferedOwners, IngestBatch, Outgoing
from streams.errors import PoisonInput
from streams.sis.events import ChangeEvent, PriorOwner, parse_change
from streams.sis.owners import OwnerIndex
from streams.topics import TEST_SCORES


@dataclass
class FakeMessage:
    topic: str
    partition: int
    offset: int
    value: Any = None


class FakeEvent:  # weak-referenceable, as Faust's events are (the current event is a weak reference)
    def __init__(self, message: FakeMessage) -> None:
        self.message = message


class RecordingTable(dict[Any, Any]):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[tuple[Any, Any, Any]] = []  # (key, value, current event)

    def __setitem__(self, key: Any, value: Any) -> None:
        self.writes.append((key, value, current_event()))
        super().__setitem__(key, value)


def score(score_id: int, person: int) -> ChangeEvent:
    return parse_change(TEST_SCORES, {"scoreID": score_id}, {"op": "c", "after": {
        "scoreID": score_id, "personID": person, "testID": 1, "date": "2024-03-01", "scaleScore": 1}})


def moved(score_id: int, person: int) -> ChangeEvent:
    """An update with no before image (PostgreSQL's default replica identity): the owner index knows the old one."""
    return parse_change(TEST_SCORES, {"scoreID": score_id}, {"op": "u", "after": {
        "scoreID": score_id, "personID": person, "testID": 1, "date": "2024-03-01", "scaleScore": 2}})


class Harness:
    """An IngestBatch over an OwnerIndex on one buffered table; each message's value is a ChangeEvent (or an
    exception to raise); a copy is routed to every owner the event names (old and new), keyed by personID."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.table = RecordingTable()
        self.owners = BufferedOwners(self.table)
        self.index = OwnerIndex(self.owners)
        self.acks: list[asyncio.Future[Any]] = []
        self.letters: list[tuple[str, str]] = []
        self.counted: list[tuple[str, str]] = []
        self.step = IngestBatch(lambda topic: topic, self.route, self.send, self.letter, [self.owners],
                                lambda table, outcome: self.counted.append((table, outcome)))

    async def route(self, table: str, message: Any) -> Outgoing | None:
        if isinstance(message.value, Exception):
            raise message.value
        if message.value is None:
            return None
        change = self.index.resolve(message.value)
        people = {getattr(change.after, "person_id", 0)}
        if isinstance(change.before, PriorOwner):
            people.add(change.before.person_id)
        self.index.record(change)
        return [(str(p).encode(), f"{change.key}".encode(), p % 4) for p in sorted(people)]

    async def send(self, key: bytes, data: bytes, partition: int) -> asyncio.Future[Any]:
        self.log.append(f"send {key.decode()}")
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.acks.append(fut)
        return fut

    async def letter(self, table: str, exc: BaseException, message: Any) -> None:
        self.letters.append((table, type(exc).__name__))


def events(*values: Any, partition: int = 0) -> list[FakeEvent]:
    return [FakeEvent(FakeMessage(TEST_SCORES, partition, i, v)) for i, v in enumerate(values)]


def test_owner_tables_are_written_only_after_every_copy_is_acknowledged_under_their_event() -> None:
    async def scenario() -> None:
        h = Harness()
        batch = events(score(7, 1), score(8, 2), moved(7, 3))
        running = asyncio.ensure_future(h.step.run(batch))
        await asyncio.sleep(0)
        assert h.log == ["send 1", "send 2", "send 1", "send 3"], "the move reaches the student it left"
        for fut in h.acks:
            assert h.table.writes == [], "no owner recorded while a copy of the batch is unacknowledged"
            fut.set_result(None)
            await asyncio.sleep(0)
        counts = await running
        assert (counts.routed, counts.copies, counts.dead_letters) == (3, 4, 0)
        assert dict(h.table) == {"t:7": 3, "t:8": 2}
        # the last write of a key is the one kept, under the event that made it
        assert [(k, v, e) for k, v, e in h.table.writes] == [("t:7", 3, batch[2]), ("t:8", 2, batch[1])]
        assert current_event() is None and h.owners.pending == 0

    asyncio.run(scenario())


def test_a_later_batch_reads_what_an_earlier_one_recorded() -> None:
    async def scenario() -> None:
        h = Harness()

        async def run(batch: list[FakeEvent]) -> None:
            running = asyncio.ensure_future(h.step.run(batch))
            while not running.done():
                for fut in h.acks:
                    if not fut.done():
                        fut.set_result(None)
                await asyncio.sleep(0)

        await run(events(score(7, 1)))
        h.log.clear()
        await run(events(moved(7, 5)))
        assert h.log == ["send 1", "send 5"] and h.table["t:7"] == 5

    asyncio.run(scenario())


def test_a_refused_copy_records_no_owner_and_raises() -> None:
    async def scenario() -> None:
        h = Harness()
        running = asyncio.ensure_future(h.step.run(events(score(7, 1))))
        await asyncio.sleep(0)
        h.acks[0].set_exception(RuntimeError("broker refused the record"))
        with pytest.raises(RuntimeError):
            await running
        assert h.table.writes == [] and "t:7" not in h.table

    asyncio.run(scenario())


def test_poison_and_tombstones_are_counted_and_the_rest_of_the_batch_goes_on() -> None:
    async def scenario() -> None:
        h = Harness()
        batch = events(PoisonInput("bad_json", "x"), None, KeyError("boom"), score(9, 2))
        running = asyncio.ensure_future(h.step.run(batch))
        await asyncio.sleep(0)
        for fut in h.acks:
            fut.set_result(None)
        counts = await running
        assert h.letters == [(TEST_SCORES, "PoisonInput"), (TEST_SCORES, "KeyError")]
        assert [o for _, o in h.counted] == ["dead_letter", "ignored", "dead_letter", "ok"]
        assert (counts.routed, counts.ignored, counts.dead_letters) == (1, 1, 2)
        assert dict(h.table) == {"t:9": 2}

    asyncio.run(scenario())


def test_buffered_owners_read_through_and_never_delete() -> None:
    table = RecordingTable()
    dict.__setitem__(table, "t:1", 4)  # already in the table (not a write of this batch)
    owners = BufferedOwners(table)
    owners["t:2"] = 5
    assert owners["t:1"] == 4 and owners.get("t:2") == 5 and "t:2" in owners and owners.get("t:3") is None
    assert sorted(owners) == ["t:1", "t:2"] and len(owners) == 2 and "t:2" not in table
    with pytest.raises(TypeError):
        del owners["t:1"]
