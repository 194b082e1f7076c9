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
from streams.rules.state import StudentState, _compact

_SEPARATORS = (",", ":")
# A student with more rows than this is encoded from cached per-row JSON fragments: the join writes a
# student's whole value after every batch that touched them, and a long history (thousands of scores, up to
# worker.maxValueBytes) took ~10 ms to encode row by row each time; a cached fragment costs a hash lookup.
LARGE_STATE_ROWS = 256


def to_bytes(value: Any) -> bytes:
    return json.dumps(value, separators=_SEPARATORS).encode()


def from_bytes(raw: bytes | str) -> Any:
    return json.loads(raw)


class _Fragments:
    """Compact JSON of the rows (and version entries) of large students, by object identity: the states
    of one student share their unchanged row objects, so a fragment is found by ``id`` (the entry keeps
    its object alive, so the id cannot be reused while it is cached)."""

    def __init__(self, max_entries: int = 100_000) -> None:
        self._text: dict[int, tuple[Any, Any, str]] = {}
        self.max_entries = max_entries

    def _put(self, ident: int, entry: tuple[Any, Any, str]) -> str:
        if len(self._text) >= self.max_entries:
            self._text.clear()
        self._text[ident] = entry
        return entry[2]

    def row(self, row: Any) -> str:
        entry = self._text.get(id(row))
        if entry is not None and entry[0] is row:
            return entry[2]
        return self._put(id(row), (row, None, json.dumps(_compact(row.to_row()), separators=_SEPARATORS)))

    def version(self, item: tuple[str, tuple[int, int]]) -> str:
        key, value = item
        entry = self._text.get(id(value))
        if entry is not None and entry[0] is value and entry[1] is key:
            return entry[2]
        return self._put(id(value), (value, key, f"{json.dumps(key)}:[{value[0]},{value[1]}]"))


_fragments = _Fragments()


def encode_student(state: StudentState) -> bytes:
    if len(state.scores) + len(state.enrollments) < LARGE_STATE_ROWS:
        return to_bytes(state.to_dict())
    # the same JSON as to_dict() gives, assembled from cached fragments
    student = json.dumps(_compact(state.student.to_row()), separators=_SEPARATORS) if state.student else "null"
    enrollments = ",".join(map(_fragments.row, state.enrollments.values()))
    scores = ",".join(map(_fragments.row, state.scores.values()))
    versions = ",".join(map(_fragments.version, state.versions.items()))
    return f'{{"p":{state.person_id},"s":{student},"e":[{enrollments}],"t":[{scores}],"v":{{{versions}}}}}'.encode()


def decode_student(raw: bytes | str) -> StudentState:
    return StudentState.from_dict(from_bytes(raw))


def encode_sent(records: dict[str, SentRecord]) -> bytes:
    return to_bytes({key: record.to_dict() for key, record in records.items()})


def decode_sent(raw: bytes | str) -> dict[str, SentRecord]:
    return {key: SentRecord.from_dict(value) for key, value in from_bytes(raw).items()}
