"""Replay the SIS topics from the beginning into a rule engine, with a progress bar.

This reads the topics directly (its own consumer, no group, every partition from offset 0 to the end
offsets taken at the start), so a resync never disturbs the worker's consumer group.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from confluent_kafka import Consumer, TopicPartition

from streams.codec import codec_for
from streams.errors import PoisonInput
from streams.rules.config import RuleConfig
from streams.rules.engine import InMemoryStores, RuleEngine
from streams.sis.events import parse_change
from streams.sis.rows import SIS_TOPICS


class Progress:
    """A one-line progress bar: events read of total, rate, ETA (stderr, redrawn at most 5 times a second)."""

    def __init__(self, total: int, label: str = "replay", out: TextIO = sys.stderr) -> None:
        self.total = max(total, 1)
        self.label = label
        self.out = out
        self.done = 0
        self.started = time.monotonic()
        self._drawn = 0.0

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if now - self._drawn >= 0.2 or self.done >= self.total:
            self._drawn = now
            self.draw()

    def draw(self) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = self.done / elapsed
        eta = (self.total - self.done) / rate if rate > 0 else 0.0
        width = 30
        filled = int(width * min(self.done / self.total, 1.0))
        self.out.write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} events "
                       f"{rate:,.0f}/s ETA {eta:,.0f} s ")
        self.out.flush()

    def finish(self) -> None:
        self.draw()
        self.out.write("\n")


@dataclass
class ReplayResult:
    engine: RuleEngine
    events: int
    poison: int


def replay_sis(kafka_config: dict[str, Any], cfg: RuleConfig, *, timeout: float = 10.0,
               progress_factory: Callable[[int], Progress] | None = None) -> ReplayResult:
    consumer = Consumer({**kafka_config, "group.id": "edfi-stream-resync-reader", "enable.auto.commit": False,
                         "auto.offset.reset": "earliest", "log_level": 0})
    engine = RuleEngine(cfg, **InMemoryStores().as_kwargs())
    engine.set_enabled(False)  # only the final state matters here; no commands are planned
    try:
        meta = consumer.list_topics(timeout=timeout).topics
        tps = [TopicPartition(t, p, 0) for t in SIS_TOPICS if t in meta for p in sorted(meta[t].partitions)]
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
            codec = codec_for(topic)
            try:
                value = codec.decode_value(msg.value())
                if value is not None:
                    engine.on_change(parse_change(topic, codec.decode_key(msg.key()), value))
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
