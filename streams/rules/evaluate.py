"""Evaluate one student: which studentAssessments the ODS should hold now, and why each score counts.

:func:`evaluate` is a pure function of the student's current SIS rows and the reference rows. Because it
never depends on the order in which events arrived, any arrival order converges to the same result.
Every rule is cited by its seed 003 section; docs/rules.md lists them with their tests.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from streams.rules.arrays import ksde_extension, objectives
from streams.rules.assessments import assessment
from streams.rules.candidate import Candidate
from streams.rules.config import RuleConfig
from streams.rules.descriptors import descriptor_uri
from streams.rules.reasons import Outcome, Reason
from streams.rules.state import ReferenceData, StudentState
from streams.sis.rows import Enrollment, School, Test, TestScore
from streams.writes import NaturalKey

SERVICE_PRIORITY = {"P": 0, "S": 1, "N": 2}
RESULT_MAX_LENGTH = 35  # Ed-Fi scoreResults.result


@dataclass(frozen=True, slots=True)
class Decision:
    """Why one score (or the student as a whole) did or did not lead to a record."""

    person_id: int
    score_id: int | None
    test_id: int | None
    outcome: Outcome
    reason: Reason
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
    # Identifiers that are not desired *only* because their test's scope year is now out of scope: a score
    # would still give the record if the test were in scope. 003 sends no DELETE for them (Object Triggering
    # Logic, last Delete row); any other reason to drop the record still deletes it (docs/rules.md, 8).
    retained: set[str] = field(default_factory=set)


class _Held(Exception):
    def __init__(self, outcome: Outcome, reason: Reason, message: str) -> None:
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
    refusals: list[tuple[Reason, str]] = []
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
    test_out_of_year = not test_in_scope_year(parent, cfg)
    day = administration_day(score, test, parent, cfg)
    try:
        if not cfg.in_scope(day):
            raise _Held("held", "out_of_scope_year",
                        f"held: assessment date {day} is outside the scope year {cfg.start_date} to "
                        f"{cfg.end_date}")
        enrollment, school = choose_enrollment(state, ref, cfg, day)
        info = assessment(parent.state_code)
        if not info.grade_eligible(enrollment.grade):
            grades = ", ".join(sorted(info.grades or ()))
            raise _Held("not_reported", "grade_not_eligible",
                        f"not reported: '{parent.state_code}' reports for grades {grades} only "
                        f"(enrollment {enrollment.enrollment_id} is grade {enrollment.grade})")
    except _Held as held:
        if test_out_of_year:
            # 003's scope-year exception keeps a sent record only while nothing else drops it
            raise _Held(held.outcome, held.reason,
                        f"{held.message}; test {parent.test_id} also belongs to school year {parent.end_year}, "
                        "so a record already sent is not kept (003 keeps it only when the test's scope year "
                        "is the one change)") from None
        raise
    if test_out_of_year:
        retained.add(said)
        raise _Held("held", "test_out_of_scope_year",
                    f"held: test {parent.test_id} belongs to school year {parent.end_year}, not {cfg.end_year}; "
                    f"the score of {day} (enrollment {enrollment.enrollment_id}) still qualifies, so a record "
                    "already sent is kept as it is and no new one is sent (003: no delete when the assessment "
                    "scope year is changed to out of scope)")
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


def giving_score(cands: list[Candidate]) -> tuple[Candidate, list[Candidate]]:
    """The one score that gives the record, and the candidates of the record's assessment.

    003 "Only one record per student Assessment": the most recent score (date, then scoreID) chooses the
    assessment (one Dyslexia screener or another, interpretation 4); within it the most recent parent-level
    score gives every member taken from a score (administrationDate, reportedSchoolReference, scoreResults,
    proctorStaffReference, assessmentRequestDescriptor), or the most recent child score when the record has
    only child scores. Child scores give the objective results (interpretation 5)."""
    latest = max(cands, key=lambda c: c.recency)
    of_record = [c for c in cands if c.parent.test_id == latest.parent.test_id]
    top = [c for c in of_record if not c.is_child]
    return max(top or of_record, key=lambda c: c.recency), of_record


def _build_record(state: StudentState, said: str, cands: list[Candidate], ref: ReferenceData,
                  cfg: RuleConfig, ev: Evaluation) -> None:
    assert state.student is not None
    primary, of_record = giving_score(cands)
    parent = primary.parent
    assert parent.state_code is not None
    used: dict[int, str] = {primary.score.score_id: "sent"}
    notes: list[str] = []
    payload: dict[str, Any] = {
        "studentAssessmentIdentifier": said,
        "assessmentReference": {"assessmentIdentifier": parent.state_code, "namespace": cfg.namespace},
        "studentReference": {"studentUniqueId": state.student.state_id},
        "reportedSchoolReference": {"schoolId": primary.school.state_school_id},
        "administrationDate": f"{primary.day.isoformat()}T00:00:00Z",
        "assessedMinutes": 0,
    }
    if not primary.is_child:  # a parent-level score gives scoreResults; child scores do not
        results = _score_results(primary.score, cfg, notes)
        if results:
            payload["scoreResults"] = results
    period = _period(parent, cfg)
    if period:
        payload["period"] = period
    objective_results = objectives(of_record, primary.enrollment, cfg, used, notes)
    if objective_results:
        payload["studentObjectiveAssessments"] = objective_results
    ext = ksde_extension(primary, ref, notes)
    if ext:
        payload["_ext"] = {"ksde": ext}
    record = DesiredRecord(
        natural_key=NaturalKey(parent.state_code, cfg.namespace, said, state.student.state_id),
        payload=payload, school_id=primary.school.state_school_id,
        administration_date=primary.day.isoformat(),
        score_ids=tuple(sorted(c.score.score_id for c in cands)),
        reason=f"score {primary.score.score_id} on {primary.day} at school {primary.school.state_school_id} "
               f"(enrollment {primary.enrollment.enrollment_id}, service type {primary.enrollment.service_type})",
    )
    ev.records[said] = record
    for c in cands:
        ev.decisions.append(_decision_in_record(state.person_id, c, primary, said, record, used, notes))


def _decision_in_record(person_id: int, c: Candidate, primary: Candidate, said: str, record: DesiredRecord,
                        used: dict[int, str], notes: list[str]) -> Decision:
    sid = c.score.score_id
    extra = ("; " + "; ".join(notes)) if notes else ""
    if sid in used:
        role = "an objective result" if sid != primary.score.score_id else "the reported result"
        return Decision(person_id, sid, c.score.test_id, "sent", "sent",
                        f"sent: score {sid} of {c.day} is {role} of {said}: {record.reason}{extra}", said)
    given = (f"score {primary.score.score_id} of {primary.day} (enrollment {primary.enrollment.enrollment_id}) "
             f"gives {said}")
    if c.parent.test_id != primary.parent.test_id:
        why = f"a more recent '{primary.parent.state_code}' result reports instead"
    elif c.is_child and not primary.enrollment.active_on(c.day):
        why = (f"its date is outside enrollment {primary.enrollment.enrollment_id}, the current enrollment "
               "of the record")
    elif any(note.startswith(f"score {sid} ") for note in notes):
        why = next(note for note in notes if note.startswith(f"score {sid} "))
    elif c.is_child:
        why = f"a more recent result of objective '{(c.test.code or '').strip()}' is reported"
    else:
        why = "it is not the most recent result"
    return Decision(person_id, sid, c.score.test_id, "not_reported", "superseded",
                    f"not reported: score {sid} of {c.day} (enrollment {c.enrollment.enrollment_id}): {why}; "
                    f"{given} (003: only one record per student assessment)", said)


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
