"""The stateful rule engine: apply SIS change events, re-evaluate the students they touch, plan writes.

The engine owns no storage: it works on three dict-like stores that the caller provides (plain dicts for
``simulate`` and ``resync``, views of Faust tables in the worker):

* ``students``  personID -> :class:`StudentState`
* ``sent``      personID -> {studentAssessmentIdentifier: :class:`SentRecord`} (what was emitted)
* ``reference`` (topic, id) -> reference row (tests, schools, calendars, staff)

A student or enrollment event re-evaluates that student; a score event re-evaluates the student
assessments of its old and new row only (:mod:`streams.rules.scope`); a reference event re-evaluates the
students whose records can depend on that row (an in-memory index, rebuilt from the store after a restart).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from streams.rules.batch import PendingEvaluations, Scope
from streams.rules.config import RuleConfig
from streams.rules.evaluate import Decision, Evaluation, evaluate
from streams.rules.plan import SentRecord, plan_writes
from streams.rules.scope import AssessmentScope
from streams.rules.state import (
    REFERENCE_TOPICS,
    ReferenceKey,
    ReferenceView,
    StudentState,
    references_of,
    row_references,
)
from streams.sis.events import ChangeEvent, PriorOwner
from streams.writes import WriteCommand


@dataclass
class Outcome:
    commands: list[WriteCommand] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)


@dataclass
class InMemoryStores:
    students: dict[int, StudentState] = field(default_factory=dict)
    sent: dict[int, dict[str, SentRecord]] = field(default_factory=dict)
    reference: dict[ReferenceKey, Any] = field(default_factory=dict)

    def as_kwargs(self) -> dict[str, Any]:
        return {"students": self.students, "sent": self.sent, "reference": self.reference}


class RuleEngine:
    def __init__(self, cfg: RuleConfig, students: Any, sent: Any, reference: Any) -> None:
        self.cfg = cfg
        self.students = students
        self.sent = sent
        self.reference = ReferenceView(reference)
        self.enabled = True
        self._index: dict[ReferenceKey, set[int]] | None = None
        self.scope = AssessmentScope(cfg)

    # -- the resource toggle (003 Resync Logic: off -> sent data stays, nothing new is sent) --------------
    def set_enabled(self, enabled: bool) -> None:
        self.enabled = enabled

    # -- events ------------------------------------------------------------------------------------------
    def on_change(self, event: ChangeEvent, only_person: int | None = None) -> Outcome:
        """Apply one event. ``only_person`` restricts a student-keyed event to one of the students it
        concerns (the worker routes a score that moved between students to each of them separately)."""
        pending = PendingEvaluations()
        self.apply(event, pending, only_person)
        return self.evaluate_pending(pending)

    def apply(self, event: ChangeEvent, pending: PendingEvaluations, only_person: int | None = None) -> None:
        """Apply one event to the stores and note in ``pending`` which students it makes to re-evaluate
        (:meth:`evaluate_pending`: once per student for a whole batch of events, :mod:`streams.rules.batch`)."""
        if event.topic in REFERENCE_TOPICS:
            if event.topic == "sis.tests":
                self.scope.forget()
            affected = self._affected_by(event)
            self.reference.apply(event)
            # a parent/child link, a calendar's school: the new row may reference more students' rows
            affected |= self._affected_by(event)
            for someone in sorted(affected):
                pending.add(someone, event.ts_ms, None, reindex=True)
            return
        people = []
        for row in (event.after, event.before):
            person = getattr(row, "person_id", None)
            if person is not None and person not in people and (only_person is None or person == only_person):
                people.append(person)
        if event.topic == "sis.students" and not people:
            people = [event.key]
        changed = []
        for person in people:
            state = self.students.get(person) or StudentState(person)
            new_state = state.apply(event)
            if new_state is state:
                continue  # an older change than the state holds (a replay): nothing to do
            changed.append(person)
            if new_state.empty and not new_state.versions:
                if person in self.students:
                    del self.students[person]
            else:
                self.students[person] = new_state
                # the index only grows, and only the event's row can bring a new dependency
                self._index_rows(person, [event.after])
        scope: tuple[set[str], set[int]] | None = None
        if event.topic == "sis.test_scores" and not isinstance(event.before, PriorOwner):
            # a partial before image (only its owner) does not say which assessment the score left: the
            # whole student is evaluated then
            keys = {key for row in (event.after, event.before) if row is not None
                    and (key := self.scope.assessment_of(row, self.reference)) is not None}  # type: ignore[arg-type]
            scope = (keys, {event.key})
        for person in changed:
            pending.add(person, event.ts_ms, scope)

    def evaluate_pending(self, pending: PendingEvaluations) -> Outcome:
        """Evaluate each student of ``pending`` once, on the stores as they are now, and plan the writes."""
        outcome = Outcome()
        for person, (ts_ms, scope, reindex) in pending.items():
            self._reevaluate_one(outcome, person, ts_ms, reindex, scope)
        return outcome

    def evaluate_person(self, person_id: int) -> Evaluation:
        state = self.students.get(person_id) or StudentState(person_id)
        return evaluate(state, self.reference, self.cfg)

    def person_ids(self) -> Iterable[int]:
        return list(self.students.keys())

    # -- internals ---------------------------------------------------------------------------------------
    def _evaluate_scoped(self, person: int, scope: Scope | None) -> tuple[Evaluation, set[str] | None]:
        """The evaluation of the whole student (``scope`` None), or of the assessments ``scope[0]`` and the
        scores ``scope[1]`` only, with the identifiers that evaluation decides (None: all of them)."""
        if scope is None:
            return self.evaluate_person(person), None
        keys, score_ids = scope
        state = self.students.get(person) or StudentState(person)
        evaluation = evaluate(self.scope.restrict(state, keys, self.reference, score_ids), self.reference, self.cfg)
        targets = self.scope.identifiers(state, keys)
        if not set(evaluation.records) <= targets:  # the rules grouped a score otherwise: be exact
            return self.evaluate_person(person), None
        return evaluation, targets

    def _reevaluate_one(self, outcome: Outcome, person: int, ts_ms: int, reindex: bool,
                        scope: Scope | None) -> None:
        if reindex:  # a reference row changed: the student may now depend on more rows (a parent test)
            state = self.students.get(person)
            if state is not None:
                self._index_student(state)
        evaluation, targets = self._evaluate_scoped(person, scope)
        if not self.enabled:
            outcome.decisions.extend(
                replace(d, outcome="held", reason="toggled_off",
                        message="held: the studentAssessments resource is turned off")
                if d.outcome == "sent" else d for d in evaluation.decisions)
            return
        outcome.decisions.extend(evaluation.decisions)
        everything = self.sent.get(person) or {}
        previous = everything if targets is None else {k: v for k, v in everything.items() if k in targets}
        plan = plan_writes(previous, evaluation, ts_ms)
        sent = plan.sent if targets is None else {
            **{k: v for k, v in everything.items() if k not in targets}, **plan.sent}
        if plan.commands or sent != everything:
            if sent:
                self.sent[person] = sent
            elif person in self.sent:
                del self.sent[person]
        outcome.commands.extend(plan.commands)

    def _ensure_index(self) -> dict[ReferenceKey, set[int]]:
        if self._index is None:
            self._index = {}
            for person in list(self.students.keys()):
                state = self.students.get(person)
                if state is not None:
                    self._index_student(state)
        return self._index

    def _index_student(self, state: StudentState) -> None:
        if self._index is None:
            return  # built lazily on the first reference event
        for key in references_of(state, self.reference):
            self._index.setdefault(key, set()).add(state.person_id)

    def _index_rows(self, person: int, rows: Iterable[Any]) -> None:
        if self._index is None:
            return
        for row in rows:
            for key in row_references(row, self.reference):
                self._index.setdefault(key, set()).add(person)

    def _affected_by(self, event: ChangeEvent) -> set[int]:
        index = self._ensure_index()
        people = set(index.get((event.topic, event.key), ()))
        if event.topic == "sis.schools":
            # schools reach students through calendars: find this school's calendars
            for (topic, cal_id), row in list(self.reference.rows.items()):
                if topic == "sis.calendars" and getattr(row, "school_id", None) == event.key:
                    people |= index.get(("sis.calendars", cal_id), set())
        if event.topic == "sis.tests":
            for (topic, test_id), row in list(self.reference.rows.items()):
                if topic == "sis.tests" and getattr(row, "parent_id", None) == event.key:
                    people |= index.get(("sis.tests", test_id), set())
        return people

    def reset_index(self) -> None:
        """Forget the in-memory index (after a rebalance the stores may hold other students)."""
        self._index = None
