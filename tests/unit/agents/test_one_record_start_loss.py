"""One record missing at a partition's committed offset (docs/faults.md, "one record dropped at start-up, at
the committed offset, is committed past"): Faust alone commits past it; with agents/fixups/head_gap.py the
commits wait, the commit repair takes it for a hole and reads it again, and an offset that holds no record
(a transaction marker) is committed past after one reading that did not bring it.

Faust's own ``Consumer._new_offset`` runs on just the state it reads, so the arithmetic is Faust's."""

from __future__ import annotations

import logging
from collections import defaultdict
from types import SimpleNamespace
from typing import Any

import pytest
from faust.types import TP
from intervaltree import IntervalTree

from agents.commit_repair import HoleWatch, PartitionAcks, hole, repair_once
from agents.fixups import head_gap

TOPIC_PARTITION = TP("sis.public.TestScore", 1)


def _state(committed: int | None, acked: list[int]) -> Any:
    tp = TOPIC_PARTITION
    return SimpleNamespace(_acked=defaultdict(list, {tp: list(acked)}), _gap=defaultdict(IntervalTree),
                           _committed_offset={tp: committed}, _acked_index=defaultdict(set, {tp: set(acked)}))


def test_faust_alone_commits_past_one_missing_record() -> None:
    # the Kafka run of the Debezium restart test: offset 150 (the first change, a new score) never reached
    # the worker, 151 onwards were processed and acknowledged
    original = head_gap._ORIGINAL_NEW_OFFSET
    assert original(_state(150, [151, 152, 153]), TOPIC_PARTITION) == 154, "Faust fixed: head_gap can go"
    assert original(_state(150, [152, 153]), TOPIC_PARTITION) is None  # two missing: Faust holds its commits


def test_with_the_fix_commits_wait_at_one_missing_record_and_pass_a_recorded_gap() -> None:
    assert head_gap.new_offset(_state(150, [151, 152, 153]), TOPIC_PARTITION) is None
    assert head_gap.new_offset(_state(0, [1, 2]), TOPIC_PARTITION) is None  # a committed 0 is an offset
    assert head_gap.new_offset(_state(150, [150, 151]), TOPIC_PARTITION) == 152  # nothing missing
    assert head_gap.new_offset(_state(150, [152, 153]), TOPIC_PARTITION) is None  # Faust's own rule
    assert head_gap.new_offset(_state(None, [5, 6]), TOPIC_PARTITION) == 7  # never committed: Faust's rule
    state = _state(150, [151, 152, 153])
    head_gap.mark_absent(state, TOPIC_PARTITION, 150)  # a transaction marker at 150
    assert head_gap.new_offset(state, TOPIC_PARTITION) == 154


def test_the_commit_repair_takes_one_missing_record_for_a_hole() -> None:
    assert hole(PartitionAcks(150, 153, [151, 152, 153])) == (150, 150)
    assert hole(PartitionAcks(150, 153, [152, 153])) == (150, 151)
    assert hole(PartitionAcks(150, 153, [151, 152], in_flight=[150])) is None  # still being processed
    assert hole(PartitionAcks(150, 151, [150, 151])) is None


class _Consumer:
    """What repair_once reads of Faust's consumer for one partition, and the seeks it asks for."""

    def __init__(self, committed: int, acked: list[int], read: int) -> None:
        self._committed_offset = {TOPIC_PARTITION: committed}
        self._read_offset = {TOPIC_PARTITION: read}
        self._acked = {TOPIC_PARTITION: list(acked)}
        self._gap: defaultdict[Any, IntervalTree] = defaultdict(IntervalTree)
        self._unacked_messages: set[Any] = set()
        self._commit_fut = None
        self.seeks: list[dict[Any, int]] = []

    def assignment(self) -> set[Any]:
        return {TOPIC_PARTITION}

    def pause_partitions(self, tps: Any) -> None: ...

    def resume_partitions(self, tps: Any) -> None: ...

    async def seek_wait(self, offsets: dict[Any, int]) -> None:
        self.seeks.append(dict(offsets))


async def _settled(consumer: Any, tps: Any) -> None: ...


async def test_a_missing_record_is_read_again_then_an_absent_one_is_committed_past(
        caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    watch = HoleWatch(hold_seconds=15, clock=lambda: now[0])
    consumer = _Consumer(150, [151, 152, 153], read=153)

    async def look() -> dict[Any, tuple[int, int]]:
        return await repair_once(consumer, watch, lambda t: True, lambda t: False, lambda t: None,
                                 settle=_settled, records=_unreadable)

    assert await look() == {}  # seen, not due yet
    now[0] = 16
    assert await look() == {TOPIC_PARTITION: (150, 150)}
    assert consumer.seeks == [{TOPIC_PARTITION: 150}]  # read again from the missing record
    # the reading brought no record 150 (a transaction marker): the same hole, due again
    now[0] = 17
    assert await look() == {}
    now[0] = 33
    with caplog.at_level(logging.WARNING):
        assert await look() == {}  # not read a third time...
    assert consumer.seeks == [{TOPIC_PARTITION: 150}]
    assert consumer._gap[TOPIC_PARTITION].at(150)  # ...recorded as no record, so Faust commits past it
    assert "holds no record" in caplog.text


async def _unreadable(topic: str, partition: int, first: int, last: int) -> set[int] | None:
    return None  # the broker cannot be asked: the repair judges by reading again


def _broker(holding: set[int]) -> Any:
    async def records(topic: str, partition: int, first: int, last: int) -> set[int] | None:
        return {o for o in holding if first <= o <= last}
    return records


async def test_an_offset_the_broker_holds_a_record_at_is_never_committed_past() -> None:
    """A record the fetch loop dropped twice is still a record: the repair keeps reading it again."""
    now = [0.0]
    watch = HoleWatch(hold_seconds=15, clock=lambda: now[0])
    consumer = _Consumer(150, [151, 152, 153], read=153)
    for look in range(1, 4):
        now[0] = 16.0 * look
        await repair_once(consumer, watch, lambda t: True, lambda t: False, lambda t: None,
                          settle=_settled, records=_broker({150}))
        now[0] += 1
        await repair_once(consumer, watch, lambda t: True, lambda t: False, lambda t: None,
                          settle=_settled, records=_broker({150}))
    assert not consumer._gap[TOPIC_PARTITION].at(150)
    assert consumer.seeks and all(seek == {TOPIC_PARTITION: 150} for seek in consumer.seeks)


async def test_an_offset_the_broker_holds_no_record_at_is_committed_past_at_once() -> None:
    now = [0.0]
    watch = HoleWatch(hold_seconds=15, clock=lambda: now[0])
    consumer = _Consumer(150, [151, 152, 153], read=153)
    assert await repair_once(consumer, watch, lambda t: True, lambda t: False, lambda t: None,
                             settle=_settled, records=_broker(set())) == {}
    now[0] = 16
    assert await repair_once(consumer, watch, lambda t: True, lambda t: False, lambda t: None,
                             settle=_settled, records=_broker({149, 151})) == {}
    assert consumer.seeks == []  # no reading again needed: the broker says 150 is empty
    assert consumer._gap[TOPIC_PARTITION].at(150)


def test_a_never_committed_partition_is_read_again_from_its_first_record_not_taken() -> None:
    from agents.fixups.seek_start import first_unprocessed

    assert first_unprocessed(0, 6, set()) == 0  # all six dropped at start-up
    assert first_unprocessed(0, 6, {0, 1, 2, 3, 4, 5}) is None  # a replay's rewind, already read: not twice
    assert first_unprocessed(0, 6, {0, 1, 3}) == 2
    assert first_unprocessed(4, 6, {4}) == 5  # from the log start
    assert first_unprocessed(0, 0, set()) is None and first_unprocessed(0, None, set()) is None
