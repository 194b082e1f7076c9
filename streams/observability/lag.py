"""Consumer lag per topic and partition: end offset minus the group's committed offset, as a gauge.

Why here and not in Faust: Faust's own lag view covers only the partitions a worker holds; lag must be
measured for the group as a whole (a partition no worker holds is the lag that matters most), so it is
read from the broker with confluent-kafka: high watermarks through a non-member Consumer, committed
offsets through the AdminClient (streams/broker/admin.py).

A partition the group never committed counts from offset 0 (the worker reads from the earliest offset).

Embedded tansu broker: its ListOffsets(LATEST) returns "first offset of the last batch + 1" instead of
"last offset + 1", so with multi-record batches the end offset is too low and the lag shown is too small
(clamped at 0, never negative). Figures are exact only when producers write one record per batch
(Faust ``producer_max_batch_size=1``, librdkafka ``batch.num.messages=1``), the setting the embedded
configuration uses. A real Kafka has no such problem. See shared notes "embedded-broker-and-tooling".

The calls block (network round trips): run :func:`update_lag` in a thread from the event loop
(``await asyncio.to_thread(update_lag, ...)``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from streams.broker.admin import Config, committed_offsets, end_offsets
from streams.observability import metrics

Partition = tuple[str, int]


def compute_lag(ends: Mapping[Partition, int], committed: Mapping[Partition, int]) -> dict[Partition, int]:
    """Lag of every partition that has an end offset; never negative (see the tansu note above)."""
    return {tp: max(0, end - committed.get(tp, 0)) for tp, end in ends.items()}


def read_lag(config: Config, group: str, topics: Iterable[str]) -> dict[Partition, int]:
    """Ask the broker for end and committed offsets of ``group`` on ``topics`` (missing topics skipped)."""
    names = list(topics)
    return compute_lag(end_offsets(config, names), committed_offsets(config, group, names))


def update_lag(config: Config, group: str, topics: Iterable[str]) -> dict[Partition, int]:
    """Read the lag and set ``edfi_stream_consumer_lag_messages{topic,partition}``; returns the figures."""
    lag = read_lag(config, group, topics)
    for (topic, partition), value in lag.items():
        metrics.set_lag(topic, partition, value)
    return lag
