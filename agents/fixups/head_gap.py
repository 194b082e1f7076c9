"""Hold a partition's commits at one missing record at its committed offset, until it is read or known absent.

Symptom: Faust's ``Consumer._new_offset`` refuses to commit past missing offsets at the head of a partition
only when ``min(acked) - committed > 1``. The committed offset is the *next* offset to read, so one record
skipped right there (a record a stream takes from its buffer while the flow is suspended at start-up or in a
rebalance is dropped, not acknowledged) is committed past within the commit interval and lost with no trace.
Seen as one lost record in ``test_debezium_json_with_a_worker_restart_between_snapshot_and_changes`` (1 run
of 6 on Apache Kafka, 5 of 62 on tansu) and as students missing a row in
``test_worker_started_before_the_broker`` (docs/faults.md). Faust tolerates that one offset because after a
seek it stores the read offset as the next offset, so a transaction marker at the committed offset is never
recorded as a gap.

The fix: commits of such a partition wait unless the offset is recorded as a gap (``Consumer._gap``). The
commit repair (:mod:`agents.commit_repair`) takes the one-record hole like any other: it reads the partition
again from that offset; if the same hole is still there after that, the offset holds no record (a
transaction marker, or compacted away) and the repair records it as a gap with :func:`mark_absent`, which
lets Faust commit past it. The cost: a transaction marker right at a committed offset after a seek holds that
partition's commits for two repair rounds (about 40 s), instead of losing a record anywhere.

Faust: ``faust.transport.consumer.Consumer._new_offset`` (``if committed_offset: if min(acked) -
committed_offset > 1``), ``Consumer._gap`` (an ``IntervalTree`` per partition, merged into the acknowledged
offsets by ``_new_offset``), ``Consumer._committed_offset``, ``Consumer._acked``.

Seen with: faust-streaming 0.15.3.

Remove when: Faust holds commits at any unacknowledged record at the committed offset. The proof:
tests/unit/agents/test_one_record_start_loss.py's ``test_faust_alone_commits_past_one_missing_record``
fails (Faust fixed); then delete this module and the one-record branch of ``commit_repair.hole``.
"""

from __future__ import annotations

from typing import Any

from faust.transport.consumer import Consumer

_ORIGINAL_NEW_OFFSET = Consumer._new_offset


def waits_at_head(consumer: Any, tp: Any) -> bool:
    """Whether ``tp``'s first acknowledged offset is exactly one past its committed offset, and that offset
    is not a recorded gap: one record there was skipped."""
    committed = consumer._committed_offset.get(tp)
    acked = consumer._acked.get(tp)
    if committed is None or not acked:
        return False
    return bool(min(acked) == committed + 1 and not consumer._gap[tp].at(committed))


def new_offset(self: Any, tp: Any) -> int | None:
    if waits_at_head(self, tp):
        return None  # as Faust does for a gap of two or more: the commit repair reads the record again
    return _ORIGINAL_NEW_OFFSET(self, tp)  # type: ignore[no-any-return]


def mark_absent(consumer: Any, tp: Any, offset: int) -> None:
    """Record ``offset`` of ``tp`` as holding no record, so Faust commits past it (as a read gap is)."""
    consumer._gap[tp].addi(offset, offset + 1)


def install() -> None:
    """Idempotent: the consumer class of every Faust app in this process holds such commits."""
    Consumer._new_offset = new_offset  # type: ignore[method-assign]


def installed() -> bool:
    return Consumer._new_offset is new_offset  # type: ignore[comparison-overlap]
