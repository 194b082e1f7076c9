"""The Faust application: settings to faust.App, topics and changelog-backed tables.

Everything Faust-specific about *configuration* lives here; the agents (ingest, join, egress, control)
are thin wiring in their own modules and are attached by :func:`agents.worker.build_worker`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any

import faust

from agents.deadletter import DeadLetters
from agents.fixups import gap_check, seek_start
from agents.fixups.fetch_wait import set_fetch_max_wait_ms
from agents.ownership import OwnershipFence, attach_fence
from agents.topics import (
    CONTROL_TOPIC,
    DEAD_LETTERS,
    STUDENT_EVENTS,
    WRITE_COMMANDS,
)
from agents.wire import Wire
from streams.broker.admin import record_offsets
from streams.config import KafkaSettings, Settings
from streams.kafka import clients, tansu
from streams.topics import IDENTITY_TABLE, REFERENCE_TABLE, SENT_TABLE, STUDENTS_TABLE


def broker_credentials(kafka: KafkaSettings) -> Any:
    """SASL/TLS credentials for aiokafka (Faust's client) from the settings and the environment."""
    return clients.faust_credentials(kafka)


@dataclass
class FaustParts:
    app: faust.App
    inputs: faust.TopicT
    control: faust.TopicT
    student_events: faust.TopicT
    write_commands: faust.TopicT
    dead_letters: faust.TopicT
    students: Any  # faust Tables (typed loosely: faust's stubs disagree with its runtime types)
    sent: Any
    reference: Any
    identity: Any
    partitions: int
    wire: Wire                 # what the worker produces, in the configured format
    letters: DeadLetters       # the dead-letter producer (byte-limited originals)
    max_value_bytes: int       # worker.maxValueBytes: no internal record or table value is larger
    batch_max_events: int = 500         # worker.batchMaxEvents: the most records a hop takes at a time
    batch_max_wait_seconds: float = 0.01  # worker.batchMaxWaitMs / 1000: when a batch closes, if not full
    fence: OwnershipFence = field(default_factory=OwnershipFence)  # one partition, one worker at a time


def create_app(settings: Settings) -> FaustParts:
    kafka = settings.kafka
    seek_start.install()  # a partition never committed (or committed at 0) is sought to its log start
    # Faust records a gap in a partition's offsets only where the broker holds no record
    gap_check.install(partial(record_offsets, clients.admin_config(kafka)))
    fetch_wait = tansu.fetch_max_wait_ms(kafka)
    if fetch_wait is not None:
        set_fetch_max_wait_ms(fetch_wait)
    # tansu's high-watermark workaround (docs/operations.md); nothing on a real Kafka
    extra: dict[str, Any] = tansu.faust_app_overrides(kafka)
    if settings.worker.advertised_url:
        extra["canonical_url"] = settings.worker.advertised_url
    creds = broker_credentials(kafka)
    if creds is not None:
        extra["broker_credentials"] = creds
    partitions = kafka.topic_partitions
    app = faust.App(
        settings.worker.app_id,
        broker=[f"kafka://{host}" for host in kafka.bootstrap_servers.split(",")],
        store=settings.worker.store,
        datadir=settings.worker.data_dir,
        topic_partitions=partitions,
        topic_replication_factor=kafka.topic_replication_factor,
        broker_session_timeout=kafka.session_timeout_ms / 1000,
        broker_heartbeat_interval=kafka.heartbeat_interval_ms / 1000,
        broker_client_id=kafka.client_id,
        consumer_auto_offset_reset="earliest",
        key_serializer="raw",
        value_serializer="raw",
        web_enabled=True,
        web_host=settings.worker.web_host,
        web_port=settings.worker.web_port,
        web_bind=settings.worker.web_host,
        # Faust's own views would show table rows (student data) and the cluster's layout to anyone who
        # reaches the port: all off (docs/security.md); our views are in agents/web.py behind authentication
        web_tables_enabled=False,
        web_router_enabled=False,
        web_graph_enabled=False,
        web_stats_enabled=False,
        stream_wait_empty=False,
        # at-least-once with idempotent effects: exactly-once is unavailable on the embedded broker and
        # our effects (Ed-Fi upserts keyed by natural key) are idempotent anyway.
        processing_guarantee="at_least_once",
        **extra,
    )
    # the SIS topics under their Kafka names (``topics:``; default the contract's, INPUT_TOPICS)
    inputs = app.topic(*settings.topic_map().inputs, key_type=bytes, value_type=bytes, allow_empty=True)
    control = app.topic(CONTROL_TOPIC, key_type=bytes, value_type=bytes, allow_empty=True)
    student_events = app.topic(STUDENT_EVENTS, partitions=partitions, internal=True,
                               key_type=bytes, value_type=bytes)
    write_commands = app.topic(WRITE_COMMANDS, partitions=partitions, internal=True,
                               key_type=bytes, value_type=bytes)
    dead_letters = app.topic(DEAD_LETTERS, partitions=1, internal=True, key_type=bytes, value_type=bytes)

    def table(name: str, help_text: str, compact: bool = False) -> Any:
        # no key/value types: a typed value would be treated as a Faust Record on recovery. ``compact``:
        # values are our own compact JSON bytes (agents/table_values.py), kept as one bytes object each
        # instead of a tree of dicts (a third of the memory per student)
        if compact:
            return app.Table(name, partitions=partitions, value_type=bytes, help=help_text)
        return app.Table(name, partitions=partitions, help=help_text)

    # The identity map is written when the Ed-Fi API answers, outside any stream event, so its changelog
    # partition comes from the key: raw bytes keys (the studentAssessmentIdentifier, exactly as on the
    # write-command topic) put each entry in the same partition as the record's commands.
    # Values are compact JSON bytes like the join's tables (a third of a decoded dict's memory).
    identity = app.Table(IDENTITY_TABLE, partitions=partitions, key_type=bytes, value_type=bytes,
                         use_partitioner=True,
                         help="studentAssessmentIdentifier -> ODS id and last acknowledged payload hash")

    wire = Wire(kafka.value_format)
    # a rebalance waits for the batches and writes under way (at most edfi.drainTimeoutSeconds), and what a
    # partition given away still holds is left to its new owner (agents/ownership.py)
    fence = OwnershipFence(settings.edfi.drain_timeout_seconds)
    attach_fence(app, fence)
    return FaustParts(
        app=app, inputs=inputs, control=control, student_events=student_events,
        write_commands=write_commands, dead_letters=dead_letters,
        students=table(STUDENTS_TABLE, "personID -> the student's SIS rows (student, enrollments, scores)",
                       compact=True),
        sent=table(SENT_TABLE, "personID -> studentAssessmentIdentifier -> what the rules last emitted", compact=True),
        reference=table(REFERENCE_TABLE, "partition|topic|id -> reference row (tests, schools, calendars, staff)"),
        identity=identity,
        partitions=partitions,
        wire=wire,
        letters=DeadLetters(dead_letters, wire, settings.worker.dead_letter_max_bytes),
        max_value_bytes=settings.worker.max_value_bytes,
        batch_max_events=settings.worker.batch_max_events,
        batch_max_wait_seconds=settings.worker.batch_max_wait_ms / 1000,
        fence=fence,
    )
