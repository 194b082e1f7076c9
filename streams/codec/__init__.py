"""Bytes on a topic <-> Python records: Avro in the Confluent wire format, or plain JSON.

Input topics accept both, per record: a value starting with the magic byte 0 is Confluent-framed Avro
(magic byte, 4-byte big-endian schema id, Avro binary); a value starting with ``{`` (or ``null``) is JSON.
Whatever cannot be decoded raises :class:`streams.errors.DecodeError` with a reason (``empty``,
``bad_avro``, ``unknown_schema_id``, ``bad_json``, ``not_an_object``) and never any other exception, so
the caller can dead-letter it and go on.

Without a schema registry the schema ids are the fixed ones of ``schemas/ids.json``.
"""

from __future__ import annotations

import base64
import io
import json
import struct
from functools import cache
from typing import Any, Literal

import fastavro

import schemas
from streams.errors import DecodeError

MAGIC = 0
Format = Literal["avro", "json"]


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class _Side:
    """Encoder/decoder of one side (key or value) of one topic."""

    def __init__(self, name: str) -> None:
        self.name = name
        all_ids = schemas.ids()
        self.schema_id: int | None = all_ids.get(name)
        self.schema = schemas.load(name) if self.schema_id is not None else None
        self._by_id = {sid: n for n, sid in all_ids.items()}

    def encode(self, obj: Any, fmt: Format) -> bytes:
        if fmt == "json" or self.schema is None:
            return json.dumps(obj, separators=(",", ":"), default=_json_default).encode()
        buffer = io.BytesIO()
        buffer.write(struct.pack(">bI", MAGIC, self.schema_id))
        fastavro.schemaless_writer(buffer, self.schema, obj)
        return buffer.getvalue()

    def decode(self, data: bytes | None) -> dict[str, Any] | None:
        if data is None:
            return None
        if not data:
            raise DecodeError("empty", f"{self.name}: zero bytes")
        if data[0] == MAGIC:
            return self._decode_avro(data)
        return self._decode_json(data)

    def _decode_avro(self, data: bytes) -> dict[str, Any]:
        if len(data) < 5:
            raise DecodeError("bad_avro", f"{self.name}: {len(data)} bytes is too short for the wire format")
        (schema_id,) = struct.unpack(">I", data[1:5])
        name = self._by_id.get(schema_id)
        if name is None or name != self.name:
            raise DecodeError("unknown_schema_id", f"{self.name}: schema id {schema_id} is not this topic's")
        stream = io.BytesIO(data[5:])
        try:
            record = fastavro.schemaless_reader(stream, schemas.load(name), None)
        except Exception as exc:  # fastavro raises many types on damaged input: all mean "bad Avro"
            raise DecodeError("bad_avro", f"{self.name}: {type(exc).__name__}: {exc}") from exc
        if stream.tell() != len(data) - 5:
            raise DecodeError("bad_avro", f"{self.name}: {len(data) - 5 - stream.tell()} trailing bytes")
        if not isinstance(record, dict):
            raise DecodeError("not_an_object", f"{self.name}: Avro value is not a record")
        return record

    def _decode_json(self, data: bytes) -> dict[str, Any] | None:
        try:
            value = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DecodeError("bad_json", f"{self.name}: {exc}") from exc
        except RecursionError as exc:
            raise DecodeError("bad_json", f"{self.name}: nested too deeply") from exc
        if value is None:
            return None
        if not isinstance(value, dict):
            raise DecodeError("not_an_object", f"{self.name}: JSON {type(value).__name__}, not an object")
        return value


class TopicCodec:
    def __init__(self, topic: str) -> None:
        self.topic = topic
        self.key = _Side(f"{topic}-key")
        self.value = _Side(f"{topic}-value")

    def encode_value(self, obj: Any, fmt: Format = "avro") -> bytes:
        return self.value.encode(obj, fmt)

    def decode_value(self, data: bytes | None) -> dict[str, Any] | None:
        return self.value.decode(data)

    def encode_key(self, obj: Any, fmt: Format = "avro") -> bytes:
        return self.key.encode(obj, fmt)

    def decode_key(self, data: bytes | None) -> dict[str, Any] | None:
        return self.key.decode(data)


@cache
def codec_for(topic: str) -> TopicCodec:
    return TopicCodec(topic)


__all__ = ["DecodeError", "Format", "TopicCodec", "codec_for"]
