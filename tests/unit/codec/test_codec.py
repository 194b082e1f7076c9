"""The codec: round trips for every schema in both formats, format detection, every DecodeError reason."""

from __future__ import annotations

import contextlib
import json
import struct
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import schemas
from streams.codec import (
    DEAD_LETTERS,
    STUDENT_EVENTS,
    WRITE_COMMANDS,
    Format,
    codec_for,
    to_python,
    to_wire,
)
from streams.errors import DecodeError
from streams.sample.district import sample_events
from streams.writes import Action, NaturalKey, WriteCommand

SIS_TOPICS = ["sis.students", "sis.staff", "sis.schools", "sis.calendars", "sis.enrollments", "sis.tests",
              "sis.test_scores"]


def _first(topic: str, op: str | None = None) -> dict[str, Any]:
    for event in sample_events():
        if event["topic"] == topic and event["value"] is not None and (op is None or event["value"]["op"] == op):
            return event
    raise AssertionError(f"no sample event for {topic} {op}")


def _command(action: Action = "POST") -> WriteCommand:
    key = NaturalKey("State Mathematics Assessment", "uri://ksde.org/Assessment/Assessment.xml",
                     "Math_7000000707_2024", "7000000707")
    payload = None if action == "DELETE" else {"studentAssessmentIdentifier": key.student_assessment_identifier,
                                                "scoreResults": [{"result": "301"}], "assessedMinutes": 0}
    return WriteCommand(action, key, payload, "score 5001 changed", 1_700_000_000_123,
                        1102, extra={"scoreIds": [5001, 5002]})


ROUTED = {"sourceTopic": "sis.test_scores", "key": 5001, "op": "u",
          "before": {"scoreID": 5001, "personID": 101, "testID": 1, "date": "2024-03-04"},
          "after": {"scoreID": 5001, "personID": 101, "testID": 1, "date": "2024-04-02"},
          "tsMs": 1_700_000_000_000, "seq": 17, "broadcast": False}
DEAD = {"stage": "egress", "reason": "rejected", "detail": "400 data policy", "sourceTopic": WRITE_COMMANDS,
        "partition": 2, "offset": 12345678901, "key": b"Math_1_2024", "value": b"\x00\x01\xffbinary",
        "status": 400, "edfiErrorType": "urn:ed-fi:api:bad-request:data-validation-failed",
        "edfiError": {"detail": "x", "errors": ["y"]}, "request": {"method": "POST", "path": "/x"},
        "schoolId": 1102, "assessmentIdentifier": "State Mathematics Assessment", "tsMs": 1_700_000_000_000,
        "keySize": 11, "valueSize": 9, "keySha256": "ab" * 32, "valueSha256": "cd" * 32, "truncated": False}


def test_every_topic_schema_has_an_id_and_parses() -> None:
    assert set(schemas.names()) == set(schemas.ids())
    assert len(set(schemas.ids().values())) == len(schemas.ids()), "schema ids must be unique"
    for topic in [*SIS_TOPICS, "edfi.control"]:
        assert f"{topic}-key" in schemas.ids() and f"{topic}-value" in schemas.ids()
    for topic in (STUDENT_EVENTS, WRITE_COMMANDS, DEAD_LETTERS):
        assert f"{topic}-value" in schemas.ids()
    for name in schemas.names():
        assert schemas.load(name)["type"] == "record"


@pytest.mark.parametrize("fmt", ["avro", "json"])
@pytest.mark.parametrize("topic", SIS_TOPICS)
@pytest.mark.parametrize("op", ["r", "u", "d"])
def test_sis_envelopes_round_trip(topic: str, fmt: Format, op: str) -> None:
    try:
        event = _first(topic, op)
    except AssertionError:
        event = _first(topic)
    codec = codec_for(topic)
    value_bytes = codec.encode_value(event["value"], fmt=fmt)
    key_bytes = codec.encode_key(event["key"], fmt=fmt)
    assert (value_bytes[0] == 0) == (fmt == "avro")
    assert codec.decode_value(value_bytes) == event["value"]
    assert codec.decode_key(key_bytes) == event["key"]


def test_every_sample_event_encodes_as_avro() -> None:
    for event in sample_events():
        codec = codec_for(event["topic"])
        if event["value"] is not None:
            assert codec.decode_value(codec.encode_value(event["value"])) == event["value"]
        assert codec.decode_key(codec.encode_key(event["key"])) == event["key"]


def test_confluent_header_is_magic_byte_and_big_endian_schema_id() -> None:
    data = codec_for("sis.test_scores").encode_value(_first("sis.test_scores")["value"])
    magic, schema_id = struct.unpack(">bI", data[:5])
    assert magic == 0 and schema_id == schemas.ids()["sis.test_scores-value"]


@pytest.mark.parametrize("fmt", ["avro", "json"])
def test_control_round_trip(fmt: Format) -> None:
    codec = codec_for("edfi.control")
    assert codec.decode_key(codec.encode_key({"resource": "studentAssessments"}, fmt=fmt)) == {
        "resource": "studentAssessments"}
    for enabled in (True, False):
        assert codec.decode_value(codec.encode_value({"enabled": enabled}, fmt=fmt)) == {
            "enabled": enabled}


@pytest.mark.parametrize("fmt", ["avro", "json"])
@pytest.mark.parametrize("action", ["POST", "PUT", "DELETE"])
def test_write_command_round_trip(fmt: Format, action: Action) -> None:
    cmd = _command(action)
    codec = codec_for(WRITE_COMMANDS)
    wire = codec.decode_value(codec.encode_value(cmd.to_dict(), fmt=fmt))
    assert wire is not None
    assert wire["payload"] is None or isinstance(wire["payload"], str)  # JSON text on the wire
    assert WriteCommand.from_dict(to_python(WRITE_COMMANDS, wire)) == cmd


@pytest.mark.parametrize("fmt", ["avro", "json"])
def test_routed_change_round_trip(fmt: Format) -> None:
    codec = codec_for(STUDENT_EVENTS)
    data = codec.encode_value(ROUTED, fmt=fmt)
    assert codec.decode_value_python(data) == ROUTED
    wire = codec.decode_value(data)
    assert wire is not None and json.loads(wire["after"]) == ROUTED["after"]
    # already-stringified fields (what agents/wire.py builds) are left as they are
    assert codec.decode_value(codec.encode_value(to_wire(STUDENT_EVENTS, ROUTED), fmt=fmt)) == wire


@pytest.mark.parametrize("fmt", ["avro", "json"])
def test_dead_letter_round_trip_keeps_raw_bytes(fmt: Format) -> None:
    codec = codec_for(DEAD_LETTERS)
    assert codec.decode_value_python(codec.encode_value(DEAD, fmt=fmt)) == DEAD
    minimal = {"stage": "decode", "reason": "bad_avro", "detail": "", "sourceTopic": "sis.tests",
               "tsMs": 1}
    decoded = codec.decode_value_python(codec.encode_value(minimal))
    assert decoded is not None and decoded["key"] is None and decoded["partition"] is None


def test_json_detection_tolerates_whitespace_and_null() -> None:
    codec = codec_for("sis.tests")
    assert codec.decode_value(b'  \n {"op": "c"}') == {"op": "c"}
    assert codec.decode_value(b"null") is None
    assert codec.decode_value(b" null ") is None
    assert codec.decode_value(None) is None          # a Kafka tombstone
    assert codec.decode_key(None) is None
    assert codec.decode_value(bytearray(b'{"a": 1}')) == {"a": 1}


def _reason(data: bytes, topic: str = "sis.test_scores") -> str:
    with pytest.raises(DecodeError) as info:
        codec_for(topic).decode_value(data)
    return info.value.reason


def test_decode_error_reasons() -> None:
    good = codec_for("sis.test_scores").encode_value(_first("sis.test_scores")["value"])
    other_topic = codec_for("sis.students").encode_value(_first("sis.students")["value"])
    assert _reason(b"") == "empty"
    assert _reason(b"\x00\x00\x00") == "bad_avro"                     # shorter than the header
    assert _reason(good[:-3]) == "bad_avro"                            # truncated body
    assert _reason(good + b"\x00\x00") == "bad_avro"                   # trailing bytes
    assert _reason(b"\x00" + struct.pack(">I", 999_999) + good[5:]) == "unknown_schema_id"
    assert _reason(other_topic) == "unknown_schema_id"                 # another topic's schema
    assert _reason(b"{not json") == "bad_json"
    assert _reason(b"\xff\xfe{}") == "bad_json"                        # not UTF-8
    assert _reason(b"[" * 100_000) == "bad_json"                       # nested too deeply
    assert _reason(b"[1, 2]") == "not_an_object"
    assert _reason(b"17") == "not_an_object"
    assert _reason(b'"text"') == "not_an_object"


def test_to_python_reports_damaged_json_text() -> None:
    with pytest.raises(DecodeError) as info:
        to_python(WRITE_COMMANDS, {"payload": "{broken"})
    assert info.value.reason == "bad_json"


def test_codec_is_cached_per_topic() -> None:
    assert codec_for("sis.tests") is codec_for("sis.tests")
    assert codec_for("sis.tests").value.schema is schemas.load("sis.tests-value")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_arbitrary_bytes_raise_only_decode_error(data: bytes) -> None:
    for topic in ("sis.test_scores", WRITE_COMMANDS):
        with contextlib.suppress(DecodeError):
            codec_for(topic).decode_value(data)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=5, max_value=200), st.integers(min_value=0, max_value=255))
def test_damaged_avro_raises_only_decode_error(position: int, byte: int) -> None:
    good = bytearray(codec_for("sis.enrollments").encode_value(_first("sis.enrollments")["value"]))
    good[position % len(good)] = byte
    with contextlib.suppress(DecodeError):
        codec_for("sis.enrollments").decode_value(bytes(good))
