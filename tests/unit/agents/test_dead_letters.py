"""Issue 13, part 3: a dead letter keeps a bounded prefix of the original (with its size and hash), and the
dead-letter counter counts letters the broker acknowledged, not letters attempted."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import pytest

from agents.deadletter import DeadLetters, dead_letter_record
from agents.topics import DEAD_LETTERS
from agents.wire import Wire, decode_internal
from streams.errors import PoisonInput
from streams.observability import metrics


class Message:
    topic, partition, offset = "sis.students", 1, 42

    def __init__(self, key: bytes | None, value: bytes | None) -> None:
        self.key, self.value = key, value


class Topic:
    """Records what is sent; each send's acknowledgement succeeds or fails as the test says."""

    def __init__(self, fail: bool = False) -> None:
        self.sent: list[tuple[bytes, bytes]] = []
        self.fail = fail

    async def send(self, key: bytes, value: bytes) -> asyncio.Future[Any]:
        self.sent.append((key, value))
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self.fail:
            fut.set_exception(RuntimeError("MessageSizeTooLargeError"))
        else:
            fut.set_result("metadata")
        return fut


def letters_counted(stage: str, reason: str) -> float:
    return metrics.metrics_.dead_letters.labels(stage, reason)._value.get()


def test_a_large_value_is_kept_as_a_prefix_with_its_size_and_hash() -> None:
    value = b"v" * 2_000_000
    record = dead_letter_record(stage="decode", reason="oversized_value", detail="x", source_topic="sis.students",
                                key=b"k" * 10, value=value, max_bytes=1000)
    assert record["value"] == value[:1000] and record["valueSize"] == 2_000_000
    assert record["valueSha256"] == hashlib.sha256(value).hexdigest()
    assert record["key"] == b"k" * 10 and record["keySize"] == 10 and record["truncated"] is True
    small = dead_letter_record(stage="decode", reason="bad_json", detail="x", source_topic="t", value=b"{",
                               max_bytes=1000)
    assert small["value"] == b"{" and small["truncated"] is False


async def test_the_counter_counts_delivered_letters_only() -> None:
    good, bad = Topic(), Topic(fail=True)
    before = letters_counted("decode", "bad_json")
    sink = DeadLetters(good, Wire("avro"), max_bytes=512)
    fut = await sink.send(*sink.poison_letter("decode", PoisonInput("bad_json", "x"), Message(b"k", b"{")))
    await fut
    await asyncio.sleep(0)
    assert letters_counted("decode", "bad_json") == before + 1
    failing = DeadLetters(bad, Wire("avro"))
    with pytest.raises(RuntimeError):
        await failing.publish(*failing.poison_letter("decode", PoisonInput("bad_json", "x"), Message(b"k", b"{")))
    await asyncio.sleep(0)
    assert letters_counted("decode", "bad_json") == before + 1, "a refused letter is not counted"
    assert len(bad.sent) == 2, "a refused letter is tried once more without the original bytes"
    bare = decode_internal(DEAD_LETTERS, bad.sent[1][1])
    assert bare is not None and bare["value"] is None and bare["truncated"] is True


async def test_an_unexpected_exception_is_an_internal_error_letter_with_its_type() -> None:
    topic = Topic()
    sink = DeadLetters(topic, Wire("json"), max_bytes=4)
    await sink.publish(*sink.error_letter("rules", ZeroDivisionError("boom"), Message(b"key-bytes", b"12345678")))
    letter = decode_internal(DEAD_LETTERS, topic.sent[0][1])
    assert letter is not None
    assert (letter["reason"], letter["stage"]) == ("internal_error", "rules")
    assert letter["detail"].startswith("ZeroDivisionError")
    assert (letter["key"], letter["value"], letter["valueSize"]) == (b"key-", b"1234", 8)
    assert topic.sent[0][0] == b"sis.students:1:42"


async def test_the_log_line_names_the_letter_but_never_quotes_its_detail(caplog: pytest.LogCaptureFixture) -> None:
    """A letter's detail can quote student data (an Ed-Fi error naming a student): the worker's log shows the
    stage, the reason and where the input sits, and `edfi-stream errors` shows the rest."""
    detail = "studentUniqueId 'MARIA-LOPEZ-604821' is not found (firstName Maria)"
    sink = DeadLetters(Topic(), Wire("json"))
    with caplog.at_level("WARNING", logger="agents.deadletter"):
        await sink.publish(*sink.poison_letter("egress", PoisonInput("http_409", detail), Message(b"k", b"{}")))
    text = caplog.text
    assert "reason=http_409" in text and "sis.students:1:42" in text
    assert "MARIA" not in text and "Maria" not in text and "604821" not in text
