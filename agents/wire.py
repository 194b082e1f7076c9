"""Bytes <-> records for every topic the agents touch, through the codec of streams.codec only.

Input topics accept Avro (Confluent wire format) and JSON per record; what the worker itself produces
uses the configured format (Avro by default), held by the worker's one :class:`Wire` (no module global).
Internal records carry SIS rows and Ed-Fi bodies as JSON text inside the record, because their shape is
open-ended: the codec alone turns those fields into text and back (``to_wire``/``to_python``), so every
failure to read an internal record is a :class:`streams.errors.DecodeError` (a dead letter, never a bare
``JSONDecodeError`` or ``KeyError``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from streams.codec import Format, codec_for
from streams.errors import DecodeError
from streams.sis.events import ChangeEvent, parse_change
from streams.sis.rows import TOPIC_ROWS
from streams.writes import WriteCommand


class Wire:
    """Encodes what the worker produces in the configured format (one instance per worker)."""

    def __init__(self, fmt: Format = "avro") -> None:
        self.format: Format = fmt

    def encode_value(self, topic: str, obj: Mapping[str, Any] | None) -> bytes | None:
        if obj is None:
            return None
        return codec_for(topic).encode_value(obj, fmt=self.format)

    def encode_key(self, topic: str, obj: Mapping[str, Any]) -> bytes:
        return codec_for(topic).encode_key(obj, fmt=self.format)


def decode_value(topic: str, data: bytes | None) -> dict[str, Any] | None:
    """An input record's value (raises only DecodeError)."""
    return codec_for(topic).decode_value(data)


def decode_key(topic: str, data: bytes | None) -> dict[str, Any] | None:
    if data is None:
        return None
    return codec_for(topic).decode_key(data)


def decode_internal(topic: str, data: bytes | None) -> dict[str, Any] | None:
    """An internal record in its Python form (JSON-text fields as objects); raises only DecodeError."""
    return codec_for(topic).decode_value_python(data)


def routed_change(event: ChangeEvent, raw_value: Mapping[str, Any], broadcast: bool) -> dict[str, Any]:
    """The repartition record: the original envelope's rows (the codec writes them as JSON text)."""
    return {
        "sourceTopic": event.topic, "key": event.key, "op": event.op,
        "before": raw_value.get("before"), "after": raw_value.get("after"),
        "tsMs": event.ts_ms, "seq": event.seq, "broadcast": broadcast,
    }


def change_from_routed(record: Mapping[str, Any]) -> ChangeEvent:
    """Parse a decoded repartition record back into a ChangeEvent (validated again: cheap and safe)."""
    try:
        topic = record["sourceTopic"]
        value = {"op": record["op"], "ts_ms": record["tsMs"], "before": record.get("before"),
                 "after": record.get("after"), "source": {"seq": record.get("seq")}}
        key = record.get("key")
    except (KeyError, TypeError) as exc:
        raise DecodeError("bad_record", f"repartition record without {exc}") from exc
    if not isinstance(topic, str):  # found by the poison fuzz: a list here made ``in`` raise TypeError
        raise DecodeError("bad_record", "repartition record whose sourceTopic is not a string")
    if key is None:
        return parse_change(topic, None, value)
    if topic not in TOPIC_ROWS:
        raise DecodeError("bad_record", f"repartition record of unknown topic {str(topic)[:60]!r}")
    return parse_change(topic, {TOPIC_ROWS[topic][1]: key}, value)


def command_to_record(cmd: WriteCommand) -> dict[str, Any]:
    """A write command as a record of the write-command topic (payload and extra as objects)."""
    return cmd.to_dict()


def command_from_record(record: Mapping[str, Any]) -> WriteCommand:
    """A decoded write-command record as a WriteCommand (raises PoisonInput for a malformed one)."""
    extra = record.get("extra")
    if extra is not None and not isinstance(extra, dict):
        raise DecodeError("bad_record", "write command 'extra' is not an object")
    return WriteCommand.from_dict({**record, "extra": extra or {}})


__all__ = ["Wire", "change_from_routed", "command_from_record", "command_to_record", "decode_internal",
           "decode_key", "decode_value", "routed_change"]
