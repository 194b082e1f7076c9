"""Where /explain finds a student by scoreID or studentAssessmentIdentifier: an index, not a table scan.

Without it each request by scoreID decoded every student of the table (about 0.6 s of CPU at 100,000
students: a denial-of-service amplifier). The index maps a value (a scoreID in the students table, a
studentAssessmentIdentifier in the sent table) to the table key holding it. It is built on the first
lookup (a worker whose /explain is never asked by scoreID pays nothing) and then kept current cheaply: a
write to the table only marks its key, and the next lookup re-reads just the marked keys, so each write is
decoded at most once however many requests come. A rebalance (tables recovered from their changelogs,
which bypasses the write hook) makes the next lookup rebuild it once.

An entry may outlive its value (a deleted score): the caller checks the student it names, so a stale entry
gives "no decisions", never a wrong student. Memory: one dict entry per value (about 80 bytes), paid only
once /explain has been asked by that kind of id (docs/security.md).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import Any

from agents import table_values

Extract = Callable[[Any], Iterable[Hashable]]


def hook_writes(table: Any, on_write: Callable[[Any], None]) -> None:
    """Call ``on_write(key)`` after every set or delete of a key of ``table``.

    faust's Table calls on_key_set/on_key_del from __setitem__/__delitem__ (mode's ManagedUserDict): the
    documented per-key callbacks; the originals (the changelog write) run first, unchanged. Writes that
    bypass them (changelog recovery) are not seen."""
    set_original = getattr(table, "on_key_set", None)
    del_original = getattr(table, "on_key_del", None)
    if set_original is None or del_original is None:
        return

    def on_key_set(key: Any, value: Any) -> None:
        set_original(key, value)
        on_write(key)

    def on_key_del(key: Any) -> None:
        del_original(key)
        on_write(key)

    table.on_key_set = on_key_set
    table.on_key_del = on_key_del


class TableIndex:
    """value -> table key over one Faust table (or any mapping with ``on_key_set``/``on_key_del`` hooks)."""

    def __init__(self, table: Any, extract: Extract) -> None:
        self._table = table
        self._extract = extract
        self._by_value: dict[Hashable, Any] = {}
        self._dirty: set[Any] = set()
        self._built = False
        self.rebuilds = 0
        self.reindexed = 0
        self._hook()

    def _hook(self) -> None:
        hook_writes(self._table, self.mark)

    def invalidate(self) -> None:
        """The table changed behind the hooks (recovery after a rebalance): rebuild on the next lookup."""
        self._built = False
        self._dirty.clear()
        self._by_value.clear()

    def mark(self, key: Any) -> None:
        if self._built:
            self._dirty.add(key)

    def lookup(self, value: Hashable) -> Any | None:
        self._refresh()
        return self._by_value.get(value)

    def _refresh(self) -> None:
        if not self._built:
            self._by_value.clear()
            self._dirty.clear()
            for key, raw in list(self._table.items()):
                self._add(key, raw)
            self._built = True
            self.rebuilds += 1
            return
        while self._dirty:
            key = self._dirty.pop()
            raw = self._table.get(key)
            if raw is not None:
                self._add(key, raw)
                self.reindexed += 1

    def _add(self, key: Any, raw: Any) -> None:
        try:
            values = self._extract(raw)
        except (ValueError, TypeError, AttributeError):
            return  # an undecodable value has nothing to find
        for value in values:
            self._by_value[value] = key


def score_ids(raw: Any) -> Iterable[Hashable]:
    """The scoreIDs of a students-table value (compact JSON, agents/table_values.py)."""
    return [row.get("scoreID") for row in table_values.from_bytes(raw).get("t") or ()]


def assessment_ids(raw: Any) -> Iterable[Hashable]:
    """The studentAssessmentIdentifiers of a sent-table value."""
    return list(table_values.from_bytes(raw))


def state_ids(raw: Any) -> Iterable[Hashable]:
    """The State Student Identifier of a students-table value (the console's "Why?" search)."""
    student = table_values.from_bytes(raw).get("s") or {}
    return [student["stateID"]] if student.get("stateID") else []


class ExplainIndex:
    """The indexes /explain and the console need: by scoreID and State Student Identifier (students
    table) and by studentAssessmentIdentifier (sent table)."""

    def __init__(self, students: Any, sent: Any) -> None:
        self.by_score = TableIndex(students, score_ids)
        self.by_identifier = TableIndex(sent, assessment_ids)
        self.by_state_id = TableIndex(students, state_ids)

    def invalidate(self) -> None:
        self.by_score.invalidate()
        self.by_identifier.invalidate()
        self.by_state_id.invalidate()

    def person_of_state_id(self, state_id: str) -> int | None:
        key = self.by_state_id.lookup(state_id.strip())
        return int(key) if key is not None else None

    def person(self, score_id: int | None, said: str | None) -> int | None:
        key = None
        if score_id is not None:
            key = self.by_score.lookup(score_id)
        if key is None and said is not None:
            key = self.by_identifier.lookup(said)
        return int(key) if key is not None else None
