"""Bytes on a topic <-> Python records: Avro in the Confluent wire format, or plain JSON.

Input topics accept both, per record: a value starting with the magic byte 0 is Confluent-framed Avro
(magic byte, 4-byte big-endian schema id, Avro binary); anything else is read as JSON (``{...}`` or
``null``). Whatever cannot be decoded raises :class:`streams.errors.DecodeError` with a reason (``empty``,
``bad_avro``, ``unknown_schema_id``, ``bad_json``, ``not_an_object``) and never any other exception, so
the caller can dead-letter it and go on. A tombstone (``None``) decodes to ``None``.

Without a schema registry the schema ids are the fixed ones of ``schemas/ids.json``.

Internal records (write commands, repartitioned changes, dead letters) carry open-ended JSON (an Ed-Fi
body, a SIS row) as JSON *text* inside the record, so one Avro schema fits every shape. The codec
stringifies such fields on encode (dicts are accepted), and decode returns the wire form (strings);
:func:`to_python` turns a decoded record back into the Python form (dicts, and bytes for dead letters).
Both formats decode to the same wire form, so callers never care which format a record came in.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import struct
from collections.abc import Mapping
from functools import cache
from typing import Any, Literal

import fastavro

import schemas
from streams.errors import DecodeError
from streams.topics import DEAD_LETTERS, STUDENT_EVENTS, WRITE_COMMANDS

MAGIC = 0
Format = Literal["avro", "json"]
Bytes = bytes | bytearray | memoryview
_HEADER = struct.Struct(">bI")


# Fields that hold JSON text on the wire, per internal topic (see the module docstring).
JSON_TEXT_FIELDS: dict[str, tuple[str, ...]] = {
    WRITE_COMMANDS: ("payload", "extra"),
    STUDENT_EVENTS: ("before", "after"),
    DEAD_LETTERS: ("edfiError", "request"),
}
# Bytes fields: raw in Avro, base64 text in JSON.
BYTES_FIELDS: dict[str, tuple[str, ...]] = {DEAD_LETTERS: ("key", "value")}


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def to_wire(topic: str, record: Mapping[str, Any]) -> dict[str, Any]:
    """The wire form of an internal record: JSON-text fields as strings (already-strings stay as they are)."""
    out = dict(record)
    for name in JSON_TEXT_FIELDS.get(topic, ()):
        value = out.get(name)
        if value is not None and not isinstance(value, str):
            # sort_keys: the same body always gives the same bytes (stable payload comparison downstream)
            out[name] = json.dumps(value, sort_keys=True, separators=(",", ":"), default=_json_default)
    return out


def to_python(topic: str, record: Mapping[str, Any]) -> dict[str, Any]:
    """Inverse of :func:`to_wire` for a decoded record; raises DecodeError("bad_json") on damaged text."""
    out = dict(record)
    for name in JSON_TEXT_FIELDS.get(topic, ()):
        value = out.get(name)
        if isinstance(value, str):
            try:
                out[name] = json.loads(value)
            except (ValueError, RecursionError) as exc:
                raise DecodeError("bad_json", f"{topic}: field '{name}' is not JSON text") from exc
    for name in BYTES_FIELDS.get(topic, ()):
        value = out.get(name)
        if isinstance(value, str):
            try:
                out[name] = base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise DecodeError("bad_json", f"{topic}: field '{name}' is not base64") from exc
    return out


def _as_bytes(data: Any) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, bytearray | memoryview):
        return bytes(data)
    if isinstance(data, str):
        return data.encode("utf-8")
    raise DecodeError("bad_json", f"expected bytes, got {type(data).__name__}")


class _Side:
    """Encoder/decoder of one side (key or value) of one topic; the parsed schema is cached per side."""

    def __init__(self, topic: str, side: Literal["key", "value"]) -> None:
        self.topic = topic
        self.name = f"{topic}-{side}"
        all_ids = schemas.ids()
        self.schema_id: int | None = all_ids.get(self.name)
        self.schema: Any = schemas.load(self.name) if self.schema_id is not None else None
        self._known_ids = set(all_ids.values())
        self._convert = side == "value" and topic in JSON_TEXT_FIELDS

    def encode(self, obj: Any, fmt: Format) -> bytes:
        if self._convert and isinstance(obj, Mapping):
            obj = to_wire(self.topic, obj)
        if fmt == "json" or self.schema is None:
            return json.dumps(obj, separators=(",", ":"), default=_json_default).encode()
        if fmt != "avro":
            raise ValueError(f"unknown format {fmt!r}")
        buffer = io.BytesIO()
        buffer.write(_HEADER.pack(MAGIC, self.schema_id))
        try:
            fastavro.schemaless_writer(buffer, self.schema, obj)
        except OverflowError as exc:  # an int beyond an Avro long (parsing refuses them first: out_of_range)
            raise ValueError(f"{self.name}: an integer does not fit in 64 bits") from exc
        return buffer.getvalue()

    def decode(self, data: Bytes | None) -> dict[str, Any] | None:
        if data is None:
            return None
        data = _as_bytes(data)
        if not data:
            raise DecodeError("empty", f"{self.name}: zero bytes")
        if data[0] == MAGIC:
            return self._decode_avro(data)
        return self._decode_json(data)

    def _decode_avro(self, data: bytes) -> dict[str, Any]:
        if len(data) < 5:
            raise DecodeError("bad_avro", f"{self.name}: {len(data)} bytes is too short for the wire format")
        (schema_id,) = struct.unpack_from(">I", data, 1)
        if schema_id != self.schema_id:
            known = "another topic's" if schema_id in self._known_ids else "an unknown"
            raise DecodeError("unknown_schema_id", f"{self.name}: schema id {schema_id} is {known} schema")
        stream = io.BytesIO(data)
        stream.seek(5)
        try:
            record = fastavro.schemaless_reader(stream, self.schema, None)
        except Exception as exc:  # fastavro raises many types on damaged input: all mean "bad Avro"
            raise DecodeError("bad_avro", f"{self.name}: {type(exc).__name__}: {exc}") from exc
        if stream.tell() != len(data):
            raise DecodeError("bad_avro", f"{self.name}: {len(data) - stream.tell()} trailing bytes")
        if not isinstance(record, dict):
            raise DecodeError("not_an_object", f"{self.name}: Avro value is not a record")
        return record

    def _decode_json(self, data: bytes) -> dict[str, Any] | None:
        try:
            value = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DecodeError("bad_json", f"{self.name}: {exc}") from exc
        except ValueError as exc:  # an integer of more digits than Python converts (4,300 by default)
            raise DecodeError("bad_json", f"{self.name}: {str(exc)[:120]}") from exc
        except RecursionError as exc:
            raise DecodeError("bad_json", f"{self.name}: nested too deeply") from exc
        if value is None:
            return None
        if not isinstance(value, dict):
            raise DecodeError("not_an_object", f"{self.name}: JSON {type(value).__name__}, not an object")
        return value


class TopicCodec:
    """Encode and decode the keys and values of one topic.

    ``encode_*`` raise ``ValueError``/``TypeError`` (from fastavro or json) for an object that does not fit
    the schema: that is a programming or input-file error, not poison on a topic. ``decode_*`` raise only
    :class:`DecodeError`.
    """

    def __init__(self, topic: str) -> None:
        self.topic = topic
        self.key = _Side(topic, "key")
        self.value = _Side(topic, "value")

    def encode_value(self, obj: Any, fmt: Format = "avro") -> bytes:
        return self.value.encode(obj, fmt)

    def decode_value(self, data: Bytes | None) -> dict[str, Any] | None:
        return self.value.decode(data)

    def encode_key(self, obj: Any, fmt: Format = "avro") -> bytes:
        return self.key.encode(obj, fmt)

    def decode_key(self, data: Bytes | None) -> dict[str, Any] | None:
        return self.key.decode(data)

    def decode_value_python(self, data: Bytes | None) -> dict[str, Any] | None:
        """:meth:`decode_value` followed by :func:`to_python` (dicts for the JSON-text fields)."""
        record = self.value.decode(data)
        return to_python(self.topic, record) if record is not None else None


@cache
def codec_for(topic: str) -> TopicCodec:
    """The (cached) codec of ``topic``; topics without a schema encode as JSON and decode both ways."""
    return TopicCodec(topic)


__all__ = ["DEAD_LETTERS", "STUDENT_EVENTS", "WRITE_COMMANDS", "DecodeError", "Format", "TopicCodec",
           "codec_for", "to_python", "to_wire"]
