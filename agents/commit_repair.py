"""Repair of input partitions whose offset commits stopped behind a hole of unacknowledged messages.

Why: Faust commits a partition only up to the first run of consecutive acknowledged offsets, and stops
for good once the oldest acknowledged offset is more than one past the committed one. That happens when
a message is skipped without being acknowledged: at start-up, messages fetched while Faust's flow is
suspended (table recovery) are abandoned by its fetch loop, yet their offsets count as read, so they are
neither processed nor re-read (faust-streaming ``Consumer._drain_messages``). Seen in the SIGKILL fault
test: the restarted worker processed every later event but committed none of them, so the lag never went
down and every restart re-read the partition.

The same drop in a small partition (all its records in that first fetch) leaves nothing acknowledged at
all, and Faust never commits it again either.

The repair: a partition whose hole has not changed for ``hold_seconds``, with no message of the hole in
flight, is sought back to its committed offset. The skipped messages are read and processed again; so are
the later ones, which is harmless (the rule engine ignores a change it already holds; writes are keyed and
idempotent). Their acknowledgements fill the hole and commits resume.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from agents.fixups import commit_holes, gap_check, head_gap, stream_buffers

log = logging.getLogger(__name__)

TopicPartition = Any  # Faust's TP (a named tuple of topic and partition)


@dataclass(frozen=True)
class PartitionAcks:
    """What the consumer knows of one partition: its committed offset (the next one to read; None if the
    group never committed it), the last offset its fetch loop read, the offsets acknowledged since the
    commit, and the offsets delivered to a stream and not acknowledged yet."""

    committed: int | None
    read: int | None
    acked: Iterable[int] = ()
    in_flight: Iterable[int] = ()  # delivered to a stream, or waiting in a stream's buffer
    # the next offset the Kafka client hands out: every record below it was fetched and given to Faust's
    # fetch loop (which may still hold it, or may have dropped it); None when not known
    position: int | None = None
    # records wait in a stream's buffer: Faust's one fetch loop may then be blocked delivering to a full
    # buffer, holding records of any partition in hand
    queued: bool = False


def hole(acks: PartitionAcks) -> tuple[int, int] | None:
    """``(first, last)`` offsets that were skipped and keep Faust from committing the partition, or None.

    Two signatures, both impossible for records that are merely waiting in a stream's buffer:

    * acknowledged offsets two or more past the committed one (Faust tolerates one missing offset), every
      offset between them already read by the fetch loop and neither acknowledged nor in flight: such
      records will never come. (Read and in flight both matter after a seek back, when the records read
      again queue behind later ones that were read before it and are acknowledged first);
    * nothing acknowledged, and records read or handed to the fetch loop past the committed offset, while
      no record waits in any stream's buffer (a partition whose records all went in the dropped fetch).
      Records that are only on the broker are not a hole: under a backlog a partition can go many seconds
      without a fetch (the fetch loop is blocked on another stream's full buffer, or the broker is slow),
      and the fourth round's 100,000-student run and the fifth round's 20,000-student run made dozens of
      needless repairs of exactly that picture when this looked at the high watermark.

    A partition the group never committed has no known start; in the second case reading again starts
    from offset 0 (the consumer's reset policy, earliest, moves that to the log start)."""
    committed = acks.committed if acks.committed is not None and acks.committed >= 0 else None
    acked = list(acks.acked)
    if acked:
        if committed is None:
            return None
        first, last = committed, min(acked) - 1
        if last < first:
            return None  # (one missing record is a hole too: agents.fixups.head_gap holds Faust's commits there)
        if acks.read is None or last > acks.read:
            return None  # not all read yet (after a seek back, say): the rest is on its way
    else:
        seen = [o for o in (acks.read, None if acks.position is None else acks.position - 1) if o is not None]
        if acks.queued or not seen:
            return None
        first, last = (committed if committed is not None else 0), max(seen)
        if acks.position is not None:
            # Faust's read offset is the last offset read, except right after a seek, when it is the offset
            # sought to (the next one): a partition sought to its end, whose position is its committed
            # offset, has handed out no record past the commit (seen on Apache Kafka as a "hole" of one
            # offset past the end of a partition, read again and marked absent every 20 s forever)
            last = min(last, acks.position - 1)
        if last < first:
            return None
    if any(first <= offset <= last for offset in acks.in_flight):
        return None  # still being processed: not a hole
    return first, last


@dataclass
class HoleWatch:
    """Remembers since when each partition has shown the same hole; reports the ones held long enough."""

    hold_seconds: float = 15.0
    clock: Callable[[], float] = time.monotonic
    _seen: dict[TopicPartition, tuple[tuple[int, int], float]] = field(default_factory=dict)
    # the hole each partition was last read again for: the same one-record hole due again after that holds
    # no record (a transaction marker, or compacted away)
    read_again: dict[TopicPartition, tuple[int, int]] = field(default_factory=dict)

    def due(self, partitions: Mapping[TopicPartition, PartitionAcks]) -> dict[TopicPartition, tuple[int, int]]:
        now = self.clock()
        due: dict[TopicPartition, tuple[int, int]] = {}
        seen: dict[TopicPartition, tuple[tuple[int, int], float]] = {}
        for tp, acks in partitions.items():
            found = hole(acks)
            if found is None:
                continue
            previous = self._seen.get(tp)
            since = previous[1] if previous is not None and previous[0] == found else now
            seen[tp] = (found, since)
            if now - since >= self.hold_seconds:
                due[tp] = found
        self._seen = {tp: v for tp, v in seen.items() if tp not in due}
        return due


def partition_acks(consumer: Any, acking: Callable[[str], bool],
                   queued: Callable[[str], bool] = lambda topic: False, buffered: Iterable[Any] = (),
                   positions: Mapping[TopicPartition, int | None] | None = None
                   ) -> dict[TopicPartition, PartitionAcks]:
    """Read the acknowledgement state of the assigned partitions whose messages agents acknowledge
    (``acking(topic)``; not the table changelogs, which Faust reads for recovery and never commits) from a
    Faust consumer (its internals, through :mod:`agents.fixups.commit_holes`: there is no public API)."""
    in_flight: dict[TopicPartition, list[int]] = {}
    for message in [*commit_holes.unacked_messages(consumer), *buffered]:
        in_flight.setdefault(message.tp, []).append(message.offset)
    return {tp: PartitionAcks(commit_holes.committed_offset(consumer, tp),
                              commit_holes.read_offset(consumer, tp),
                              commit_holes.acked_offsets(consumer, tp), in_flight.get(tp, ()),
                              (positions or {}).get(tp), queued(tp.topic))
            for tp in consumer.assignment() if acking(tp.topic)}


def _queues(channels: Iterable[Any]) -> list[Any]:
    """The queues of channels Faust's conductor delivers to: the streams' buffers."""
    return stream_buffers.channel_queues(channels)


def buffered_messages(conductor: Any) -> list[Any]:
    """The messages waiting in the stream buffers (channel queues) of the conductor's topics: delivered by
    the fetch loop, not yet taken by a stream, so not yet in the consumer's unacknowledged set."""
    out: list[Any] = []
    index = stream_buffers.topic_channels(conductor)
    for queue in _queues(channel for channels in index.values() for channel in channels):
        items = stream_buffers.queued_items(queue)
        out.extend(m for m in (getattr(e, "message", None) for e in items) if m is not None)
    return out


def queued_topics(conductor: Any) -> Callable[[str], bool]:
    """Whether records of a topic wait in the buffer of a stream that reads it (Faust's conductor knows the
    channels each topic is delivered to; a channel's queue is its stream's buffer)."""
    def queued(topic: str) -> bool:
        channels = stream_buffers.topic_channels(conductor).get(topic, ())
        return any(queue.qsize() > 0 for queue in _queues(channels))

    return queued


def queued_anywhere(conductor: Any) -> Callable[[str], bool]:
    """Whether records wait in any stream's buffer, whatever the topic: Faust delivers every topic from one
    fetch loop, so one full buffer blocks it with records of other partitions in hand."""
    def anywhere(topic: str) -> bool:
        index = stream_buffers.topic_channels(conductor)
        channels = (channel for chans in index.values() for channel in chans)
        return any(queue.qsize() > 0 for queue in _queues(channels))

    return anywhere


async def client_positions(consumer: Any, tps: Iterable[TopicPartition], timeout_seconds: float = 2.0
                           ) -> dict[TopicPartition, int | None]:
    """The Kafka client's position of each partition (Faust's ``Consumer.position``, through the consumer
    thread)."""
    out: dict[TopicPartition, int | None] = {}
    for tp in tps:
        try:
            # bounded: the client waits for a partition whose position it is still resetting
            position = await asyncio.wait_for(consumer.position(tp), timeout_seconds)
        except Exception:  # between assignments, no position yet, or the wait ran out
            position = None
        out[tp] = position if isinstance(position, int) and position >= 0 else None
    return out


def committing(consumer: Any) -> bool:
    """Whether Faust is in the middle of a commit. It drops the acknowledged offsets it is about to commit
    from its list *before* it flushes the producer and commits, and records the new committed offset only
    after: until then the partition looks exactly like a hole, and under a large producer backlog that
    flush can outlast the hold time (commits of 3.6 s against a 2.8 s interval at 100,000 students)."""
    return commit_holes.commit_in_progress(consumer)


async def repair_once(consumer: Any, watch: HoleWatch, acking: Callable[[str], bool],
                      queued: Callable[[str], bool], on_repair: Callable[[str], None],
                      buffered: Callable[[], Iterable[Any]] = list,
                      settle: Callable[[Any, Iterable[Any]], Awaitable[None]] | None = None,
                      positions: Callable[[Any, Iterable[Any]], Awaitable[Mapping[Any, int | None]]] = client_positions,
                      records: Callable[[str, int, int, int], Awaitable[set[int] | None]] = gap_check.broker_offsets,
                      ) -> dict[Any, tuple[int, int]]:
    """One look at the assigned partitions; reads the holes that are due again. Returns them.

    A hole of one offset is committed past only when it holds no record: said so by the broker
    (``records``: at once), or, when the broker cannot be read, still missing after one reading again. One
    the broker holds a record at is read again however often it is missing (a record dropped by the fetch
    loop, not an empty offset: committing past it would lose it)."""
    if committing(consumer):
        return {}  # this look would see the commit's own bookkeeping; the watch keeps what it saw before
    acks = partition_acks(consumer, acking, queued, buffered())
    # the client's positions only matter where nothing is acknowledged (the second signature of a hole)
    wanted = [tp for tp, a in acks.items() if not list(a.acked) and not a.queued]
    if wanted:
        known = await positions(consumer, wanted)
        if committing(consumer):
            return {}
        # read again, not reused: the buffers and acknowledgements moved while the positions were read
        acks = partition_acks(consumer, acking, queued, buffered(), known)
    due = watch.due(acks)
    if not due:
        return due
    for tp, found in list(due.items()):
        first, last = found
        if first == last and await _holds_no_record(tp, first, watch.read_again.get(tp) == found, records):
            log.warning("offset %d of %s/%d holds no record (a transaction marker, or compacted away): "
                        "committing past it", first, tp.topic, tp.partition)
            head_gap.mark_absent(consumer, tp, first)
            del due[tp]
            continue
        log.warning("offsets %d-%d of %s/%d were skipped without being processed and block its commits: "
                    "reading the partition again from offset %d", first, last, tp.topic, tp.partition, first)
        watch.read_again[tp] = found
        on_repair(tp.topic)
    if not due:
        return due
    # Pause, let the fetch loop finish the records of these partitions it already holds, then seek. Seeking
    # under a batch in hand would let its next record, far past the sought offset, be taken for a gap in the
    # log, which Faust commits past, and the records read again would then be dropped as already read.
    consumer.pause_partitions(list(due))
    try:
        await (settle or read_offsets_settled)(consumer, list(due))
        # Through the consumer's own thread: Consumer.seek changes the client's fetch state from this one,
        # which raced the fetcher and crashed the worker (aiokafka fetched_records: KeyError).
        await consumer.seek_wait({tp: first for tp, (first, _) in due.items()})
    finally:
        assigned = set(consumer.assignment())
        consumer.resume_partitions([tp for tp in due if tp in assigned])
    return due


async def _holds_no_record(tp: TopicPartition, offset: int, read_again_already: bool,
                           records: Callable[[str, int, int, int], Awaitable[set[int] | None]]) -> bool:
    """Whether a one-offset hole holds no record: the broker says so, or, when it cannot be read, the
    offset is still missing after the partition was read again once."""
    present = await records(tp.topic, tp.partition, offset, offset)
    return read_again_already if present is None else offset not in present


async def read_offsets_settled(consumer: Any, tps: Iterable[Any], quiet_seconds: float = 1.0,
                               max_seconds: float = 30.0) -> None:
    """Until the fetch loop's read offsets of ``tps`` have not moved for ``quiet_seconds`` (it has
    finished the records it held for them), or ``max_seconds``."""
    tps = list(tps)
    loop = asyncio.get_running_loop()
    started = loop.time()
    last = commit_holes.offsets_read(consumer, tps)
    quiet_since = started
    while loop.time() - started < max_seconds:
        await asyncio.sleep(0.1)
        now = commit_holes.offsets_read(consumer, tps)
        if now != last:
            last, quiet_since = now, loop.time()
        elif loop.time() - quiet_since >= quiet_seconds:
            return


def attach_commit_repair(app: Any, on_repair: Callable[[str], None], hold_seconds: float = 15.0,
                         interval_seconds: float = 5.0) -> HoleWatch:
    watch = HoleWatch(hold_seconds)
    head_gap.install()  # Faust's commits wait at one missing record, which this repair then reads again

    @app.timer(interval_seconds, name="edfi-stream.commit-repair")
    async def repair() -> None:
        consumer = app.consumer
        if consumer is None or getattr(app, "rebalancing", False):
            return
        await repair_once(consumer, watch, app.topics.acks_enabled_for, queued_anywhere(app.topics), on_repair,
                          lambda: buffered_messages(app.topics))

    return watch
