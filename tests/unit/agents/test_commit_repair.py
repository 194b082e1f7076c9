"""Which partitions the commit repair reads again: only a hole Faust cannot commit past (two or more
offsets after the committed one never acknowledged), not in flight, unchanged for the hold time."""

from __future__ import annotations

from typing import Any, NamedTuple

from agents.commit_repair import HoleWatch, PartitionAcks, hole


class TP(NamedTuple):
    """A topic partition as aiokafka's (a named tuple)."""

    topic: str
    partition: int


def test_what_is_a_hole() -> None:
    assert hole(PartitionAcks(6, 147, range(11, 148))) == (6, 10)  # the fault test's stall: 6-10 skipped
    assert hole(PartitionAcks(6, 147, range(6, 148))) is None  # contiguous: commits go on
    assert hole(PartitionAcks(6, 147, range(7, 148))) == (6, 6)  # one missing record: a hole too (head_gap)
    assert hole(PartitionAcks(6, 147, range(11, 148), in_flight=[8])) is None  # still being processed
    assert hole(PartitionAcks(None, 19, range(11, 20))) is None  # never committed: no known start


def test_a_partition_with_nothing_acknowledged_and_nothing_queued_is_a_hole() -> None:
    assert hole(PartitionAcks(2, None, position=4)) == (2, 3)  # all its records went in the dropped fetch
    assert hole(PartitionAcks(None, None, position=2)) == (0, 1)  # never committed: read again from the start
    assert hole(PartitionAcks(4, None, position=4)) is None  # everything committed
    # right after a seek to its end Faust's read offset is the offset sought to, not a record read
    assert hole(PartitionAcks(2, 2, position=2)) is None
    assert hole(PartitionAcks(2, None)) is None  # no position known yet
    assert hole(PartitionAcks(1, 3, position=4)) == (1, 3)  # read, dropped, and nothing waits in a buffer
    assert hole(PartitionAcks(1, 3, position=4, queued=True)) is None  # a buffer holds records: may be these
    assert hole(PartitionAcks(2, None, position=4, in_flight=[2])) is None  # being processed


def test_records_only_on_the_broker_are_not_a_hole() -> None:
    """The fifth round's 20,000-student run, watched without repairing: every look that found a "hole" saw
    a partition with everything read committed, nothing acknowledged since, and records on the broker the
    client had not fetched yet (write-commands/2: committed 643, read 642, 1,900 records behind). A minute
    later the same partition was at 1,710 by itself."""
    assert hole(PartitionAcks(643, 642, position=643)) is None
    assert hole(PartitionAcks(None, None, position=None)) is None


def test_a_hole_is_due_after_the_hold_time_and_only_while_unchanged() -> None:
    now = [0.0]
    watch = HoleWatch(hold_seconds=15, clock=lambda: now[0])
    stuck = {"a": PartitionAcks(6, 147, range(11, 148)), "b": PartitionAcks(0, 9, range(0, 10))}
    assert watch.due(stuck) == {}
    now[0] = 10
    assert watch.due(stuck) == {}
    now[0] = 15
    assert watch.due(stuck) == {"a": (6, 10)}
    now[0] = 16  # reported once; seen again it waits a full hold time
    assert watch.due(stuck) == {}
    moved = {"a": PartitionAcks(8, 147, range(11, 148))}  # commits moved: a new hole, a new wait
    now[0] = 25
    assert watch.due(moved) == {}
    now[0] = 39
    assert watch.due(moved) == {}
    now[0] = 40
    assert watch.due(moved) == {"a": (8, 10)}


def test_only_partitions_that_agents_acknowledge_are_read() -> None:
    from types import SimpleNamespace

    from agents.commit_repair import partition_acks

    tp = TP
    inputs, changelog = tp("sis.tests", 0), tp("edfi-stream-students-changelog", 0)
    consumer = SimpleNamespace(
        assignment=lambda: {inputs, changelog}, _committed_offset={inputs: 2}, _read_offset={},
        _acked={}, _unacked_messages=[])
    found = partition_acks(consumer, lambda topic: not topic.endswith("-changelog"), positions={inputs: 4})
    assert list(found) == [inputs]
    assert hole(found[inputs]) == (2, 3)


def test_queued_topics_reads_the_stream_buffers_of_the_conductor() -> None:
    import asyncio
    from types import SimpleNamespace

    from agents.commit_repair import queued_anywhere, queued_topics

    waiting: asyncio.Queue[int] = asyncio.Queue()
    waiting.put_nowait(1)
    conductor = SimpleNamespace(_topic_name_index={
        "sis.tests": [SimpleNamespace(_queue=asyncio.Queue()), SimpleNamespace(_queue=None)],
        "sis.students": [SimpleNamespace(_queue=waiting)]})
    queued = queued_topics(conductor)
    assert queued("sis.students") and not queued("sis.tests") and not queued("sis.staff")
    anywhere = queued_anywhere(conductor)
    assert anywhere("sis.tests") and anywhere("sis.staff")  # one full buffer blocks the one fetch loop
    waiting.get_nowait()
    assert not anywhere("sis.students")


class _Consumer:
    """What repair_once reads of a Faust consumer, and the seeks it asks for."""

    def __init__(self, tp: object) -> None:
        self.tp = tp
        self._committed_offset = {tp: 6}
        self._read_offset = {tp: 147}
        self._acked = {tp: list(range(11, 148))}
        self._unacked_messages: list[object] = []
        self._commit_fut: object | None = None
        self.seeks: list[dict[object, int]] = []
        self.calls: list[str] = []
        self.paused: set[object] = set()

    def pause_partitions(self, tps: list[object]) -> None:
        self.calls.append("pause")
        self.paused.update(tps)

    def resume_partitions(self, tps: list[object]) -> None:
        self.calls.append("resume")
        self.paused.difference_update(tps)

    def assignment(self) -> set[object]:
        return {self.tp}

    async def position(self, tp: object) -> int:
        self.calls.append("position")
        return 148

    async def seek_wait(self, partitions: dict[object, int]) -> None:
        assert set(partitions) <= self.paused, "seek only while the partitions are paused"
        self.calls.append("seek")
        self.seeks.append(dict(partitions))


async def _settled(consumer: object, tps: object) -> None:
    consumer.calls.append("settled")  # type: ignore[attr-defined]


async def test_a_hole_is_read_again_through_seek_wait_and_counted() -> None:

    from agents.commit_repair import repair_once

    tp = TP("sis.tests", 0)
    consumer, now, repaired = _Consumer(tp), [0.0], list[Any]()
    watch = HoleWatch(hold_seconds=15, clock=lambda: now[0])
    assert await repair_once(consumer, watch, lambda t: True, lambda t: False, repaired.append, settle=_settled) == {}
    now[0] = 15
    assert await repair_once(consumer, watch, lambda t: True, lambda t: False, repaired.append,
                             settle=_settled) == {tp: (6, 10)}
    assert consumer.seeks == [{tp: 6}] and repaired == ["sis.tests"]
    # paused, the records in hand finished, sought, resumed: never a seek under a batch being delivered
    assert consumer.calls == ["pause", "settled", "seek", "resume"] and not consumer.paused


async def test_nothing_acknowledged_is_judged_by_the_client_s_position() -> None:
    """A partition with nothing acknowledged since its commit is a hole only if the client handed records
    past the commit to the fetch loop; records only on the broker are not fetched yet."""

    from agents.commit_repair import repair_once

    tp = TP("edfi-stream.write-commands", 2)
    consumer, now = _Consumer(tp), [0.0]
    consumer._committed_offset, consumer._read_offset, consumer._acked = {tp: 643}, {tp: 642}, {tp: []}
    position = [643]  # 1,900 records on the broker, none fetched yet

    async def positions(c: object, tps: object) -> dict[object, int]:
        return {t: position[0] for t in tps}  # type: ignore[attr-defined]

    watch = HoleWatch(hold_seconds=15, clock=lambda: now[0])
    for now[0] in (0.0, 15.0, 30.0):
        assert await repair_once(consumer, watch, lambda t: True, lambda t: False, lambda t: None,
                                 settle=_settled, positions=positions) == {}
    position[0] = 700  # handed out 643-699, and none of them ever reached a stream: dropped
    assert await repair_once(consumer, watch, lambda t: True, lambda t: False, lambda t: None,
                             settle=_settled, positions=positions) == {}
    now[0] = 45.0
    assert await repair_once(consumer, watch, lambda t: True, lambda t: False, lambda t: None,
                             settle=_settled, positions=positions) == {tp: (643, 699)}
    assert consumer.seeks == [{tp: 643}]


async def test_no_repair_from_a_look_taken_while_faust_commits() -> None:
    """Mid-commit, Faust has dropped the offsets it commits from its acked list but not yet moved its
    committed offset: the same picture as a hole. Such a look neither reports nor resets the watch."""

    from agents.commit_repair import repair_once

    tp = TP("edfi-stream.write-commands", 0)
    consumer, now = _Consumer(tp), [0.0]
    watch = HoleWatch(hold_seconds=15, clock=lambda: now[0])
    consumer._commit_fut = object()
    for now[0] in (0.0, 10.0, 20.0, 30.0):
        assert await repair_once(consumer, watch, lambda t: True, lambda t: False, lambda t: None) == {}
    assert consumer.seeks == []
    consumer._commit_fut = None  # a real hole is still there once the commit is over: reported after the hold
    now[0] = 40
    assert await repair_once(consumer, watch, lambda t: True, lambda t: False, lambda t: None) == {}
    now[0] = 55
    assert await repair_once(consumer, watch, lambda t: True, lambda t: False, lambda t: None,
                             settle=_settled) == {tp: (6, 10)}


def test_after_a_seek_back_the_records_read_again_are_not_a_hole() -> None:
    """Seek back to 6 with later records already buffered: those are acknowledged first, while 6-10 are
    read again behind them (unread yet, then waiting in the buffer). Neither picture is a hole."""
    from types import SimpleNamespace

    from agents.commit_repair import partition_acks

    assert hole(PartitionAcks(6, 6, range(11, 148))) is None  # 7-10 not read again yet
    assert hole(PartitionAcks(6, None, range(11, 148))) is None  # sought to the start: nothing read
    tp = TP("edfi-stream.student-events", 0)
    consumer = SimpleNamespace(assignment=lambda: {tp}, _committed_offset={tp: 6}, _read_offset={tp: 147},
                               _acked={tp: list(range(11, 148))}, _unacked_messages=[])
    assert hole(partition_acks(consumer, lambda t: True)[tp]) == (6, 10)
    waiting = [SimpleNamespace(tp=tp, offset=8)]
    assert hole(partition_acks(consumer, lambda t: True, buffered=waiting)[tp]) is None


def test_buffered_messages_are_read_off_the_stream_buffers() -> None:
    import asyncio
    from types import SimpleNamespace

    from agents.commit_repair import buffered_messages

    queue: asyncio.Queue[object] = asyncio.Queue()
    first, second = SimpleNamespace(tp="a", offset=1), SimpleNamespace(tp="a", offset=2)
    queue.put_nowait(SimpleNamespace(message=first))
    queue.put_nowait(SimpleNamespace(message=second))
    conductor = SimpleNamespace(_topic_name_index={"a": [SimpleNamespace(_queue=queue), SimpleNamespace(_queue=None)]})
    assert buffered_messages(conductor) == [first, second]
    assert queue.qsize() == 2  # only looked at


async def test_read_offsets_settle_once_the_fetch_loop_stops_moving_them() -> None:
    import asyncio

    from agents.commit_repair import read_offsets_settled

    consumer = _Consumer("tp")
    loop = asyncio.get_running_loop()

    async def fetch_loop() -> None:  # still delivering the batch it holds for 0.5 s
        for offset in range(148, 153):
            await asyncio.sleep(0.1)
            consumer._read_offset["tp"] = offset

    started = loop.time()
    delivering = asyncio.create_task(fetch_loop())
    await read_offsets_settled(consumer, ["tp"], quiet_seconds=0.3, max_seconds=5)
    assert delivering.done() and consumer._read_offset["tp"] == 152
    assert 0.7 <= loop.time() - started < 2


async def test_client_positions_are_bounded_and_unknown_on_failure() -> None:
    import asyncio

    from agents.commit_repair import client_positions

    class Client:
        async def position(self, tp: str) -> int:
            if tp == "resetting":
                await asyncio.sleep(10)  # the client still resetting this partition's position
            if tp == "revoked":
                raise RuntimeError("not assigned")
            return 148

    found = await client_positions(Client(), ["ok", "resetting", "revoked"], timeout_seconds=0.1)
    assert found == {"ok": 148, "resetting": None, "revoked": None}
