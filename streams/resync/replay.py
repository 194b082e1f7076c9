"""Rewind the worker's consumer group on the SIS topics, so a restarted worker rebuilds its state.

Used after a rules or mapping change or a lost state store. Nothing is sent twice: the join only emits
commands whose payload differs from what it last emitted, and the egress skips payloads the identity map
says the ODS already has. The group must have no live members (stop the workers first).

tansu's offsets_for_times answers 0 for a time in the future (docs/operations.md): a timestamp later than
now is refused here instead of silently replaying everything.
"""

from __future__ import annotations

import datetime as dt

from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient

from streams.config import Settings
from streams.sis.rows import SIS_TOPICS


class ReplayRefused(Exception):
    pass


def rewind(settings: Settings, since: str | None = None, timeout: float = 15.0) -> int:
    cfg = {**settings.kafka.confluent_config(), "log_level": 0}
    group = settings.worker.app_id
    admin = AdminClient(cfg)
    described = admin.describe_consumer_groups([group])[group].result(timeout)
    if described.members:
        raise ReplayRefused(f"group {group} has {len(described.members)} live members: stop the workers first")
    meta = admin.list_topics(timeout=timeout).topics
    tps = [TopicPartition(t, p, 0) for t in SIS_TOPICS if t in meta for p in sorted(meta[t].partitions)]
    if since:
        when = dt.datetime.fromisoformat(since)
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        if when > dt.datetime.now(dt.UTC):
            raise ReplayRefused("a replay from a time in the future would replay nothing")
        millis = int(when.timestamp() * 1000)
        consumer = Consumer({**cfg, "group.id": f"{group}-replay-probe"})
        try:
            found = consumer.offsets_for_times([TopicPartition(t.topic, t.partition, millis) for t in tps], timeout)
        finally:
            consumer.close()
        tps = [TopicPartition(t.topic, t.partition, max(t.offset, 0)) for t in found]
    admin.alter_consumer_group_offsets([ConsumerGroupTopicPartitions(group, tps)])[group].result(timeout)
    return len(tps)
