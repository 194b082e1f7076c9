"""How the join's student-keyed tables hold their values: compact JSON bytes, one object per student.

Why: a Faust table over the memory store keeps every value the changelog gave it. As JSON-decoded dicts a
student's rows cost about 7 KB of Python objects; as one bytes object of compact JSON (empty members
dropped, short keys) about 1.5 KB. The rule engine decodes a student only when an event concerns them,
and :class:`agents.tablestore.BufferedTableView` keeps a bounded number of decoded students for speed.
"""

from __future__ import annotations

import json
from typing import Any

from streams.rules.plan import SentRecord
from streams.rules.state import StudentState

_SEPARATORS = (",", ":")


def to_bytes(value: Any) -> bytes:
    return json.dumps(value, separators=_SEPARATORS).encode()


def from_bytes(raw: bytes | str) -> Any:
    return json.loads(raw)


def encode_student(state: StudentState) -> bytes:
    return to_bytes(state.to_dict())


def decode_student(raw: bytes | str) -> StudentState:
    return StudentState.from_dict(from_bytes(raw))


def encode_sent(records: dict[str, SentRecord]) -> bytes:
    return to_bytes({key: record.to_dict() for key, record in records.items()})


def decode_sent(raw: bytes | str) -> dict[str, SentRecord]:
    return {key: SentRecord.from_dict(value) for key, value in from_bytes(raw).items()}
