"""The ODS acknowledgements of some records, read from the identity table's changelog.

Why: the identity table (studentAssessmentIdentifier -> ODS id and the payload hash the ODS acknowledged) is
partitioned by studentAssessmentIdentifier, like the write commands, while "Why?" is answered by the worker
holding the student's partition. With several workers a student's records sit in partitions held by others,
so their acknowledgements are read from the changelog: only the partitions of the keys asked for, up to the
end each had when reading began (the latest record per key wins; a tombstone removes it).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aiokafka.partitioner import murmur2

from streams.console.durable import json_value
from streams.io.topic_reader import read_to_end


def partition_of_key(key: bytes, partitions: int) -> int:
    """The partition the worker's producer gives ``key`` (Kafka's murmur2, as aiokafka's default partitioner)."""
    return int((murmur2(key) & 0x7FFFFFFF) % partitions)


def read_acknowledgements(kafka_config: dict[str, Any], topic: str, keys: Iterable[bytes], partitions: int,
                          group_id: str = "edfi-stream-console-identity", timeout: float = 10.0
                          ) -> dict[bytes, dict[str, Any]]:
    """The latest identity entry of each of ``keys`` found in ``topic`` (absent: never acknowledged, or
    removed). Offsets are not committed."""
    wanted = set(keys)
    if not wanted:
        return {}
    found: dict[bytes, dict[str, Any]] = {}
    for msg in read_to_end(kafka_config, topic, group_id, timeout,
                           partitions={partition_of_key(k, partitions) for k in wanted}):
        key = msg.key() or b""
        if key in wanted:
            entry = json_value(msg.value())
            if isinstance(entry, dict):
                found[key] = entry
            else:
                found.pop(key, None)
    return found
