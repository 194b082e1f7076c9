"""Record a gap in a partition's offsets only where the broker holds no record.

Symptom: Faust's fetch loop (``Consumer._drain_messages``) takes every jump between the last offset it read
and the offset of the message in hand for offsets that hold no record (transaction markers, records
compacted away) and records them with ``Consumer._add_gap``; ``Consumer._new_offset`` then merges them into
the acknowledged offsets and commits past them. After a seek back (Faust's ``perform_seek`` at start-up or
after a rebalance, or the commit repair) the read offset is reset to the offset sought to while the loop may
still hold records fetched before the seek: the next of those makes a "gap" over records that exist. The
records read again are then dropped as already read (their offsets are below the new read offset), and
the "gap" commits past them: they are lost. Seen in
``tests/faults/test_broker_faults.py::test_worker_started_before_the_broker`` (a fresh-clone CI run, session
9: 58 of 925 ODS records lost, offsets 3-92 of ``sis.enrollments``/1 committed although no worker ever routed
them). A debug run showed the shape: a gap (405, 491) on ``sis.test_scores``/1 over offsets already
acknowledged, whose merge put duplicates into Faust's acknowledged list, after which the commit crept one
offset per commit interval (Faust's ``consecutive_numbers`` stops at a duplicate) through the records it
had dropped. Faust's interval also ends at the message in hand itself, so a message then dropped (the flow
suspended while it was delivered) is committed as part of the gap.

The fix: ``Consumer._add_gap`` first reads the candidate offsets from the broker (a short-lived
confluent-kafka consumer, ``read_uncommitted`` like aiokafka's: an aborted record is a record Faust reads)
and records only the offsets that hold no record. A range that cannot be read (the broker away, a timeout)
records nothing: commits wait there, and the commit repair reads the partition again. Records found where
Faust saw a gap are logged. The read costs one fetch per gap; gaps are rare on a topic that is neither
transactional nor compacted.

Faust: ``faust.transport.consumer.Consumer._add_gap`` (called by ``Consumer._drain_messages`` with
``r_offset + 1`` and the offset of the message in hand), ``Consumer._new_offset`` (merges ``Consumer._gap``).

Seen with: faust-streaming 0.15.3, aiokafka 0.14.0, Apache Kafka 4.1.

Remove when: Faust stops taking an offset jump across a seek for a gap. The proof:
tests/unit/agents/test_gap_check.py's ``test_faust_alone_commits_past_records_it_took_for_a_gap`` fails
(Faust fixed), and test_worker_started_before_the_broker passes ten runs in a row without :func:`install`
(agents/app.py); then delete this module.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from faust.transport.consumer import Consumer

log = logging.getLogger(__name__)

# (topic, partition, first, last) -> the offsets in [first, last] that hold a record; None: could not read
Reader = Callable[[str, int, int, int], "set[int] | None"]

_ORIGINAL_ADD_GAP = Consumer._add_gap
_reader: Reader | None = None


def absent_runs(first: int, last: int, present: set[int]) -> list[tuple[int, int]]:
    """The runs ``(from, to)`` (inclusive) of offsets in ``[first, last]`` that hold no record."""
    runs: list[tuple[int, int]] = []
    start: int | None = None
    for offset in range(first, last + 1):
        if offset in present:
            if start is not None:
                runs.append((start, offset - 1))
                start = None
        elif start is None:
            start = offset
    if start is not None:
        runs.append((start, last))
    return runs


async def add_gap(self: Any, tp: Any, offset_from: int, offset_to: int) -> None:
    reader = _reader
    if reader is None:  # not installed with a reader (a test's bare App): Faust's own bookkeeping
        await _ORIGINAL_ADD_GAP(self, tp, offset_from, offset_to)
        return
    committed = self._committed_offset[tp]
    first = max(offset_from, committed + 1) if committed is not None else offset_from  # as Faust does
    if first > offset_to:
        return
    present = await broker_offsets(tp.topic, tp.partition, first, offset_to)
    if present is None:  # unreadable: record nothing, the commits wait
        log.warning("offsets %d-%d of %s/%d unread: no gap recorded", first, offset_to, tp.topic, tp.partition)
        return
    held = sorted(offset for offset in present if first <= offset < offset_to)
    if held:
        log.warning("offsets %d-%d of %s/%d hold %d records that Faust took for a gap (a seek while it held "
                    "records fetched before it): only the offsets without a record are recorded",
                    first, offset_to - 1, tp.topic, tp.partition, len(held))
    for start, end in absent_runs(first, offset_to, present):
        await _ORIGINAL_ADD_GAP(self, tp, start, end)


async def broker_offsets(topic: str, partition: int, first: int, last: int) -> set[int] | None:
    """The offsets in ``[first, last]`` of the partition that hold a record, read from the broker by the
    installed reader (off the event loop); None when none is installed, the read failed or did not end in time
    (the caller then cannot tell). Asked by :func:`add_gap` and by the commit repair before it commits past an
    offset (agents/commit_repair.py)."""
    reader = _reader
    if reader is None:
        return None
    try:
        return await asyncio.get_running_loop().run_in_executor(None, reader, topic, partition, first, last)
    except Exception as exc:  # any failure: unknown
        log.warning("could not read offsets %d-%d of %s/%d (%s)", first, last, topic, partition,
                    type(exc).__name__)
        return None


def install(reader: Reader) -> None:
    """Idempotent: every Faust consumer of this process checks a gap with ``reader`` before recording it."""
    global _reader
    _reader = reader
    Consumer._add_gap = add_gap  # type: ignore[method-assign]


def installed() -> bool:
    return Consumer._add_gap is add_gap  # type: ignore[comparison-overlap]
