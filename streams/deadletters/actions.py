"""``errors retry`` and ``errors archive``.

Retry puts the original record back where it failed: an undecodable input goes back to its source topic
(useful after a fix upstream or in the product), a rejected Ed-Fi write goes back to the write-command
topic. Both then archive the dead letter (a tombstone for its key): a record that fails again comes back
as a new dead letter.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from confluent_kafka import Producer

from streams.codec import Format, codec_for
from streams.config import KafkaSettings
from streams.deadletters.log import DEAD_LETTERS, DeadLetter
from streams.io.produce import STALL_SECONDS, flush_while_progressing
from streams.kafka.clients import make_producer
from streams.topics import WRITE_COMMANDS


def _producer(kafka: KafkaSettings) -> Producer:
    # murmur2 like Faust/aiokafka (the factory's partitioner): a tombstone must land in the partition of the
    # dead letter it archives
    return make_producer(kafka, log_level=0)


def _deliver(producer: Producer, what: str) -> None:
    if remaining := flush_while_progressing(producer):
        raise RuntimeError(f"{remaining} {what} were not delivered: no delivery for {STALL_SECONDS:.0f} s")


def archive(letters: Iterable[DeadLetter], kafka: KafkaSettings) -> int:
    producer = _producer(kafka)
    count = 0
    for letter in letters:
        producer.produce(DEAD_LETTERS, key=letter.key.encode(), value=None)
        count += 1
    _deliver(producer, "archive tombstones")
    return count


def retry(letters: Iterable[DeadLetter], kafka: KafkaSettings, fmt: Format = "avro") -> tuple[int, list[str]]:
    """Re-send what can be re-sent; returns (count, reasons for those that cannot).

    The dead letters are archived *before* they are re-sent: a record that fails again must come back as a
    new dead letter, after the tombstone, not be hidden by it."""
    letters = list(letters)
    resendable = [d for d in letters if (d.record.get("stage") == "egress" and d.record.get("request"))
                  or (d.record.get("value") is not None and d.record.get("sourceTopic")
                      and not d.record.get("truncated"))]
    archive(resendable, kafka)
    producer = _producer(kafka)
    sent, skipped = 0, []
    for letter in letters:
        rec = letter.record
        if rec.get("stage") == "egress" and rec.get("request"):
            request = rec["request"] if isinstance(rec["request"], dict) else json.loads(rec["request"])
            command = {"action": request["method"], "resource": request.get("resource", "studentAssessments"),
                       "naturalKey": request["naturalKey"], "payload": request.get("body"),
                       "reason": f"retry of dead letter {letter.key}", "sourceTsMs": 0,
                       "schoolId": rec.get("schoolId"), "extra": "{}"}
            value = codec_for(WRITE_COMMANDS).encode_value(command, fmt=fmt)
            producer.produce(WRITE_COMMANDS, key=request["naturalKey"]["studentAssessmentIdentifier"].encode(),
                             value=value)
        elif rec.get("truncated") and rec.get("stage") != "egress":
            skipped.append(f"{letter.key}: the letter keeps only the first bytes of the original "
                           f"({rec.get('valueSize')} bytes, sha256 {str(rec.get('valueSha256'))[:12]}...)")
            continue
        elif rec.get("value") is not None and rec.get("sourceTopic"):
            producer.produce(str(rec["sourceTopic"]), key=rec.get("key"), value=rec["value"])
        else:
            skipped.append(f"{letter.key}: nothing to re-send")
            continue
        sent += 1
    _deliver(producer, "re-sent records")
    return sent, skipped
