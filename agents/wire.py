"""Bytes <-> records for every topic the agents touch, through the codec of streams.codec.

Input topics accept Avro (Confluent wire format) and JSON per record; what the worker itself produces
uses the configured format (Avro by default). Internal records carry SIS rows and Ed-Fi bodies as JSON
text inside the Avro record, because their shape is open-ended.
"""

from __future__ import annotations

import json
from typing import Any

from streams.codec import Format, codec_for
from streams.sis.events import ChangeEvent, parse_change
from streams.writes import WriteCommand

_FORMAT: Format = "avro"


def set_format(fmt: Format) -> None:
    global _FORMAT
    _FORMAT = fmt


def encode_value(topic: str, obj: dict[str, Any] | None) -> bytes | None:
    if obj is None:
        return None
    return codec_for(topic).encode_value(obj, fmt=_FORMAT)


def decode_value(topic: str, data: bytes | None) -> dict[str, Any] | None:
    return codec_for(topic).decode_value(data)


def decode_key(topic: str, data: bytes | None) -> dict[str, Any] | None:
    if data is None:
        return None
    return codec_for(topic).decode_key(data)


def encode_key(topic: str, obj: dict[str, Any]) -> bytes:
    return codec_for(topic).encode_key(obj, fmt=_FORMAT)


def routed_change(event: ChangeEvent, raw_value: dict[str, Any], broadcast: bool) -> dict[str, Any]:
    """The repartition record: the original envelope's rows as JSON text."""
    return {
        "sourceTopic": event.topic, "key": event.key, "op": event.op,
        "before": json.dumps(raw_value.get("before")) if raw_value.get("before") is not None else None,
        "after": json.dumps(raw_value.get("after")) if raw_value.get("after") is not None else None,
        "tsMs": event.ts_ms, "seq": event.seq, "broadcast": broadcast,
    }


def change_from_routed(record: dict[str, Any]) -> ChangeEvent:
    """Parse a repartition record back into a ChangeEvent (validated again: cheap and safe)."""
    topic = record["sourceTopic"]
    value = {
        "op": record["op"], "ts_ms": record["tsMs"],
        "before": json.loads(record["before"]) if record.get("before") else None,
        "after": json.loads(record["after"]) if record.get("after") else None,
        "source": {"seq": record.get("seq")},
    }
    return parse_change(topic, None, value) if record.get("key") is None else _with_key(topic, record, value)


def _with_key(topic: str, record: dict[str, Any], value: dict[str, Any]) -> ChangeEvent:
    from streams.sis.rows import TOPIC_ROWS

    pk = TOPIC_ROWS[topic][1]
    return parse_change(topic, {pk: record["key"]}, value)


def command_to_record(cmd: WriteCommand) -> dict[str, Any]:
    data = cmd.to_dict()
    data["payload"] = json.dumps(cmd.payload, sort_keys=True) if cmd.payload is not None else None
    data["extra"] = json.dumps(cmd.extra)
    return data


def command_from_record(record: dict[str, Any]) -> WriteCommand:
    data = dict(record)
    if isinstance(data.get("payload"), str):
        data["payload"] = json.loads(data["payload"])
    if isinstance(data.get("extra"), str):
        data["extra"] = json.loads(data["extra"] or "{}")
    return WriteCommand.from_dict(data)
