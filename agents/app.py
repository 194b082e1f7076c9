"""The Faust application: settings to faust.App, topics and changelog-backed tables.

Everything Faust-specific about *configuration* lives here; the agents (ingest, join, egress, control)
are thin wiring in their own modules and are attached by :func:`agents.worker.build_worker`.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any

import faust

from agents.faust_tuning import set_fetch_max_wait_ms
from agents.topics import (
    CONTROL_TOPIC,
    DEAD_LETTERS,
    INPUT_TOPICS,
    STUDENT_EVENTS,
    WRITE_COMMANDS,
)
from streams.config import KafkaSettings, Settings


def broker_credentials(kafka: KafkaSettings) -> Any:
    """SASL/TLS credentials for aiokafka (Faust's client) from the settings and the environment."""
    context: ssl.SSLContext | None = None
    if kafka.security_protocol in ("SSL", "SASL_SSL"):
        context = ssl.create_default_context(cafile=kafka.ssl_cafile)
        if kafka.ssl_certfile:
            import os

            context.load_cert_chain(kafka.ssl_certfile, kafka.ssl_keyfile,
                                    os.environ.get(kafka.ssl_key_password_env))
    if kafka.security_protocol.startswith("SASL"):
        user, password = kafka.sasl_credentials()
        return faust.SASLCredentials(username=user, password=password, ssl_context=context,
                                     mechanism=kafka.sasl_mechanism or "PLAIN")
    if context is not None:
        return faust.SSLCredentials(context)
    return None


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


def create_app(settings: Settings) -> FaustParts:
    kafka = settings.kafka
    set_fetch_max_wait_ms(kafka.fetch_max_wait_ms)
    extra: dict[str, Any] = {}
    if kafka.one_record_per_batch:
        # tansu high-watermark bug workaround (docs/operations.md): one record per produce batch.
        extra["producer_max_batch_size"] = 1
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
        stream_wait_empty=False,
        # at-least-once with idempotent effects: exactly-once is unavailable on the embedded broker and
        # our effects (Ed-Fi upserts keyed by natural key) are idempotent anyway.
        processing_guarantee="at_least_once",
        **extra,
    )
    inputs = app.topic(*INPUT_TOPICS, key_type=bytes, value_type=bytes, allow_empty=True)
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
    identity = app.Table("identity", partitions=partitions, key_type=bytes, value_type=bytes,
                         use_partitioner=True,
                         help="studentAssessmentIdentifier -> ODS id and last acknowledged payload hash")

    return FaustParts(
        app=app, inputs=inputs, control=control, student_events=student_events,
        write_commands=write_commands, dead_letters=dead_letters,
        students=table("students", "personID -> the student's SIS rows (student, enrollments, scores)",
                       compact=True),
        sent=table("sent", "personID -> studentAssessmentIdentifier -> what the rules last emitted", compact=True),
        reference=table("reference", "partition|topic|id -> reference row (tests, schools, calendars, staff)"),
        identity=identity,
        partitions=partitions,
    )
