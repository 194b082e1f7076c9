"""The state the rules evaluate: one student's SIS rows, and the reference rows everyone shares.

``StudentState`` is what a Faust table holds per personID (as a compact JSON-safe dict); it is rebuilt
from change events by :meth:`StudentState.apply`, which is idempotent (applying the same event twice
gives the same state), so at-least-once delivery cannot corrupt it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from streams.sis.events import ChangeEvent
from streams.sis.rows import TOPIC_ROWS, Calendar, Enrollment, Row, School, Staff, Student, Test, TestScore

REFERENCE_TOPICS: tuple[str, ...] = ("sis.tests", "sis.schools", "sis.calendars", "sis.staff")
ReferenceKey = tuple[str, int]


class ReferenceData(Protocol):
    def test(self, test_id: int) -> Test | None: ...
    def school(self, school_id: int) -> School | None: ...
    def calendar(self, calendar_id: int) -> Calendar | None: ...
    def staff(self, person_id: int) -> Staff | None: ...


class ReferenceView:
    """ReferenceData over any mapping ``(topic, id) -> row`` (a dict, or a view of a Faust table)."""

    def __init__(self, rows: Any) -> None:
        self.rows = rows

    def test(self, test_id: int) -> Test | None:
        return self.rows.get(("sis.tests", test_id))  # type: ignore[no-any-return]

    def school(self, school_id: int) -> School | None:
        return self.rows.get(("sis.schools", school_id))  # type: ignore[no-any-return]

    def calendar(self, calendar_id: int) -> Calendar | None:
        return self.rows.get(("sis.calendars", calendar_id))  # type: ignore[no-any-return]

    def staff(self, person_id: int) -> Staff | None:
        return self.rows.get(("sis.staff", person_id))  # type: ignore[no-any-return]

    def apply(self, event: ChangeEvent) -> None:
        if event.after is not None:
            self.rows[(event.topic, event.key)] = event.after
        elif (event.topic, event.key) in self.rows:
            del self.rows[(event.topic, event.key)]


def reference_row_to_dict(row: Row) -> dict[str, Any]:
    topic = {Test: "sis.tests", School: "sis.schools", Calendar: "sis.calendars", Staff: "sis.staff"}[type(row)]
    return {"topic": topic, "row": row.to_row()}


def reference_row_from_dict(data: Mapping[str, Any]) -> Row:
    return TOPIC_ROWS[data["topic"]][0](data["row"])


# Short row-key prefixes of StudentState.versions (kept per row for the life of the state: short keys are
# a large share of a worker's memory at 100,000 students, docs/performance.md)
VERSION_PREFIX = {"sis.students": "s:", "sis.enrollments": "e:", "sis.test_scores": "t:"}


def _compact(row: dict[str, Any]) -> dict[str, Any]:
    """A row without its empty members: every row type reads a missing member as None (False for flags)."""
    return {k: v for k, v in row.items() if v is not None and v is not False}


@dataclass(frozen=True)
class StudentState:
    person_id: int
    student: Student | None = None
    enrollments: dict[int, Enrollment] = field(default_factory=dict)
    scores: dict[int, TestScore] = field(default_factory=dict)
    # "topic:key" -> (ts_ms, seq) of the latest change applied to that row (kept after a delete), so that a
    # replay of older changes cannot take a row back to an old version
    versions: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return self.student is None and not self.enrollments and not self.scores

    def apply(self, event: ChangeEvent) -> StudentState:
        """The state after ``event`` (a row of this student created, changed, moved away or deleted).

        Returns ``self`` unchanged when the event is older than what the state already holds for that row
        (a replay): the caller then has nothing to re-evaluate."""
        row_key = f"{VERSION_PREFIX.get(event.topic, event.topic + ':')}{event.key}"
        version = (event.ts_ms, event.seq or 0)
        known = self.versions.get(row_key)
        if known is not None and known > version:
            return self
        versions = {**self.versions, row_key: version}
        student, enrollments, scores = self.student, self.enrollments, self.scores
        after = event.after
        mine = after is not None and getattr(after, "person_id", None) == self.person_id
        # one new state per event (this runs for every student event: no intermediate copies)
        if event.topic == "sis.students":
            if event.key == self.person_id:
                student = after  # type: ignore[assignment]
        elif event.topic == "sis.enrollments":
            enrollments = dict(enrollments)
            enrollments.pop(event.key, None)
            if mine:
                enrollments[event.key] = after  # type: ignore[assignment]
        elif event.topic == "sis.test_scores":
            scores = dict(scores)
            scores.pop(event.key, None)
            if mine:
                scores[event.key] = after  # type: ignore[assignment]
        return StudentState(self.person_id, student, enrollments, scores, versions)

    def to_dict(self) -> dict[str, Any]:
        return {
            "p": self.person_id,
            "s": _compact(self.student.to_row()) if self.student else None,
            "e": [_compact(e.to_row()) for e in self.enrollments.values()],
            "t": [_compact(t.to_row()) for t in self.scores.values()],
            "v": {k: list(v) for k, v in self.versions.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StudentState:
        enrollments = (Enrollment.from_row(row) for row in data.get("e") or ())
        scores = (TestScore.from_row(row) for row in data.get("t") or ())
        return cls(
            person_id=int(data["p"]),
            student=Student.from_row(data["s"]) if data.get("s") else None,
            enrollments={e.enrollment_id: e for e in enrollments},
            scores={s.score_id: s for s in scores},
            versions={k: (int(v[0]), int(v[1])) for k, v in (data.get("v") or {}).items()},
        )


def references_of(state: StudentState, ref: ReferenceData) -> set[ReferenceKey]:
    """Every reference row whose change can change this student's records (for re-evaluation)."""
    keys: set[ReferenceKey] = set()
    for score in state.scores.values():
        keys.update(row_references(score, ref))
    for enrollment in state.enrollments.values():
        keys.update(row_references(enrollment, ref))
    return keys


def row_references(row: Row | None, ref: ReferenceData) -> list[ReferenceKey]:
    """The reference rows one score or enrollment row depends on (its test and parent test, its proctor;
    its calendar and that calendar's school)."""
    if isinstance(row, TestScore):
        keys: list[ReferenceKey] = [("sis.tests", row.test_id)]
        test = ref.test(row.test_id)
        if test is not None and test.parent_id is not None:
            keys.append(("sis.tests", test.parent_id))
        if row.proctor_person_id is not None:
            keys.append(("sis.staff", row.proctor_person_id))
        return keys
    if isinstance(row, Enrollment):
        keys = [("sis.calendars", row.calendar_id)]
        calendar = ref.calendar(row.calendar_id)
        if calendar is not None:
            keys.append(("sis.schools", calendar.school_id))
        return keys
    return []
