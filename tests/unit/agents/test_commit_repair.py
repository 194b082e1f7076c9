"""Which partitions the commit repair reads again: only a hole Faust cannot commit past (two or more
offsets after the committed one never acknowledged), not in flight, unchanged for the hold time."""

from __future__ import annotations

from agents.commit_repair import HoleWatch, PartitionAcks, hole


def test_what_is_a_hole() -> None:
    assert hole(PartitionAcks(6, 147, range(11, 148))) == (6, 10)  # the fault test's stall: 6-10 skipped
    assert hole(PartitionAcks(6, 147, range(6, 148))) is None  # contiguous: commits go on
    assert hole(PartitionAcks(6, 147, range(7, 148))) is None  # one missing offset: Faust commits past it
    assert hole(PartitionAcks(6, 147, range(11, 148), in_flight=[8])) is None  # still being processed
    assert hole(PartitionAcks(None, 19, range(11, 20))) is None  # never committed: no known start


def test_a_partition_with_nothing_acknowledged_and_nothing_queued_is_a_hole() -> None:
    assert hole(PartitionAcks(2, None, end=4)) == (2, 3)  # all its records went in the dropped fetch
    assert hole(PartitionAcks(None, None, end=2)) == (0, 1)  # never committed: read again from the start
    assert hole(PartitionAcks(4, None, end=4)) is None  # everything committed
    assert hole(PartitionAcks(2, None)) is None  # no high watermark known yet
    assert hole(PartitionAcks(1, 3, end=4)) == (1, 3)  # read, dropped, and nothing waits in a buffer
    assert hole(PartitionAcks(1, 3, end=4, queued=True)) is None  # read and waiting in a stream's buffer
    assert hole(PartitionAcks(2, None, end=4, in_flight=[2])) is None  # being processed


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
    from collections import namedtuple
    from types import SimpleNamespace

    from agents.commit_repair import partition_acks

    tp = namedtuple("tp", "topic partition")
    inputs, changelog = tp("sis.tests", 0), tp("edfi-stream-students-changelog", 0)
    consumer = SimpleNamespace(
        assignment=lambda: {inputs, changelog}, _committed_offset={inputs: 2}, _read_offset={},
        _acked={}, _unacked_messages=[], highwater=lambda t: 4)
    found = partition_acks(consumer, lambda topic: not topic.endswith("-changelog"))
    assert list(found) == [inputs]
    assert hole(found[inputs]) == (2, 3)


def test_queued_topics_reads_the_stream_buffers_of_the_conductor() -> None:
    import asyncio
    from types import SimpleNamespace

    from agents.commit_repair import queued_topics

    waiting: asyncio.Queue[int] = asyncio.Queue()
    waiting.put_nowait(1)
    conductor = SimpleNamespace(_topic_name_index={
        "sis.tests": [SimpleNamespace(_queue=asyncio.Queue()), SimpleNamespace(_queue=None)],
        "sis.students": [SimpleNamespace(_queue=waiting)]})
    queued = queued_topics(conductor)
    assert queued("sis.students") and not queued("sis.tests") and not queued("sis.staff")
