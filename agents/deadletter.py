"""Dead-letter records: nothing is ever silently lost.

Every event that cannot be processed (undecodable bytes, a bad envelope, a write the Ed-Fi API rejects, an
unexpected exception while processing it) becomes one record on ``edfi-stream.dead-letters`` with the
stage, the reason and the original bytes, so that ``edfi-stream errors`` can show it and ``errors retry``
can send it again.

A dead letter keeps at most ``worker.deadLetterMaxBytes`` of the original key and of the value (an input
of several MB must not make a letter the broker refuses), with the original sizes and SHA-256 digests;
``truncated`` says that the kept bytes are a prefix (such a letter cannot be retried). The dead-letter
counter counts letters the broker acknowledged, not letters attempted.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import traceback
from collections.abc import Awaitable
from typing import Any

from agents.topics import DEAD_LETTERS
from agents.wire import Wire
from streams.errors import PoisonInput
from streams.observability import metrics

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 64 * 1024
DETAIL_MAX_CHARS = 4000


def _clip(data: bytes | None, max_bytes: int) -> tuple[bytes | None, int | None, str | None, bool]:
    """(kept prefix, original size, sha256 hex, truncated) of one side of the original record."""
    if data is None:
        return None, None, None, False
    data = bytes(data)
    return data[:max_bytes], len(data), hashlib.sha256(data).hexdigest(), len(data) > max_bytes


def _text(value: Any, max_chars: int) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= max_chars else text[:max_chars] + "...(truncated)"


def dead_letter_record(
    *, stage: str, reason: str, detail: str, source_topic: str, partition: int | None = None,
    offset: int | None = None, key: bytes | None = None, value: bytes | None = None,
    status: int | None = None, edfi_error_type: str | None = None, edfi_error: Any = None,
    request: Any = None, school_id: int | None = None, assessment_identifier: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> dict[str, Any]:
    kept_key, key_size, key_hash, key_cut = _clip(key, max_bytes)
    kept_value, value_size, value_hash, value_cut = _clip(value, max_bytes)
    return {
        "stage": stage, "reason": reason, "detail": detail[:DETAIL_MAX_CHARS], "sourceTopic": source_topic,
        "partition": partition, "offset": offset, "key": kept_key, "value": kept_value, "status": status,
        "edfiErrorType": edfi_error_type,
        "edfiError": _text(edfi_error, max_bytes),
        "request": json.dumps(request) if request is not None else None,
        "schoolId": school_id, "assessmentIdentifier": assessment_identifier,
        "tsMs": int(time.time() * 1000),
        "keySize": key_size, "valueSize": value_size, "keySha256": key_hash, "valueSha256": value_hash,
        "truncated": key_cut or value_cut,
    }


def _counted(fut: Any, stage: str, reason: str) -> Any:
    def delivered(done: Any) -> None:
        if not done.cancelled() and done.exception() is None:
            metrics.record_dead_letter(stage, reason)
    fut.add_done_callback(delivered)
    return fut


class DeadLetters:
    """The worker's dead-letter producer: the topic, the format and the byte limit of the kept originals."""

    def __init__(self, topic: Any, wire: Wire, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.topic = topic
        self.wire = wire
        self.max_bytes = max_bytes

    def record(self, **fields: Any) -> dict[str, Any]:
        """:func:`dead_letter_record` with this worker's byte limit."""
        return dead_letter_record(max_bytes=self.max_bytes, **fields)

    def for_message(self, stage: str, reason: str, detail: str, message: Any) -> tuple[dict[str, Any], str]:
        """The letter of one input message (its coordinates are the letter's key)."""
        return self.record(stage=stage, reason=reason, detail=detail, source_topic=message.topic,
                           partition=message.partition, offset=message.offset, key=message.key,
                           value=message.value), f"{message.topic}:{message.partition}:{message.offset}"

    async def send(self, record: dict[str, Any], key: str) -> Awaitable[Any]:
        """Queue one letter; the returned future is the broker's acknowledgement (counted when it comes)."""
        # coordinates and reason only: a letter's detail can quote student data (an Ed-Fi error naming a
        # studentUniqueId, a column's value); `edfi-stream errors` shows it to whoever may read the log
        log.warning("dead letter stage=%s reason=%s at=%s (detail: edfi-stream errors)", record["stage"],
                    record["reason"], key)
        fut = await self.topic.send(key=key.encode(), value=self.wire.encode_value(DEAD_LETTERS, record))
        return _counted(fut, record["stage"], record["reason"])  # type: ignore[no-any-return]

    async def publish(self, record: dict[str, Any], key: str) -> None:
        """Send one letter and wait for the broker's acknowledgement (the caller then acks its input). A
        letter the broker refuses (too large for it) is sent again without the original bytes."""
        try:
            await (await self.send(record, key))
        except Exception as exc:
            log.error("dead letter refused by the broker (%s): sending it without the original bytes",
                      type(exc).__name__)
            bare = {**record, "key": None, "value": None, "request": None, "edfiError": None, "truncated": True,
                    "detail": f"{record['detail'][:500]} (the full letter was refused: {type(exc).__name__})"}
            await (await self.send(bare, key))

    def poison_letter(self, stage: str, exc: PoisonInput, message: Any) -> tuple[dict[str, Any], str]:
        """The letter of an input that cannot be used (its reason is the PoisonInput's)."""
        return self.for_message(stage, exc.reason, exc.detail or str(exc), message)

    def error_letter(self, stage: str, exc: BaseException, message: Any) -> tuple[dict[str, Any], str]:
        """The letter of an input whose processing raised an unexpected exception (a bug, or a case the
        code does not know): ``internal_error`` with the exception type, so that the worker goes on."""
        # the frames, not the message: an exception's text can quote student data (the letter keeps it)
        log.error("unexpected %s processing %s[%s]@%s (dead-lettered as internal_error)\n%s", type(exc).__name__,
                  message.topic, message.partition, message.offset,
                  "".join(traceback.format_tb(exc.__traceback__)))
        return self.for_message(stage, "internal_error", f"{type(exc).__name__}: {exc}", message)


__all__ = ["DEFAULT_MAX_BYTES", "DeadLetters", "dead_letter_record"]
