"""The Debezium change envelope (contract section 1) as a typed event, and its validation.

An event's ``row`` is the parsed after-image (create, update, snapshot read) or ``None`` for a delete;
``before`` is kept because a delete or a key move (a score that changes personID) needs the old row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from streams.errors import PoisonInput
from streams.sis.position import source_position
from streams.sis.rows import CONTROL_TOPIC, TOPIC_ROWS, Row, in_long_range
from streams.topics import OWNED_TABLES, SIS_TABLE_NAMES

Op = Literal["c", "u", "d", "r"]


@dataclass(frozen=True, slots=True)
class PriorOwner:
    """What a partial before image tells of a row (PostgreSQL replica identity DEFAULT, MySQL minimal
    row image): only whose it was. Everything that reads a before image reads only its ``person_id``."""

    person_id: int


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """One SIS row change. ``key`` is the row's primary key value (an int)."""

    topic: str
    key: int
    op: Op
    before: Row | PriorOwner | None
    after: Row | None
    ts_ms: int
    seq: int | None = None

    @property
    def is_delete(self) -> bool:
        return self.op == "d"


@dataclass(frozen=True, slots=True)
class ControlEvent:
    """A resource toggle (contract section 2)."""

    resource: str
    enabled: bool
    ts_ms: int = 0


def parse_change(topic: str, key: Mapping[str, Any] | None, value: Mapping[str, Any]) -> ChangeEvent:
    """Validate one envelope; raise :class:`PoisonInput` with the reason when it cannot be used."""
    if topic not in TOPIC_ROWS:
        raise PoisonInput("unknown_topic", topic)
    parse_row, pk = TOPIC_ROWS[topic]
    if not isinstance(value, Mapping):
        raise PoisonInput("bad_envelope", "value is not an object")
    op = value.get("op")
    if op in ("t", "m"):
        raise PoisonInput(*_NOT_APPLIED[op](topic))
    if op not in ("c", "u", "d", "r"):
        raise PoisonInput("unknown_op", f"op {op!r} is not one of c, u, d, r")
    ts_ms = value.get("ts_ms")
    if ts_ms is None:
        ts_ms = 0
    if isinstance(ts_ms, bool) or not isinstance(ts_ms, int) or ts_ms < 0:
        raise PoisonInput("bad_envelope", f"ts_ms {str(ts_ms)[:40]!r} is not a non-negative integer")
    if not in_long_range(ts_ms):
        raise PoisonInput("out_of_range", "ts_ms does not fit in 64 bits")
    seq = source_position(value.get("source"))
    if seq is not None and not in_long_range(seq):
        raise PoisonInput("out_of_range", "the source position does not fit in 64 bits")
    raw_before, raw_after = value.get("before"), value.get("after")
    for name, raw in (("before", raw_before), ("after", raw_after)):
        if raw is not None and not isinstance(raw, Mapping):
            raise PoisonInput("bad_envelope", f"'{name}' is not an object")
    if op == "d":
        if raw_after is not None:
            raise PoisonInput("bad_envelope", "a delete carries an 'after' row")
    elif raw_after is None:
        raise PoisonInput("bad_envelope", f"op '{op}' without an 'after' row")
    after = _parsed(topic, parse_row, raw_after) if raw_after is not None else None
    before: Row | PriorOwner | None
    if topic in OWNED_TABLES:
        before = _owned_before(topic, parse_row, raw_before)
    else:
        try:
            before = _parsed(topic, parse_row, raw_before) if raw_before is not None else None
        except PoisonInput:
            before = None  # a damaged before-image is not needed when the after-image is good
            if op == "d":
                raise
    key_value: Any = None
    if isinstance(key, Mapping):
        key_value = key.get(pk)
    if key_value is None:
        for raw in (raw_after, raw_before):
            if isinstance(raw, Mapping) and raw.get(pk) is not None:
                key_value = raw.get(pk)
                break
    if isinstance(key_value, bool) or not isinstance(key_value, int):
        raise PoisonInput("bad_key", f"no integer primary key '{pk}' in the key or the row")
    if not in_long_range(key_value):
        raise PoisonInput("out_of_range", f"key {pk} does not fit in 64 bits")
    row = after or (before if not isinstance(before, PriorOwner) else None)
    row_key = getattr(row, _attr(pk), key_value) if row is not None else key_value
    if row_key != key_value:
        raise PoisonInput("bad_key", f"key {pk}={key_value} differs from the row's {row_key}")
    if op == "d" and before is None and topic not in OWNED_TABLES:
        raise PoisonInput("bad_envelope", "a delete without a 'before' row cannot be routed")
    return ChangeEvent(topic, key_value, op, before, after, ts_ms, seq)


def _owned_before(topic: str, parse_row: Callable[[Mapping[str, Any]], Row],
                  raw: Mapping[str, Any] | None) -> Row | PriorOwner | None:
    """A score's or an enrollment's before image: the full row, only its owner, or None when it does not
    say whose the row was (a partial image: personID missing or 0, the type default Debezium fills in)."""
    if raw is None:
        return None
    person = raw.get("personID")
    if isinstance(person, bool) or not isinstance(person, int) or person <= 0:
        return None
    try:
        return _parsed(topic, parse_row, raw)
    except PoisonInput:
        return PriorOwner(person)


def _parsed(topic: str, parse_row: Callable[[Mapping[str, Any]], Row], raw: Mapping[str, Any]) -> Row:
    try:
        return parse_row(raw)
    except PoisonInput as exc:  # name the SIS table: the row parser only knows the column
        raise PoisonInput(exc.reason, f"{SIS_TABLE_NAMES.get(topic, topic)}: {exc.detail}") from exc


# A truncate or a logical-decoding message is never applied or dropped silently: the worker cannot know
# which rows a TRUNCATE removed from its state, so the operator reconciles with `edfi-stream resync`.
_NOT_APPLIED: dict[str, Callable[[str], tuple[str, str]]] = {
    "t": lambda topic: ("truncate", f"table {SIS_TABLE_NAMES.get(topic, topic)} was truncated in the SIS: "
                                    "the rows it removed are not known here; run `edfi-stream resync` to "
                                    "reconcile the ODS with the SIS"),
    "m": lambda topic: ("message_event", f"a Debezium message event (op 'm') on {topic} is not a row change; "
                                         "if it announced a data change, run `edfi-stream resync`"),
}


def parse_control(key: Mapping[str, Any] | None, value: Mapping[str, Any] | None) -> ControlEvent:
    if not isinstance(key, Mapping) or not isinstance(key.get("resource"), str):
        raise PoisonInput("bad_key", "control event key must be {\"resource\": name}")
    if not isinstance(value, Mapping) or not isinstance(value.get("enabled"), bool):
        raise PoisonInput("bad_envelope", "control event value must be {\"enabled\": true|false}")
    ts = value.get("ts_ms", 0)
    return ControlEvent(key["resource"], value["enabled"], ts if isinstance(ts, int) else 0)


def _attr(pk: str) -> str:
    return {"personID": "person_id", "schoolID": "school_id", "calendarID": "calendar_id",
            "enrollmentID": "enrollment_id", "testID": "test_id", "scoreID": "score_id"}[pk]


__all__ = ["CONTROL_TOPIC", "ChangeEvent", "ControlEvent", "PriorOwner", "parse_change", "parse_control"]
