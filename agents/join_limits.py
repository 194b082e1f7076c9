"""Bounded per-student state: no student's table value may outgrow ``worker.maxValueBytes``.

Why: a student's rows are one value of the ``students`` table, and every table write is a changelog
record. A student with thousands of scores (a long SIS history of local and formative tests) once pushed
that value past the broker's 1 MB limit: the changelog write failed and the worker exited, again after
every restart (a crash loop for every student). Now an event that would make the value larger than the
limit is not applied: it becomes a dead letter with the reason ``student_state_limit`` (its bytes kept,
so that ``errors retry`` can apply it after the history is cleaned up or the limit raised), and the
student's state stays as it was. Events that shrink or keep the size (deletes, updates) always apply.

The check costs one row encoding per event, not an encoding of the whole student: the size is the value
as last written to the table (its length, exact) plus what the events buffered since then added.
"""

from __future__ import annotations

import json
from typing import Any

from streams.errors import PoisonInput
from streams.rules.state import REFERENCE_TOPICS, VERSION_PREFIX, StudentState, _compact
from streams.sis.events import ChangeEvent

_SEPARATORS = (",", ":")


def _row_size(row: Any) -> int:
    return 0 if row is None else len(json.dumps(_compact(row.to_row()), separators=_SEPARATORS)) + 1


def growth(state: StudentState | None, person: int, event: ChangeEvent) -> int:
    """About how many bytes ``event`` adds to ``person``'s encoded state (negative when it shrinks it)."""
    row_key = f"{VERSION_PREFIX.get(event.topic, event.topic + ':')}{event.key}"
    version = len(json.dumps([row_key, [event.ts_ms, event.seq or 0]], separators=_SEPARATORS))
    added = 0 if state is not None and row_key in state.versions else version
    after = event.after if getattr(event.after, "person_id", None) == person else None
    old: Any = None
    if state is not None:
        if event.topic == "sis.students":
            old = state.student
        elif event.topic == "sis.enrollments":
            old = state.enrollments.get(event.key)
        elif event.topic == "sis.test_scores":
            old = state.scores.get(event.key)
    return added + _row_size(after) - _row_size(old)


class StateBudget:
    """Refuses a student event whose state would exceed ``limit`` bytes (with ``margin`` for the estimate).
    Call :meth:`forget` whenever the buffered table changes have been written (the join's batch settle)."""

    def __init__(self, limit: int, margin: int = 1024) -> None:
        self.limit = limit
        self.margin = margin
        self._pending: dict[int, int] = {}  # person -> bytes the buffered (unwritten) events added

    def check(self, students: Any, person: int, event: ChangeEvent) -> int:
        """The bytes ``event`` adds to ``person``'s state; raises PoisonInput("student_state_limit") if
        that would take them over the limit. ``students`` is the join's BufferedTableView of the table."""
        grows = growth(students.get(person), person, event)
        if grows <= 0:
            return grows
        stored = students.stored(person)
        size = (len(stored) if stored is not None else 0) + self._pending.get(person, 0)
        if size + grows > self.limit - self.margin:
            raise PoisonInput("student_state_limit", f"student {person}'s rows would take {size + grows} bytes, "
                                                     f"more than worker.maxValueBytes ({self.limit})")
        return grows

    def add(self, person: int, grows: int) -> None:
        """Count what an applied event added (its table change is buffered, not yet written)."""
        self._pending[person] = self._pending.get(person, 0) + grows

    def forget(self) -> None:
        self._pending.clear()


def people_of(event: ChangeEvent, only_person: int | None) -> list[int]:
    """The students whose state ``event`` changes (as :meth:`streams.rules.engine.RuleEngine.on_change`)."""
    if event.topic in REFERENCE_TOPICS:
        return []
    people = [p for p in dict.fromkeys(getattr(row, "person_id", None) for row in (event.after, event.before))
              if p is not None]
    if event.topic == "sis.students" and not people:
        people = [event.key]
    return [p for p in people if only_person is None or p == only_person]
