"""Which student assessment a score belongs to, so that a score event re-evaluates that one alone.

Why: a student's records are independent of each other: every record (studentAssessmentIdentifier) is
built from the scores whose test, or parent test, carries a state code mapped to that record's
assessment key (:func:`streams.rules.evaluate.evaluate` groups them so). A score change can only change
the record of its old and of its new assessment; re-evaluating every score of the student on each score
event made one student with thousands of local-test scores cost time quadratic in their history.

A score whose test is unknown, not state-reported or not mapped belongs to no assessment (``None``): it is
kept in the student's state (compactly, see agents/table_values.py) but costs no evaluation. It is not
forgotten: a test event (a test that gets a state code) and every student or enrollment event still
re-evaluate the whole student, and a score event evaluates the score's own assessment, whichever it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from streams.rules.config import RuleConfig
from streams.rules.state import ReferenceData, StudentState
from streams.sis.rows import TestScore


class AssessmentScope:
    """Maps tests to assessment keys (cached: call :meth:`forget` when a test row changes)."""

    def __init__(self, cfg: RuleConfig) -> None:
        self.cfg = cfg
        self._of_test: dict[int, str | None] = {}

    def forget(self) -> None:
        self._of_test.clear()

    def assessment_of(self, score: TestScore, ref: ReferenceData) -> str | None:
        """The assessment key of the record ``score`` can report through, or None."""
        return self.assessment_of_test(score.test_id, ref)

    def assessment_of_test(self, test_id: int, ref: ReferenceData) -> str | None:
        if test_id in self._of_test:
            return self._of_test[test_id]
        key = self._resolve(test_id, ref)
        if key is not None or ref.test(test_id) is not None:
            self._of_test[test_id] = key  # an unknown test is not cached: it may arrive at any time
        return key

    def _resolve(self, test_id: int, ref: ReferenceData) -> str | None:
        test = ref.test(test_id)
        if test is None:
            return None
        code = test.state_code
        if not code and test.parent_id is not None:
            parent = ref.test(test.parent_id)
            code = parent.state_code if parent is not None else None
        return self.cfg.assessment_key(code) if code else None

    def restrict(self, state: StudentState, keys: set[str], ref: ReferenceData,
                 also: Iterable[int] = ()) -> StudentState:
        """The student's state with only the scores of the assessments ``keys`` (and the scores ``also``,
        so that a score of no assessment still gets its decision)."""
        extra = set(also)
        # once per test, not per score: a long history has a few tests and thousands of scores
        tests = {t for t in {s.test_id for s in state.scores.values()} if self.assessment_of_test(t, ref) in keys}
        scores = {sid: s for sid, s in state.scores.items() if s.test_id in tests or sid in extra}
        return replace(state, scores=scores)

    def identifiers(self, state: StudentState, keys: set[str]) -> set[str]:
        """The studentAssessmentIdentifiers of the assessments ``keys`` for this student (see evaluate)."""
        if state.student is None:
            return set()
        return {f"{key}_{state.student.state_id}_{self.cfg.end_year}" for key in keys}
