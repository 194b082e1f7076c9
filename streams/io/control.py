"""Control events (contract section 2): turn a resource on or off for every worker, and read the current state."""

from __future__ import annotations

from streams.codec import Format, codec_for
from streams.config import KafkaSettings
from streams.errors import PoisonInput
from streams.io.produce import make_producer
from streams.io.topic_reader import read_latest
from streams.kafka.topics import ensure_product_topics
from streams.sis.events import parse_control
from streams.sis.rows import CONTROL_TOPIC


def publish_toggle(kafka: KafkaSettings, resource: str, enabled: bool, fmt: Format | None = None) -> None:
    ensure_product_topics(kafka, [CONTROL_TOPIC])
    codec = codec_for(CONTROL_TOPIC)
    fmt = fmt or kafka.value_format
    producer = make_producer(kafka)
    producer.produce(CONTROL_TOPIC, key=codec.encode_key({"resource": resource}, fmt=fmt),
                     value=codec.encode_value({"enabled": enabled}, fmt=fmt))
    if producer.flush(30):
        raise RuntimeError("the control event was not delivered within 30 s")


def read_toggle(kafka: KafkaSettings, resource: str, timeout: float = 10.0) -> bool | None:
    """Whether the latest control event turned ``resource`` on (True) or off (False); None if there is none
    (a resource is on until turned off). Unreadable control records are skipped, as the worker skips them."""
    codec = codec_for(CONTROL_TOPIC)
    state: bool | None = None
    for raw_key, latest in read_latest(kafka.confluent_config(), CONTROL_TOPIC, "edfi-stream-control-reader",
                                       timeout).items():
        try:
            event = parse_control(codec.decode_key(raw_key), codec.decode_value(latest.value))
        except PoisonInput:
            continue
        if event.resource == resource:
            state = event.enabled
    return state
