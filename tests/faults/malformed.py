"""Malformed SIS input for the poison test: seeded, varied bad records as raw bytes, each with the
dead-letter reason the worker must give it (README "Errors and delivery guarantees"; streams/codec,
streams/sis/events.py and streams/sis/rows.py define the reasons).

Also scores that refer to a student or a test the SIS never sent: well-formed, so not poison; the rules
hold them (``student_unknown`` / ``test_unknown``), and ``simulate`` sees them too.
"""

from __future__ import annotations

import json
import random
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from streams.codec import codec_for

Event = dict[str, Any]


@dataclass(frozen=True)
class Poison:
    kind: str
    reason: str          # the dead letter's expected reason
    topic: str
    key: bytes | None
    value: bytes | None


def _avro(topic: str, value: Any) -> bytes:
    return codec_for(topic).encode_value(value, fmt="avro")


def _key(topic: str, key: dict[str, Any]) -> bytes:
    return codec_for(topic).encode_key(key, fmt="avro")


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


def _changed(event: Event, **after: Any) -> dict[str, Any]:
    """An update of ``event``'s row with some fields replaced (the SIS sending a bad after-image)."""
    row = event["value"]["after"]
    return {"op": "u", "before": row, "after": {**row, **after}, "ts_ms": event["value"]["ts_ms"] + 1,
            "source": {"table": event["topic"], "seq": None}}


Maker = Callable[[random.Random, dict[str, list[Event]]], Poison]


def _broken_json(rng: random.Random, by: dict[str, list[Event]]) -> Poison:
    e = rng.choice(by["sis.test_scores"])
    text = json.dumps(e["value"])
    return Poison("broken_json", "bad_json", e["topic"], _key(e["topic"], e["key"]),
                  text[: rng.randint(5, len(text) - 5)].encode())


def _not_utf8(rng: random.Random, by: dict[str, list[Event]]) -> Poison:
    e = rng.choice(by["sis.students"])
    return Poison("not_utf8", "bad_json", e["topic"], _key(e["topic"], e["key"]),
                  bytes([0xFF, 0xFE]) + rng.randbytes(20))


def _json_array(rng: random.Random, by: dict[str, list[Event]]) -> Poison:
    e = rng.choice(by["sis.enrollments"])
    return Poison("json_array", "not_an_object", e["topic"], _key(e["topic"], e["key"]), _json([e["value"]]))


def _empty(rng: random.Random, by: dict[str, list[Event]]) -> Poison:
    e = rng.choice(by["sis.test_scores"])
    return Poison("empty_value", "empty", e["topic"], _key(e["topic"], e["key"]), b"")


def _truncated_avro(rng: random.Random, by: dict[str, list[Event]]) -> Poison:
    e = rng.choice(by["sis.test_scores"])
    data = _avro(e["topic"], e["value"])
    return Poison("truncated_avro", "bad_avro", e["topic"], _key(e["topic"], e["key"]),
                  data[: rng.randint(6, len(data) - 8)])


def _trailing_avro(rng: random.Random, by: dict[str, list[Event]]) -> Poison:
    e = rng.choice(by["sis.students"])
    return Poison("avro_trailing_bytes", "bad_avro", e["topic"], _key(e["topic"], e["key"]),
                  _avro(e["topic"], e["value"]) + rng.randbytes(7))


def _unknown_schema(rng: random.Random, by: dict[str, list[Event]]) -> Poison:
    e = rng.choice(by["sis.test_scores"])
    data = _avro(e["topic"], e["value"])
    return Poison("unknown_schema_id", "unknown_schema_id", e["topic"], _key(e["topic"], e["key"]),
                  struct.pack(">bI", 0, 4242) + data[5:])


def _unknown_op(rng: random.Random, by: dict[str, list[Event]]) -> Poison:
    e = rng.choice(by["sis.test_scores"])
    value = {**_changed(e, scaleScore="1"), "op": rng.choice(["x", "upsert", "truncate"])}
    return Poison("unknown_op", "unknown_op", e["topic"], _key(e["topic"], e["key"]), _avro(e["topic"], value))


def _missing_person(rng: random.Random, by: dict[str, list[Event]]) -> Poison:
    e = rng.choice(by["sis.test_scores"])
    value = _changed(e, scaleScore="2")
    del value["after"]["personID"]
    return Poison("missing_field", "missing_field", e["topic"], _key(e["topic"], e["key"]), _json(value))


def _missing_state_id(rng: random.Random, by: dict[str, list[Event]]) -> Poison:
    e = rng.choice(by["sis.students"])
    return Poison("missing_field", "missing_field", e["topic"], _key(e["topic"], e["key"]),
                  _json(_changed(e, stateID=None)))


def _bad_score_date(rng: random.Random, by: dict[str, list[Event]]) -> Poison:
    e = rng.choice(by["sis.test_scores"])
    date = rng.choice(["2024-02-30", "2023-13-01", "2024-00-10", "not a date"])
    return Poison("impossible_date", "bad_date", e["topic"], _key(e["topic"], e["key"]),
                  _avro(e["topic"], _changed(e, date=date)))


def _enrollment_backwards(rng: random.Random, by: dict[str, list[Event]]) -> Poison:
    e = rng.choice(by["sis.enrollments"])
    return Poison("impossible_date", "bad_date", e["topic"], _key(e["topic"], e["key"]),
                  _avro(e["topic"], _changed(e, endDate="2023-01-01")))


def _oversized(rng: random.Random, by: dict[str, list[Event]]) -> Poison:
    e = rng.choice(by["sis.students"])
    return Poison("oversized_value", "oversized_value", e["topic"], _key(e["topic"], e["key"]),
                  _avro(e["topic"], _changed(e, lastName="X" * rng.randint(1100, 20000))))


def _oversized_result(rng: random.Random, by: dict[str, list[Event]]) -> Poison:
    e = rng.choice(by["sis.test_scores"])
    return Poison("oversized_value", "oversized_value", e["topic"], _key(e["topic"], e["key"]),
                  _avro(e["topic"], _changed(e, result="L" * 5000)))


def _key_mismatch(rng: random.Random, by: dict[str, list[Event]]) -> Poison:
    e, other = rng.sample(by["sis.test_scores"], 2)
    return Poison("key_mismatch", "bad_key", e["topic"], _key(e["topic"], other["key"]),
                  _avro(e["topic"], _changed(e, scaleScore="3")))


MAKERS: tuple[Maker, ...] = (_broken_json, _not_utf8, _json_array, _empty, _truncated_avro, _trailing_avro,
                             _unknown_schema, _unknown_op, _missing_person, _missing_state_id, _bad_score_date,
                             _enrollment_backwards, _oversized, _oversized_result, _key_mismatch)


def poison(events: list[Event], count: int, rng: random.Random) -> list[Poison]:
    """``count`` bad records, every kind at least once, built from the rows of ``events``."""
    by: dict[str, list[Event]] = {}
    for e in events:
        if e["value"] is not None and e["value"]["after"] is not None:
            by.setdefault(e["topic"], []).append(e)
    kinds = [MAKERS[i % len(MAKERS)] for i in range(count)]
    return [make(rng, by) for make in kinds]


def unknown_references(events: list[Event], count: int, rng: random.Random,
                       state_tests: tuple[int, ...] = (1, 2)) -> list[Event]:
    """Well-formed scores for a student the SIS never sent (half) or a test it never sent (half)."""
    # templates of state tests, so that the unknown reference is what holds them (a local test is not reported)
    scores = [e for e in events if e["topic"] == "sis.test_scores" and e["value"] and e["value"]["after"]
              and e["value"]["after"]["testID"] in state_tests]
    out: list[Event] = []
    for i in range(count):
        template = rng.choice(scores)["value"]["after"]
        row = {**template, "scoreID": 990_000 + i}
        if i % 2:
            row["personID"] = 99_000_000 + i
        else:
            row["testID"] = 8_000 + i
        out.append({"topic": "sis.test_scores", "key": {"scoreID": row["scoreID"]}, "value": {
            "op": "c", "before": None, "after": row, "ts_ms": 1_800_000_000_000 + i,
            "source": {"table": "sis.test_scores", "seq": None}}})
    return out
