"""Dead-letter records: nothing is ever silently lost.

Every event that cannot be processed (undecodable bytes, a bad envelope, a write the Ed-Fi API rejects)
becomes one record on ``edfi-stream.dead-letters`` with the stage, the reason and the original bytes, so
that ``edfi-stream errors`` can show it and ``errors retry`` can send it again.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from agents.topics import DEAD_LETTERS
from agents.wire import encode_value
from streams.errors import PoisonInput
from streams.observability import metrics

log = logging.getLogger(__name__)


def dead_letter_record(
    *, stage: str, reason: str, detail: str, source_topic: str, partition: int | None = None,
    offset: int | None = None, key: bytes | None = None, value: bytes | None = None,
    status: int | None = None, edfi_error_type: str | None = None, edfi_error: Any = None,
    request: Any = None, school_id: int | None = None, assessment_identifier: str | None = None,
) -> dict[str, Any]:
    return {
        "stage": stage, "reason": reason, "detail": detail[:4000], "sourceTopic": source_topic,
        "partition": partition, "offset": offset, "key": key, "value": value, "status": status,
        "edfiErrorType": edfi_error_type,
        "edfiError": json.dumps(edfi_error) if edfi_error is not None else None,
        "request": json.dumps(request) if request is not None else None,
        "schoolId": school_id, "assessmentIdentifier": assessment_identifier,
        "tsMs": int(time.time() * 1000),
    }


async def publish(topic: Any, record: dict[str, Any], key: str) -> None:
    """Send one dead letter and wait for the broker's acknowledgement (the caller then acks its input)."""
    metrics.record_dead_letter(record["stage"], record["reason"])
    log.warning("dead letter stage=%s reason=%s topic=%s detail=%s", record["stage"], record["reason"],
                record["sourceTopic"], record["detail"][:300])
    fut = await topic.send(key=key.encode(), value=encode_value(DEAD_LETTERS, record))
    await fut


async def publish_undecodable(topic: Any, stage: str, exc: PoisonInput, message: Any) -> None:
    """Dead-letter an internal record that could not be decoded, with its coordinates as the key."""
    await publish(topic, dead_letter_record(
        stage=stage, reason=exc.reason, detail=str(exc), source_topic=message.topic,
        partition=message.partition, offset=message.offset, key=message.key, value=message.value,
    ), key=f"{message.topic}:{message.partition}:{message.offset}")


__all__ = ["dead_letter_record", "publish", "publish_undecodable"]
