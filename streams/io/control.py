"""Publish a control event (contract section 2): turn a resource on or off for every worker."""

from __future__ import annotations

from streams.broker.admin import ensure_topics
from streams.codec import Format, codec_for
from streams.config import KafkaSettings
from streams.io.produce import make_producer
from streams.sis.rows import CONTROL_TOPIC


def publish_toggle(kafka: KafkaSettings, resource: str, enabled: bool, fmt: Format | None = None) -> None:
    ensure_topics(kafka.confluent_config(), [CONTROL_TOPIC], 1)
    codec = codec_for(CONTROL_TOPIC)
    fmt = fmt or kafka.value_format
    producer = make_producer(kafka)
    producer.produce(CONTROL_TOPIC, key=codec.encode_key({"resource": resource}, fmt=fmt),
                     value=codec.encode_value({"enabled": enabled}, fmt=fmt))
    if producer.flush(30):
        raise RuntimeError("the control event was not delivered within 30 s")
