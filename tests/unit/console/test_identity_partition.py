"""The console finds a record's acknowledgement in the identity changelog partition the worker's producer
chose: Kafka's murmur2 (Java ``Utils.murmur2`` test vectors) made positive, modulo the partitions."""

from __future__ import annotations

import pytest

from streams.console.identity import partition_of_key, read_acknowledgements

JAVA_MURMUR2 = {b"21": -973932308, b"foobar": -790332482, b"a-little-bit-long-string": -985981536,
                b"abc": 479470107}


@pytest.mark.parametrize("key", sorted(JAVA_MURMUR2))
@pytest.mark.parametrize("partitions", [1, 4, 12])
def test_the_partition_is_the_java_clients(key: bytes, partitions: int) -> None:
    assert partition_of_key(key, partitions) == (JAVA_MURMUR2[key] & 0x7FFFFFFF) % partitions


def test_no_keys_reads_nothing() -> None:
    assert read_acknowledgements({"bootstrap.servers": "127.0.0.1:1"}, "t", [], 4) == {}
