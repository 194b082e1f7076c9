"""Archived dead letters: the last record of each key of the dead-letter topic whose latest record is a
tombstone (``errors archive``, or a retry). They leave the error log but stay findable in the console."""

from __future__ import annotations

from typing import Any

from streams.deadletters.log import DEAD_LETTERS, DeadLetter, letter_of
from streams.io.topic_reader import read_latest


def read_archived_letters(kafka_config: dict[str, Any], timeout: float = 10.0) -> list[DeadLetter]:
    out = []
    for raw_key, latest in read_latest(kafka_config, DEAD_LETTERS, "edfi-stream-errors-reader", timeout).items():
        before = latest.previous
        if latest.value is None and before is not None and before.value is not None:
            out.append(letter_of(raw_key, before.partition, before.offset, before.value))
    return out
