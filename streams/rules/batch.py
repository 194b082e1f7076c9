"""The students a batch of events makes to re-evaluate: each once, however many of their rows changed.

Why: the worker's join paid one evaluation (and one plan, one sent-table write) per event; the events of
one student usually arrive together (a Debezium snapshot or a score load emits a student's rows one after
the other), so a batch of them now costs one evaluation of that student. Re-evaluate-and-diff makes this
safe: an evaluation reads the student's *current* state and diffs it with what was sent, so evaluating
once after all of a batch's changes gives the same final writes as evaluating after each (only the
intermediate writes, superseded within the batch, are not sent).

A student's scope is the union of what its events asked for: the assessments of the scores that changed
(:mod:`streams.rules.scope`), or the whole student as soon as one event asks for it (a student or
enrollment row, a reference row, a score with a partial before image). The timestamp is the latest of the
events (the source time of the change that the writes now carry).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

Scope = tuple[set[str], set[int]]  # the assessment keys and the scoreIDs to evaluate (None: everything)


@dataclass
class PendingEvaluations:
    """personID -> (latest ts_ms, scope or None for the whole student, reindex), in first-seen order."""

    _people: dict[int, tuple[int, Scope | None, bool]] = field(default_factory=dict)

    def add(self, person: int, ts_ms: int, scope: Scope | None, reindex: bool = False) -> None:
        found = self._people.get(person)
        if found is None:
            self._people[person] = (ts_ms, None if scope is None else (set(scope[0]), set(scope[1])), reindex)
            return
        last_ts, last_scope, last_reindex = found
        if last_scope is not None and scope is not None:
            last_scope[0].update(scope[0])
            last_scope[1].update(scope[1])
            merged: Scope | None = last_scope
        else:
            merged = None
        self._people[person] = (max(last_ts, ts_ms), merged, last_reindex or reindex)

    def merge(self, other: PendingEvaluations) -> None:
        for person, (ts_ms, scope, reindex) in other.items():
            self.add(person, ts_ms, scope, reindex)

    def items(self) -> Iterator[tuple[int, tuple[int, Scope | None, bool]]]:
        return iter(list(self._people.items()))

    def __len__(self) -> int:
        return len(self._people)

    def __contains__(self, person: object) -> bool:
        return person in self._people
