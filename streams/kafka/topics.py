"""The topics the product creates, with the settings they get on a real cluster, and start-up checks of them.

* SIS input topics (when ``produce`` or the demo creates them) and the worker's keyed topics:
  ``kafka.topicPartitions`` partitions, ``kafka.topicReplicationFactor`` replicas.
* ``edfi.control``: one partition (a toggle is read in order by every worker) and ``cleanup.policy=compact``
  (only the latest state of each resource matters; the embedded tansu broker accepts and ignores it).
* the worker's own topics, :func:`worker_topics`, all created in one place before Faust starts
  (:func:`ensure_worker_topics`): internal topics, dead letters, control, Faust's leader topic and every
  table's compacted changelog.

:func:`prepare_worker_topics` is the worker's start-up: one metadata request, then :func:`topic_problems` says
in plain words what is wrong (a missing topic, a topic the broker does not let us read (ACL), fewer partitions
than workers, an own topic with the wrong partition count), then the worker's topics are created.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import KafkaError
from confluent_kafka.admin import AdminClient

from streams.broker.admin import ensure_topics
from streams.config import KafkaSettings
from streams.kafka.clients import admin_config
from streams.topics import CONTROL as CONTROL_TOPIC
from streams.topics import (
    DEAD_LETTERS,
    DEFAULT_TOPICS,
    OWNER_TABLES,
    STUDENT_EVENTS,
    TABLES,
    WRITE_COMMANDS,
    TopicMap,
    changelog_topic,
    leader_topic,
)

CONTROL_TOPIC_CONFIG = {"cleanup.policy": "compact"}
CHANGELOG_CONFIG = {"cleanup.policy": "compact"}  # Faust's own choice for a table's changelog


def ensure_product_topics(kafka: KafkaSettings, names: Iterable[str]) -> None:
    """Create the missing ones among ``names`` with the partitions, replicas and policies the product wants."""
    names = set(names)
    if CONTROL_TOPIC in names:
        ensure_topics(admin_config(kafka), [CONTROL_TOPIC], 1, kafka.topic_replication_factor, CONTROL_TOPIC_CONFIG)
        names.discard(CONTROL_TOPIC)
    if names:
        ensure_topics(admin_config(kafka), names, kafka.topic_partitions, kafka.topic_replication_factor)


@dataclass(frozen=True)
class TopicSpec:
    """A topic the worker reads or writes, as it must be on the cluster. ``keyed``: its partitions hold keyed
    state or keyed work, so a different partition count on the cluster is a start-up problem."""

    name: str
    partitions: int
    config: Mapping[str, str] = field(default_factory=dict)
    keyed: bool = True


def worker_topics(kafka: KafkaSettings, app_id: str, topic_map: TopicMap = DEFAULT_TOPICS,
                  meta: Mapping[str, Any] | None = None) -> list[TopicSpec]:
    """Every topic the worker reads or writes apart from the SIS inputs (created by their producer, checked by
    :func:`topic_problems`): the internal topics, the dead letters, ``edfi.control``, Faust's leader topic and
    every table's changelog. The changelogs are compacted as Faust makes them; an owner table's changelog has
    as many partitions as its SIS topic in ``meta`` (agents/ingest.py), else ``kafka.topicPartitions``."""
    partitions = kafka.topic_partitions
    specs = [TopicSpec(STUDENT_EVENTS, partitions), TopicSpec(WRITE_COMMANDS, partitions),
             TopicSpec(DEAD_LETTERS, 1, keyed=False), TopicSpec(CONTROL_TOPIC, 1, CONTROL_TOPIC_CONFIG, keyed=False),
             TopicSpec(leader_topic(app_id), 1, keyed=False)]
    specs += [TopicSpec(changelog_topic(app_id, table), partitions, CHANGELOG_CONFIG) for table in TABLES]
    for sis_table, table in OWNER_TABLES.items():
        source = (meta or {}).get(topic_map.kafka(sis_table))
        count = len(getattr(source, "partitions", None) or {}) or partitions
        specs.append(TopicSpec(changelog_topic(app_id, table), count, CHANGELOG_CONFIG))
    return specs


def ensure_worker_topics(kafka: KafkaSettings, specs: Iterable[TopicSpec], timeout: float = 15.0) -> None:
    """Create the missing ones among ``specs`` (:func:`worker_topics`) before Faust starts, and wait until
    the cluster's metadata lists them: the one place the worker creates topics.

    Faust creates its agents' topics and its changelogs itself at start, a moment before its consumer's group
    assignment; on Apache Kafka the assignment could run on metadata that did not list the new topic yet
    ("Ignoring missing topic"), and the join then got no partition of ``edfi-stream.student-events`` until the
    consumer's next metadata refresh (``metadata_max_age_ms``, five minutes). Faust never declares the topics
    it only writes (the dead letters) and a metadata request of the egress for the identity changelog made a
    broker with ``auto.create.topics.enable`` create it with one partition: all made here first.
    """
    import time

    from streams.broker.admin import partitions_of

    specs = list(specs)
    groups: dict[tuple[int, tuple[tuple[str, str], ...]], list[str]] = {}
    for spec in specs:
        groups.setdefault((spec.partitions, tuple(sorted(spec.config.items()))), []).append(spec.name)
    try:
        for (partitions, config), names in groups.items():
            ensure_topics(admin_config(kafka), names, partitions, kafka.topic_replication_factor, dict(config))
    except RuntimeError as exc:  # e.g. no Create right: say so; Faust tries again and reports its own error
        logging.getLogger("edfi_stream.startup").warning(
            "start-up check: %s (grant Create on the cluster, or create the topic with %d partitions)",
            exc, kafka.topic_partitions)
        return
    wanted = {spec.name for spec in specs}
    deadline = time.monotonic() + timeout
    while {t for t, _ in partitions_of(admin_config(kafka), wanted)} != wanted and time.monotonic() < deadline:
        time.sleep(0.2)


def prepare_worker_topics(kafka: KafkaSettings, app_id: str, topic_map: TopicMap = DEFAULT_TOPICS) -> list[str]:
    """The worker's start-up: one metadata request answers :func:`topic_problems` for the configured SIS
    topics (``topics:``) and :func:`partition_problems` for its own, then :func:`ensure_worker_topics`.
    Returns the problems, one plain sentence each."""
    from streams.kafka.doctor import check_connection

    meta = check_connection(kafka)
    specs = worker_topics(kafka, app_id, topic_map, meta)
    problems = [*topic_problems(kafka, topic_map.inputs, meta=meta), *_spec_problems(meta, specs, kafka)]
    ensure_worker_topics(kafka, specs)
    return problems


def topic_problems(kafka: KafkaSettings, topics: Iterable[str], workers: int = 1,
                   meta: Mapping[str, Any] | None = None) -> list[str]:
    """What stands in the way of ``workers`` workers reading ``topics``, one plain sentence each (``meta``: the
    cluster's topics from :func:`streams.kafka.doctor.check_connection`, asked for when not given)."""
    if meta is None:
        from streams.kafka.doctor import check_connection

        meta = check_connection(kafka)
    unlisted = sorted(set(topics) - set(meta))
    if unlisted:
        # a cluster with an authorizer leaves the topics we may not describe out of a full listing; asked by name
        # it answers TOPIC_AUTHORIZATION_FAILED (also for a topic that does not exist: it never tells which)
        meta = {**meta, **_topics_by_name(kafka, unlisted)}
    problems: list[str] = []
    for name in sorted(set(topics)):
        topic = meta.get(name)
        if topic is None:
            problems.append(f"topic {name} does not exist: create it, or let `edfi-stream produce` or Debezium "
                            "create it (auto-creation may be off on this cluster)")
            continue
        error = getattr(topic, "error", None)
        if error is not None:
            if "AUTHORIZATION" in error.name():
                problems.append(f"topic {name}: the broker's ACLs do not let {_principal(kafka)} describe or read it "
                                "(grant Describe and Read on the topic, Read on the consumer group; Kafka gives the "
                                "same answer for a topic that does not exist)")
            else:
                problems.append(f"topic {name}: the broker answered {error.name()} ({error.str()})")
            continue
        if name != CONTROL_TOPIC and len(topic.partitions) < workers:
            problems.append(f"topic {name} has {len(topic.partitions)} partitions for {workers} workers: "
                            f"{workers - len(topic.partitions)} workers would stay idle (raise its partitions)")
    return problems


def _topics_by_name(kafka: KafkaSettings, names: Iterable[str]) -> dict[str, Any]:
    """What a full listing left out, asked by name with DescribeTopics (a metadata request by name could make
    a cluster with auto-creation on create the topic): absent when missing, an ``error`` when refused."""
    from types import SimpleNamespace

    from confluent_kafka import KafkaException, TopicCollection

    admin = AdminClient(admin_config(kafka))
    out: dict[str, Any] = {}
    for name, future in admin.describe_topics(TopicCollection(list(names)), request_timeout=10).items():
        try:
            out[name] = SimpleNamespace(error=None, partitions=future.result().partitions)
        except KafkaException as exc:
            error = exc.args[0] if exc.args else None
            if isinstance(error, KafkaError) and error.code() != KafkaError.UNKNOWN_TOPIC_OR_PART:
                out[name] = SimpleNamespace(error=error, partitions=[])
    return out


def _principal(kafka: KafkaSettings) -> str:
    """Who the broker's ACLs see: the SASL user, the client certificate's subject, else anonymous."""
    if kafka.security_protocol.startswith("SASL"):
        user, _ = kafka.sasl_credentials()
        return f"User:{user}" if user else "our SASL user"
    if kafka.ssl_certfile:
        return "the subject of kafka.sslCertfile"
    return "User:ANONYMOUS"


def partition_problems(topics: Mapping[str, Any], app_id: str, partitions: int) -> list[str]:
    """The worker's own keyed topics (:func:`worker_topics`: its keyed topics and its tables' changelogs, when
    they exist) whose partition count differs from what the worker wants: a table recovers changelog partition
    ``p`` for input partition ``p``, so a changelog with fewer partitions leaves the state of the others
    unrecovered (and one created by a broker's auto-creation has ``num.partitions``, usually 1)."""
    kafka = KafkaSettings(topic_partitions=partitions)
    return _spec_problems(topics, worker_topics(kafka, app_id, meta=topics), kafka)


def _spec_problems(topics: Mapping[str, Any], specs: Iterable[TopicSpec], kafka: KafkaSettings) -> list[str]:
    problems = []
    for spec in sorted(specs, key=lambda s: s.name):
        count = len(getattr(topics.get(spec.name), "partitions", None) or {})
        if spec.keyed and count and count != spec.partitions:
            wanted = (f"kafka.topicPartitions is {kafka.topic_partitions}" if spec.partitions == kafka.topic_partitions
                      else f"its SIS topic has {spec.partitions}")
            problems.append(f"topic {spec.name} has {count} partitions but {wanted}: the worker's state would be "
                            "split wrongly; set kafka.topicPartitions to match, or delete the topic while the "
                            "workers are stopped so that it is created again")
    return problems
