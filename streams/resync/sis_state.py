"""Replay the SIS topics from the beginning into a rule engine, with a progress bar (streams/resync/progress.py).

This reads the topics directly (its own consumer, no group, every partition from offset 0 to the end
offsets taken at the start), so a resync never disturbs the worker's consumer group.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, TopicPartition

from streams.codec.debezium import SisDecoder
from streams.codec.registry import RegistryUnavailable
from streams.errors import PoisonInput
from streams.resync.progress import Progress
from streams.rules.config import RuleConfig
from streams.rules.engine import InMemoryStores, RuleEngine
from streams.sis.events import parse_change
from streams.sis.owners import OwnerIndex
from streams.topics import DEFAULT_TOPICS, TopicMap


@dataclass
class ReplayResult:
    engine: RuleEngine
    events: int
    poison: int


def replay_sis(kafka_config: dict[str, Any], cfg: RuleConfig, *, timeout: float = 10.0,
               progress_factory: Callable[[int], Progress] | None = None, topics: TopicMap = DEFAULT_TOPICS,
               decoder: SisDecoder | None = None) -> ReplayResult:
    """The rule engine's state after every SIS event on the topics (under their Kafka names), decoded in
    whatever format each came (streams/codec/debezium.py), partial before images given their owner."""
    decoder = decoder or SisDecoder()
    owners = OwnerIndex()
    consumer = Consumer({**kafka_config, "group.id": "edfi-stream-resync-reader", "enable.auto.commit": False,
                         "auto.offset.reset": "earliest", "log_level": 0})
    engine = RuleEngine(cfg, **InMemoryStores().as_kwargs())
    engine.set_enabled(False)  # only the final state matters here; no commands are planned
    try:
        meta = consumer.list_topics(timeout=timeout).topics
        tps = [TopicPartition(t, p, 0) for t in topics.inputs if t in meta for p in sorted(meta[t].partitions)]
        ends = {(tp.topic, tp.partition): consumer.get_watermark_offsets(tp, timeout=timeout)[1] for tp in tps}
        total = sum(ends.values())
        progress = (progress_factory or (lambda n: Progress(n)))(total)
        consumer.assign(tps)
        remaining = {k for k, end in ends.items() if end > 0}
        events = poison = 0
        while remaining:
            msg = consumer.poll(timeout)
            if msg is None:
                break  # the end offsets said more was there; stop rather than wait forever
            if msg.error() is not None:
                continue
            topic, partition, offset = str(msg.topic()), int(msg.partition() or 0), int(msg.offset() or 0)
            table = topics.table(topic) or topic
            try:
                value = _retrying(decoder.decode_value, table, msg.value())
                if value is not None:
                    key = decoder.decode_key(table, msg.key())
                    engine.on_change(owners.apply(parse_change(table, key, value)))
            except PoisonInput:
                poison += 1  # already dead-lettered by the worker; the resync only counts it
            events += 1
            progress.advance()
            if offset + 1 >= ends[(topic, partition)]:
                remaining.discard((topic, partition))
        progress.finish()
        return ReplayResult(engine, events, poison)
    finally:
        consumer.close()


def _retrying(decode: Callable[..., Any], *args: Any, attempts: int = 6) -> Any:
    """A decode that needs the schema registry: retried while it does not answer (then the resync stops
    with the error rather than reconcile from a state with holes)."""
    for attempt in range(attempts):
        try:
            return decode(*args)
        except RegistryUnavailable:
            if attempt == attempts - 1:
                raise
            time.sleep(min(2.0 ** attempt, 10.0))
    return None
