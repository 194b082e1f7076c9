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

from streams.broker.admin import committed_offsets
from streams.config import Settings
from streams.errors import Refused


class ReplayRefused(Refused):
    pass


def rewind(settings: Settings, since: str | None = None, timeout: float = 15.0) -> int:
    cfg = {**settings.kafka.confluent_config(), "log_level": 0}
    group = settings.worker.app_id
    SIS_TOPICS = settings.topic_map().inputs
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
    result = admin.alter_consumer_group_offsets([ConsumerGroupTopicPartitions(group, tps)])[group].result(timeout)
    failed = [tp for tp in result.topic_partitions if tp.error is not None]
    if failed:
        # tansu keeps a group whose members all left "Stable" and refuses any commit without a member
        # (UNKNOWN_MEMBER_ID). Recreate the group: keep every other committed offset (internal topics),
        # delete the group, then commit the kept offsets together with the rewound SIS offsets.
        if all(tp.error is not None and "UNKNOWN_MEMBER" in str(tp.error) for tp in failed):
            raise ReplayRefused("this broker refuses offset changes from outside the group (the embedded tansu "
                                "broker does): start the workers with `edfi-stream worker --replay-from "
                                "beginning` (or an ISO time) instead")
        listed = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])[group].result(timeout)
        keep = {(tp.topic, tp.partition): tp.offset for tp in listed.topic_partitions
                if tp.offset >= 0 and tp.topic not in SIS_TOPICS}
        admin.delete_consumer_groups([group])[group].result(timeout)
        merged = [TopicPartition(t, p, o) for (t, p), o in keep.items()] + list(tps)
        result = admin.alter_consumer_group_offsets([ConsumerGroupTopicPartitions(group, merged)])[group].result(
            timeout)
        failed = [tp for tp in result.topic_partitions if tp.error is not None]
        if failed:
            raise ReplayRefused(f"the broker refused the new offsets: {failed[0].error}")
    now = committed_offsets(cfg, group, SIS_TOPICS)
    wrong = [f"{tp.topic}[{tp.partition}]" for tp in tps if now.get((tp.topic, tp.partition), tp.offset) != tp.offset]
    if wrong:
        raise ReplayRefused(f"the broker did not take the new offsets for {', '.join(wrong[:5])}")
    return len(tps)


def follow(settings: Settings, poll_seconds: float = 1.0, timeout: float | None = None) -> int:
    """Show the worker group's progress through the SIS topics (events read of total, rate, ETA) until it
    has caught up; returns the number of events replayed."""
    import time

    from streams.broker.admin import end_offsets
    from streams.resync.progress import Progress

    cfg = settings.kafka.confluent_config()
    SIS_TOPICS = settings.topic_map().inputs
    ends = end_offsets(cfg, SIS_TOPICS)
    start = committed_offsets(cfg, settings.worker.app_id, SIS_TOPICS)
    total = sum(max(0, end - start.get(tp, 0)) for tp, end in ends.items())
    progress = Progress(total, label="replay")
    deadline = None if timeout is None else time.monotonic() + timeout
    done = 0
    while done < total and (deadline is None or time.monotonic() < deadline):
        time.sleep(poll_seconds)
        now = committed_offsets(cfg, settings.worker.app_id, SIS_TOPICS)
        current = sum(min(now.get(tp, 0), end) - start.get(tp, 0) for tp, end in ends.items())
        progress.advance(max(0, current - done))
        done = max(done, current)
    progress.finish()
    return done
