"""Seek a partition the group never committed (or committed at 0) to its log start, as Faust means to.

Symptom: records a worker fetched at start-up, while its flow was suspended for table recovery, were lost on
a partition the group had never committed (a new group; or a worker stopped right after records were
published). Faust drops records fetched while its flow is suspended and then seeks every partition back to
its committed offset, but aiokafka's ``seek_to_committed`` seeks only ``if offset and offset > 0``: for no
commit, or a commit at 0, the position stays past the dropped records. Faust then commits past them (its
gap check before the first acknowledged offset runs only ``if committed_offset:``), and the commit repair
cannot see a hole without a committed offset to measure from.
``tests/faults/test_broker_faults.py::test_worker_started_before_the_broker`` lost 25-57 of its records in
about half the runs under load (session 7).

The fix: after Faust's ``perform_seek``, each assigned partition that an agent acknowledges (not a table's
changelog: the recovery seeks those) and that has no committed offset above 0 is sought back to the first
record between its log start (where the consumer's ``earliest`` reset starts reading) and the client's
position that is neither acknowledged nor in flight, through Faust's own ``seek_wait`` (which also resets
Faust's read offset, so the records are not taken for ones already read). A partition whose records below
the position were all taken is left where it is, so a replay that has just rewound to 0 is not read twice;
while Faust's flow is on, records past its fetch loop's last read offset are in that loop's hands, not
dropped. Each such seek is logged.
Faust's acknowledgement and commit bookkeeping are untouched.

Faust: ``faust.transport.consumer.Consumer.perform_seek`` (stores ``offset if offset else None`` in
``Consumer._committed_offset``), ``Consumer.seek_wait``, ``Consumer.earliest_offsets``,
``Consumer.position``, ``Consumer._acked``, ``Consumer._unacked_messages``, ``Consumer._read_offset``,
``Consumer.flow_active``, the stream buffers
(:mod:`agents.fixups.stream_buffers`), ``App.topics.acks_enabled_for``; aiokafka
``AIOKafkaConsumer.seek_to_committed``.

Seen with: faust-streaming 0.15.3, aiokafka 0.14.0.

Remove when: aiokafka's ``seek_to_committed`` seeks a committed 0 and Faust seeks a partition without a
commit to its reset position after dropping records. The proof: tests/integration/test_seek_start.py's
``test_aiokafka_leaves_a_never_committed_partition_where_it_was`` fails (aiokafka fixed), and
test_worker_started_before_the_broker passes ten runs in a row under load without :func:`install` called
(agents/app.py).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from faust.transport.consumer import Consumer

from agents.fixups import stream_buffers

_ORIGINAL_PERFORM_SEEK = Consumer.perform_seek

log = logging.getLogger(__name__)


def never_committed(consumer: Any) -> list[Any]:
    """The assigned partitions an agent acknowledges whose committed offset Faust holds as none (none or 0)."""
    acking = consumer.app.topics.acks_enabled_for
    committed = consumer._committed_offset
    return sorted((tp for tp in consumer.assignment() if acking(tp.topic) and not committed.get(tp)),
                  key=lambda tp: (tp.topic, tp.partition))


def first_unprocessed(start: int, position: int | None, done: set[int]) -> int | None:
    """The first offset in ``[start, position)`` neither acknowledged nor in flight (``done``): where the
    partition must be read again from; None when every record below the client's position was taken."""
    if position is None:
        return None
    return next((offset for offset in range(start, position) if offset not in done), None)


def _buffered(app: Any) -> list[Any]:
    """The messages delivered to the streams' buffers and not taken yet (not in flight for Faust yet)."""
    index = stream_buffers.topic_channels(app.topics)
    queues = stream_buffers.channel_queues(channel for channels in index.values() for channel in channels)
    items = (item for queue in queues for item in stream_buffers.queued_items(queue))
    return [m for m in (getattr(item, "message", None) for item in items) if m is not None]


async def _position(consumer: Any, tp: Any) -> int | None:
    try:  # bounded: the client waits for a partition whose position it is still resetting
        position = await asyncio.wait_for(consumer.position(tp), 2.0)
    except Exception:
        return None
    return position if isinstance(position, int) and position >= 0 else None


async def perform_seek(self: Any) -> None:
    reads = dict(self._read_offset)  # Faust's seek resets them to the committed offsets (none, here)
    await _ORIGINAL_PERFORM_SEEK(self)
    starts = never_committed(self)
    if not starts:
        return
    earliest = await self.earliest_offsets(*starts)
    in_flight: dict[Any, set[int]] = {}
    for message in [*self._unacked_messages, *_buffered(self.app)]:
        in_flight.setdefault(message.tp, set()).add(message.offset)
    targets = {}
    for tp in starts:
        done = set(self._acked.get(tp) or ()) | in_flight.get(tp, set())
        upto = await _position(self, tp)
        if self.flow_active and upto is not None:
            # the flow is on: records past the fetch loop's last read offset are in its hands and will be
            # delivered; only records it read and a stream skipped are missing
            read = reads.get(tp)
            upto = min(upto, read + 1) if read is not None else None
        target = first_unprocessed(max(0, int(earliest.get(tp) or 0)), upto, done)
        if target is not None:  # records were dropped: read again from the first of them
            targets[tp] = target
    if targets:
        for tp, offset in sorted(targets.items()):
            log.info("%s/%d, never committed: reading it again from offset %d (records dropped at start-up)",
                     tp.topic, tp.partition, offset)
        await self.seek_wait(targets)


def install() -> None:
    """Idempotent: the consumer class of every Faust app in this process seeks such partitions to their start."""
    Consumer.perform_seek = perform_seek  # type: ignore[method-assign]


def installed() -> bool:
    return Consumer.perform_seek is perform_seek  # type: ignore[comparison-overlap]
