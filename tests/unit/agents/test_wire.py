"""Issue 17, part 2 and issue 13, part 3: internal records are converted by the codec only (every failure is
a DecodeError), no format global, and integers are range-checked to 64 bits before anything is Avro."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agents.ingest import repartitioned
from agents.topics import STUDENT_EVENTS, WRITE_COMMANDS
from agents.wire import Wire, change_from_routed, command_from_record, command_to_record, decode_internal
from streams.codec import codec_for
from streams.errors import PoisonInput
from streams.writes import NaturalKey, WriteCommand

ROW = {"personID": 7, "stateID": "S7"}
CMD = WriteCommand("POST", NaturalKey("A", "uri://x", "K_S7_2024", "S7"), {"b": [1, 2]}, "new", 5, 3)


class Message:
    def __init__(self, topic: str, key: bytes | None, value: bytes | None) -> None:
        self.topic, self.key, self.value, self.partition, self.offset = topic, key, value, 0, 0


class Parts:
    partitions = 3
    max_value_bytes = 100_000

    def __init__(self, fmt: Any = "avro") -> None:
        self.wire = Wire(fmt)


def test_each_wire_keeps_its_own_format() -> None:
    avro, text = Wire("avro"), Wire("json")
    record = command_to_record(CMD)
    assert avro.encode_value(WRITE_COMMANDS, record)[:1] == b"\x00"  # type: ignore[index]
    assert json.loads(text.encode_value(WRITE_COMMANDS, record) or b"")["payload"] == '{"b":[1,2]}'
    for data in (avro.encode_value(WRITE_COMMANDS, record), text.encode_value(WRITE_COMMANDS, record)):
        assert command_from_record(decode_internal(WRITE_COMMANDS, data) or {}) == CMD


@pytest.mark.parametrize("damage", [
    {"payload": "{not json"}, {"extra": "[1]"}, {"payload": "1" * 5000}, {"naturalKey": None}])
def test_a_damaged_write_command_is_poison_not_a_crash(damage: dict[str, Any]) -> None:
    wire = codec_for(WRITE_COMMANDS).encode_value({**CMD.to_dict(), "payload": json.dumps(CMD.payload),
                                                    "extra": "{}", **damage}, fmt="json")
    with pytest.raises(PoisonInput):
        command_from_record(decode_internal(WRITE_COMMANDS, wire) or {})


@pytest.mark.parametrize("record", [
    {"sourceTopic": "sis.students", "key": 7, "op": "c", "after": '{"personID": 7', "tsMs": 1},
    {"sourceTopic": "sis.students", "key": 7, "op": "c", "after": "[1]", "tsMs": 1},
    {"key": 7, "op": "c", "after": json.dumps(ROW), "tsMs": 1},
    {"sourceTopic": "sis.nothing", "key": 7, "op": "c", "after": json.dumps(ROW), "tsMs": 1},
    {"sourceTopic": ["sis.students"], "key": 7, "op": "c", "after": json.dumps(ROW), "tsMs": 1},
    {"sourceTopic": {}, "key": None, "op": "c", "after": json.dumps(ROW), "tsMs": 1}])
def test_a_damaged_repartition_record_is_a_decode_error(record: dict[str, Any]) -> None:
    data = json.dumps(record).encode()
    with pytest.raises(PoisonInput) as raised:
        change_from_routed(decode_internal(STUDENT_EVENTS, data) or {})
    assert not isinstance(raised.value.__cause__, TypeError)


def envelope(**fields: Any) -> dict[str, Any]:
    return {"op": "c", "before": None, "after": dict(ROW), "ts_ms": 1, **fields}


@pytest.mark.parametrize(("value", "reason"), [
    (json.dumps(envelope(ts_ms=2**70)).encode(), "out_of_range"),
    (b'{"op":"c","after":{"personID":7,"stateID":"S"},"ts_ms":' + b"9" * 5000 + b"}", "bad_json"),
    (json.dumps(envelope(after={"personID": "\u00b2", "stateID": "S"})).encode(), "bad_field"),
    (json.dumps(envelope(after={"personID": 2**70, "stateID": "S"})).encode(), "out_of_range"),
    (json.dumps(envelope(after={"personID": "99999999999999999999", "stateID": "S"})).encode(), "bad_field"),
    (json.dumps(envelope(after={**ROW, "extra": "x" * 200_000})).encode(), "oversized_record"),
])
def test_integers_and_sizes_are_checked_before_avro(value: bytes, reason: str) -> None:
    with pytest.raises(PoisonInput) as raised:
        repartitioned(Parts(), Message("sis.students", None, value))  # type: ignore[arg-type]
    assert raised.value.reason == reason


def test_a_key_of_2_to_the_70_is_out_of_range() -> None:
    message = Message("sis.students", json.dumps({"personID": 2**70}).encode(), json.dumps(envelope()).encode())
    with pytest.raises(PoisonInput) as raised:
        repartitioned(Parts(), message)  # type: ignore[arg-type]
    assert raised.value.reason == "out_of_range"


def test_a_good_record_is_repartitioned_in_the_configured_format() -> None:
    out = repartitioned(Parts("json"), Message("sis.students", None, json.dumps(envelope()).encode()))  # type: ignore[arg-type]
    assert out is not None and len(out) == 1
    key, data, _ = out[0]
    assert key == b"7" and json.loads(data)["after"] == json.dumps(ROW, sort_keys=True, separators=(",", ":"))
    change = change_from_routed(decode_internal(STUDENT_EVENTS, data) or {})
    assert change.key == 7 and change.after is not None


def test_avro_refuses_a_long_beyond_64_bits_with_a_value_error() -> None:
    record = {"sourceTopic": "sis.students", "key": 2**70, "op": "c", "before": None, "after": "{}", "tsMs": 1,
              "seq": None, "broadcast": False}
    with pytest.raises(ValueError, match="64 bits"):
        codec_for(STUDENT_EVENTS).encode_value(record)
