"""Every workaround for the embedded tansu broker, in one place, active only with ``kafka.broker: tansu``.

tansu 0.6 (the ``make demo`` broker, docs/operations.md) reports "first offset of the last batch + 1" as the high
watermark and holds every fetch for the whole fetch wait. Against it:

* ``kafka.oneRecordPerBatch``: every producer writes one record per batch, so end offsets are exact
  (librdkafka ``batch.num.messages=1``, Faust ``producer_max_batch_size=1``);
* ``kafka.fetchMaxWaitMs``: Faust's consumers wait that long at most (Faust hard-codes 1500 ms);
* :func:`streams.broker.admin.exact_end_offsets` reads end offsets off the records (LocalStack.wait_idle).

On Apache Kafka (``kafka.broker: kafka``, the default) every function here returns "no change".
"""

from __future__ import annotations

from typing import Any

from streams.config import KafkaSettings


def active(kafka: KafkaSettings) -> bool:
    return kafka.broker == "tansu"


def librdkafka_producer_overrides(kafka: KafkaSettings) -> dict[str, Any]:
    """librdkafka producer settings for tansu's high-watermark bug (empty on a real Kafka)."""
    return {"batch.num.messages": 1} if active(kafka) and kafka.one_record_per_batch else {}


def faust_app_overrides(kafka: KafkaSettings) -> dict[str, Any]:
    """faust.App keyword arguments for tansu's high-watermark bug (empty on a real Kafka)."""
    return {"producer_max_batch_size": 1} if active(kafka) and kafka.one_record_per_batch else {}


def fetch_max_wait_ms(kafka: KafkaSettings) -> int | None:
    """The fetch wait to force on Faust's consumers: tansu holds a fetch for the whole wait; None on Kafka."""
    return kafka.fetch_max_wait_ms if active(kafka) else None
