"""agents/fixups/gap_check.py: a gap in a partition's offsets is recorded only where the broker holds no
record. Faust's own ``Consumer._add_gap`` and ``Consumer._new_offset`` run on just the state they read, so
the arithmetic is Faust's; the broker read is a function given to the fix (tests/integration/
test_gap_check_kafka.py reads a real partition with a transaction marker)."""

from __future__ import annotations

import logging
from collections import defaultdict
from types import SimpleNamespace
from typing import Any

import pytest
from faust.types import TP
from intervaltree import IntervalTree

from agents.fixups import gap_check

TOPIC_PARTITION = TP("sis.test_scores", 1)


def _state(committed: int | None, acked: list[int]) -> Any:
    tp = TOPIC_PARTITION
    return SimpleNamespace(_acked=defaultdict(list, {tp: list(acked)}), _gap=defaultdict(IntervalTree),
                           _committed_offset=defaultdict(lambda: None, {tp: committed}),
                           _acked_index=defaultdict(set, {tp: set(acked)}))


def _new_offset(state: Any) -> int | None:
    from faust.transport.consumer import Consumer

    result: int | None = Consumer._new_offset(state, TOPIC_PARTITION)  # Faust's own (no head_gap hold here)
    return result


async def test_faust_alone_commits_past_records_it_took_for_a_gap() -> None:
    # the debug run's shape: sought back to 404 while the fetch loop held record 490, fetched before the seek;
    # Faust takes 405-490 for a gap, drops the records 405-489 read again (below its read offset), and
    # commits past them
    state = _state(404, [404, 490])
    await gap_check._ORIGINAL_ADD_GAP(state, TOPIC_PARTITION, 405, 490)
    assert _new_offset(state) == 491, "Faust fixed: gap_check can go"


async def test_with_the_fix_only_offsets_without_a_record_are_a_gap(monkeypatch: pytest.MonkeyPatch,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    asked: list[tuple[str, int, int, int]] = []

    def reader(topic: str, partition: int, first: int, last: int) -> set[int]:
        asked.append((topic, partition, first, last))
        return set(range(first, last + 1)) - {450}  # one transaction marker, at 450

    monkeypatch.setattr(gap_check, "_reader", reader)
    state = _state(404, [404, 490])
    with caplog.at_level(logging.WARNING, logger=gap_check.__name__):
        await gap_check.add_gap(state, TOPIC_PARTITION, 405, 490)
    assert asked == [("sis.test_scores", 1, 405, 490)]
    assert sorted((i.begin, i.end) for i in state._gap[TOPIC_PARTITION]) == [(450, 451)]
    assert _new_offset(state) == 405  # commits wait at 405: a hole the commit repair reads again
    assert "hold 84 records that Faust took for a gap" in caplog.text


async def test_a_true_gap_is_recorded_and_committed_past(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gap_check, "_reader", lambda topic, partition, first, last: {last})  # 11-14 compacted
    state = _state(10, [10, 15])
    await gap_check.add_gap(state, TOPIC_PARTITION, 11, 15)
    assert _new_offset(state) == 16


@pytest.mark.parametrize("reader", [lambda *args: None, lambda *args: 1 / 0])
async def test_a_range_that_cannot_be_read_records_nothing(monkeypatch: pytest.MonkeyPatch, reader: Any) -> None:
    monkeypatch.setattr(gap_check, "_reader", reader)
    state = _state(10, [10, 15])
    await gap_check.add_gap(state, TOPIC_PARTITION, 11, 15)
    assert not state._gap[TOPIC_PARTITION] and _new_offset(state) == 11


def test_absent_runs() -> None:
    assert gap_check.absent_runs(5, 9, {5, 6, 7, 8, 9}) == []
    assert gap_check.absent_runs(5, 9, set()) == [(5, 9)]
    assert gap_check.absent_runs(5, 9, {7}) == [(5, 6), (8, 9)]
    assert gap_check.absent_runs(5, 9, {5, 9}) == [(6, 8)]


def test_install_patches_faust_s_consumer() -> None:
    from faust.transport.consumer import Consumer

    before = Consumer._add_gap
    try:
        gap_check.install(lambda *args: set())
        assert gap_check.installed() and Consumer._add_gap is gap_check.add_gap
    finally:
        Consumer._add_gap = before  # type: ignore[method-assign]
        gap_check._reader = None
