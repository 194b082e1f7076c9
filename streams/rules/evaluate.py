"""Evaluate one student: which studentAssessments the ODS should hold now, and why each score counts.

:func:`evaluate` is a pure function of the student's current SIS rows and the reference rows. Because it
never depends on the order in which events arrived, any arrival order converges to the same result.
Every rule is cited by its seed 003 section; docs/rules.md lists them with their tests.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from streams.rules.arrays import ksde_extension, objectives
from streams.rules.candidate import Candidate
from streams.rules.config import DYSLEXIA_PREFIX, RuleConfig
from streams.rules.descriptors import (
    descriptor_uri,
)
from streams.rules.state import ReferenceData, StudentState
from streams.sis.rows import Enrollment, School, Test, TestScore
from streams.writes import NaturalKey

Outcome = Literal["sent", "held", "not_reported"]

DYSLEXIA_GRADES = frozenset({"05", "06", "07", "08", "13"})
SERVICE_PRIORITY = {"P": 0, "S": 1, "N": 2}
RESULT_MAX_LENGTH = 35  # Ed-Fi scoreResults.result



@dataclass(frozen=True, slots=True)
class Decision:
    """Why one score (or the student as a whole) did or did not lead to a record."""

    person_id: int
    score_id: int | None
    test_id: int | None
    outcome: Outcome
    reason: str
    message: str
    student_assessment_identifier: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"personID": self.person_id, "scoreID": self.score_id, "testID": self.test_id,
                "outcome": self.outcome, "reason": self.reason, "message": self.message,
                "studentAssessmentIdentifier": self.student_assessment_identifier}


@dataclass(frozen=True)
class DesiredRecord:
    natural_key: NaturalKey
    payload: dict[str, Any]
    school_id: int | None
    administration_date: str
    score_ids: tuple[int, ...]
    reason: str


@dataclass
class Evaluation:
    person_id: int
    records: dict[str, DesiredRecord] = field(default_factory=dict)
    decisions: list[Decision] = field(default_factory=list)
    # Identifiers that are not desired only because their test's scope year is now out of scope: 003 says
    # no DELETE is sent for them (Object Triggering Logic, last Delete row).
    retained: set[str] = field(default_factory=set)


class _Held(Exception):
    def __init__(self, outcome: Outcome, reason: str, message: str) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.reason = reason
        self.message = message


def administration_day(score: TestScore, test: Test, parent: Test, cfg: RuleConfig) -> dt.date:
    """003 Object Data Elements, administrationDate: TestScore.date, else Test.startDate, else the default."""
    return score.date or test.start_date or parent.start_date or cfg.default_administration_date


def test_in_scope_year(test: Test, cfg: RuleConfig) -> bool:
    """Test.endYear is the assessment's scope year; a test with no end year belongs to every year."""
    return test.end_year is None or test.end_year == cfg.end_year


def choose_enrollment(state: StudentState, ref: ReferenceData, cfg: RuleConfig, day: dt.date
                      ) -> tuple[Enrollment, School]:
    """003 Object Triggering Logic, Post: an active enrollment on the assessment date, excluded ones
    filtered out, overlapping ones chosen by service type P, then S, then N."""
    active = sorted((e for e in state.enrollments.values() if e.active_on(day)),
                    key=lambda e: (SERVICE_PRIORITY[e.service_type], -e.start_date.toordinal(), e.enrollment_id))
    if not active:
        raise _Held("held", "no_active_enrollment", f"held: no active enrollment on {day}{_nearest(state, day)}")
    refusals: list[tuple[str, str]] = []
    for e in active:
        calendar = ref.calendar(e.calendar_id)
        if calendar is None:
            refusals.append(("calendar_unknown", f"calendar {e.calendar_id} of enrollment {e.enrollment_id} "
                                                 "is not known yet"))
            continue
        if calendar.end_year != cfg.end_year:
            refusals.append(("no_active_enrollment", f"enrollment {e.enrollment_id} is in calendar "
                                                     f"{calendar.calendar_id} of school year {calendar.end_year}"))
            continue
        if e.state_exclude:
            refusals.append(("excluded_enrollment", f"enrollment {e.enrollment_id} is marked State Exclude"))
            continue
        if e.no_show:
            refusals.append(("excluded_enrollment", f"enrollment {e.enrollment_id} is marked No Show"))
            continue
        if calendar.exclude:
            refusals.append(("excluded_calendar", f"calendar {calendar.calendar_id} of enrollment "
                                                  f"{e.enrollment_id} is marked Exclude"))
            continue
        school = ref.school(calendar.school_id)
        if school is None:
            refusals.append(("school_unknown", f"school {calendar.school_id} is not known yet"))
            continue
        if school.exclude:
            refusals.append(("excluded_school", f"school {school.school_id} ({school.name}) is marked Exclude"))
            continue
        return e, school
    reason, why = refusals[0]
    return_msg = f"held: {why} (the only active enrollment on {day})" if len(refusals) == 1 else (
        f"held: {why}; no other active enrollment on {day} can report it")
    raise _Held("held", reason, return_msg)


def _nearest(state: StudentState, day: dt.date) -> str:
    ended = [e for e in state.enrollments.values() if e.end_date is not None and e.end_date < day]
    later = [e for e in state.enrollments.values() if e.start_date > day]
    if ended:
        e = max(ended, key=lambda e: e.end_date or day)
        return f" (enrollment {e.enrollment_id} ended {e.end_date})"
    if later:
        e = min(later, key=lambda e: e.start_date)
        return f" (enrollment {e.enrollment_id} starts {e.start_date})"
    return " (the student has no enrollment)"


def _resolve_test(score: TestScore, ref: ReferenceData) -> tuple[Test, Test, bool]:
    test = ref.test(score.test_id)
    if test is None:
        raise _Held("held", "test_unknown", f"held: test {score.test_id} is not known yet")
    if test.state_code:
        return test, test, False
    if test.parent_id is not None:
        parent = ref.test(test.parent_id)
        if parent is None:
            raise _Held("held", "test_unknown", f"held: parent test {test.parent_id} of test {test.test_id} "
                                                "is not known yet")
        if parent.state_code:
            return test, parent, True
    raise _Held("not_reported", "not_state_reported",
                f"not reported: test {test.test_id} ({test.name}) is not a state-reported assessment")


def _candidate(state: StudentState, score: TestScore, ref: ReferenceData, cfg: RuleConfig,
               retained: set[str]) -> Candidate:
    test, parent, is_child = _resolve_test(score, ref)
    assert parent.state_code is not None
    key = cfg.assessment_key(parent.state_code)
    if key is None:
        raise _Held("not_reported", "not_mapped",
                    f"not reported: assessment '{parent.state_code}' has no key in assessmentKeys")
    if state.student is None:
        raise _Held("held", "student_unknown", f"held: student {state.person_id} is not known yet")
    said = f"{key}_{state.student.state_id}_{cfg.end_year}"
    if not test_in_scope_year(parent, cfg):
        retained.add(said)
        raise _Held("held", "test_out_of_scope_year",
                    f"held: test {parent.test_id} belongs to school year {parent.end_year}, not "
                    f"{cfg.end_year} (a record already sent is kept, 003)")
    day = administration_day(score, test, parent, cfg)
    if not cfg.in_scope(day):
        raise _Held("held", "out_of_scope_year",
                    f"held: assessment date {day} is outside the scope year {cfg.start_date} to {cfg.end_date}")
    enrollment, school = choose_enrollment(state, ref, cfg, day)
    if parent.state_code.startswith(DYSLEXIA_PREFIX) and enrollment.grade not in DYSLEXIA_GRADES:
        raise _Held("not_reported", "grade_not_eligible",
                    f"not reported: the Dyslexia screener reports for grades 05, 06, 07, 08, 13 only "
                    f"(enrollment {enrollment.enrollment_id} is grade {enrollment.grade})")
    return Candidate(score, test, parent, is_child, day, enrollment, school, said)


def evaluate(state: StudentState, ref: ReferenceData, cfg: RuleConfig) -> Evaluation:
    ev = Evaluation(person_id=state.person_id)
    groups: dict[str, list[Candidate]] = {}
    for score in sorted(state.scores.values(), key=lambda s: s.score_id):
        try:
            cand = _candidate(state, score, ref, cfg, ev.retained)
        except _Held as held:
            ev.decisions.append(Decision(state.person_id, score.score_id, score.test_id, held.outcome,
                                         held.reason, held.message,
                                         _said_if_known(state, score, ref, cfg)))
            continue
        groups.setdefault(cand.said, []).append(cand)
    for said, cands in groups.items():
        _build_record(state, said, cands, ref, cfg, ev)
    ev.retained -= set(ev.records)
    return ev


def _said_if_known(state: StudentState, score: TestScore, ref: ReferenceData, cfg: RuleConfig) -> str | None:
    if state.student is None:
        return None
    try:
        _, parent, _ = _resolve_test(score, ref)
    except _Held:
        return None
    key = cfg.assessment_key(parent.state_code or "")
    return f"{key}_{state.student.state_id}_{cfg.end_year}" if key else None


def _build_record(state: StudentState, said: str, cands: list[Candidate], ref: ReferenceData,
                  cfg: RuleConfig, ev: Evaluation) -> None:
    assert state.student is not None
    # 003 "Only one record per student Assessment": the most recent score gives the record.
    primary = max(cands, key=lambda c: c.recency)
    parent = primary.parent
    assert parent.state_code is not None
    parents_of_record = [c for c in cands if c.parent.test_id == parent.test_id]
    used: dict[int, str] = {}
    notes: list[str] = []
    payload: dict[str, Any] = {
        "studentAssessmentIdentifier": said,
        "assessmentReference": {"assessmentIdentifier": parent.state_code, "namespace": cfg.namespace},
        "studentReference": {"studentUniqueId": state.student.state_id},
        "reportedSchoolReference": {"schoolId": primary.school.state_school_id},
        "administrationDate": f"{primary.day.isoformat()}T00:00:00Z",
        "assessedMinutes": 0,
    }
    top_scores = [c for c in parents_of_record if not c.is_child]
    if top_scores:
        top = max(top_scores, key=lambda c: c.recency)
        results = _score_results(top.score, cfg, notes)
        if results:
            payload["scoreResults"] = results
        used[top.score.score_id] = "sent"
    period = _period(parent, cfg)
    if period:
        payload["period"] = period
    objective_results = objectives(parents_of_record, primary.enrollment, cfg, used, notes)
    if objective_results:
        payload["studentObjectiveAssessments"] = objective_results
    ext = ksde_extension(parents_of_record, primary, ref, notes)
    if ext:
        payload["_ext"] = {"ksde": ext}
    used.setdefault(primary.score.score_id, "sent")
    record = DesiredRecord(
        natural_key=NaturalKey(parent.state_code, cfg.namespace, said, state.student.state_id),
        payload=payload, school_id=primary.school.state_school_id,
        administration_date=primary.day.isoformat(),
        score_ids=tuple(sorted(c.score.score_id for c in cands)),
        reason=f"score {primary.score.score_id} on {primary.day} at school {primary.school.state_school_id} "
               f"(enrollment {primary.enrollment.enrollment_id}, service type {primary.enrollment.service_type})",
    )
    ev.records[said] = record
    extra = ("; " + "; ".join(notes)) if notes else ""
    for c in cands:
        sid = c.score.score_id
        if sid in used:
            role = "objective result" if c.is_child else "the reported result"
            ev.decisions.append(Decision(state.person_id, sid, c.score.test_id, "sent", "sent",
                                         f"sent: {role} of {said}: {record.reason}{extra}", said))
        elif c.parent.test_id != parent.test_id:
            ev.decisions.append(Decision(state.person_id, sid, c.score.test_id, "not_reported", "superseded",
                                         f"not reported: a more recent '{parent.state_code}' result "
                                         f"(score {primary.score.score_id}) reports as {said}", said))
        else:
            ev.decisions.append(Decision(state.person_id, sid, c.score.test_id, "not_reported", "superseded",
                                         f"not reported: score {primary.score.score_id} is more recent for "
                                         f"{said}", said))


def _score_results(score: TestScore, cfg: RuleConfig, notes: list[str]) -> list[dict[str, str]]:
    """003 Arrays, Score Results: the mapped score fields with a value; unmapped or empty: not reported."""
    out = []
    for field_name, method_uri, datatype_uri in cfg.score_result_fields:
        value = score.field(field_name)
        if value is None:
            continue
        text = str(value).strip()
        if not text:
            continue
        if len(text) > RESULT_MAX_LENGTH:
            notes.append(f"{field_name} not reported: longer than {RESULT_MAX_LENGTH} characters")
            continue
        out.append({"assessmentReportingMethodDescriptor": method_uri, "resultDatatypeTypeDescriptor": datatype_uri,
                    "result": text})
    return out



def _period(parent: Test, cfg: RuleConfig) -> dict[str, str] | None:
    """003 Arrays, Period: only for a mapped test whose end year is the configuration's or none."""
    code = cfg.periods.get(parent.test_id)
    if not code or not test_in_scope_year(parent, cfg):
        return None
    period = {"assessmentPeriodDescriptor": descriptor_uri("AssessmentPeriodDescriptor", code)}
    if parent.start_date:
        period["beginDate"] = parent.start_date.isoformat()
    if parent.end_date:
        period["endDate"] = parent.end_date.isoformat()
    return period


def describe(decisions: Iterable[Decision]) -> list[dict[str, Any]]:
    return [d.to_dict() for d in decisions]
