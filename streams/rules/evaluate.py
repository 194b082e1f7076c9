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

from streams.rules.config import DYSLEXIA_PREFIX, RuleConfig
from streams.rules.descriptors import (
    ASSESSMENT_REQUEST_CODES,
    HIST_GOV_LEVELS,
    OBJECTIVE_REPORTING_METHOD,
    descriptor_uri,
    performance_level,
)
from streams.rules.state import ReferenceData, StudentState
from streams.sis.rows import Enrollment, School, Test, TestScore
from streams.writes import NaturalKey

Outcome = Literal["sent", "held", "not_reported"]

HIST_GOV_STATE_CODE = "State History/Gov Assessment"
HIST_GOV_SUBJECT = "hist/gov"
HIST_GOV_CODES = ("01", "02", "03")
KELPA_STATE_CODE = "Kansas English Language Proficiency Assessment (KELPA)"
DYSLEXIA_GRADES = frozenset({"05", "06", "07", "08", "13"})
SERVICE_PRIORITY = {"P": 0, "S": 1, "N": 2}
RESULT_MAX_LENGTH = 35

# Enrollment state-reporting field reported as AssessmentRequestDescriptor, by the test's stateCode.
REQUEST_FIELD_BY_STATE_CODE: dict[str, str] = {
    "State Mathematics Assessment": "math_assessment_type",
    "State English Language Arts Assessment": "reading_assessment_type",
    "State Science Assessment": "science_assessment_type",
    KELPA_STATE_CODE: "kelpa_exam",
    "Comprehensive Agriculture Assessment": "comp_agric_assessment",
    "Animal Systems Assessment": "animal_systems_assessment",
    "Plant Systems Assessment": "plant_systems_assessment",
}
_REQUEST_CODES = {code.lower(): code for code in ASSESSMENT_REQUEST_CODES}


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


@dataclass(frozen=True, slots=True)
class _Candidate:
    score: TestScore
    test: Test            # the test the score is on
    parent: Test          # the state-reported test (the same as ``test`` unless ``test`` is a child)
    is_child: bool
    day: dt.date
    enrollment: Enrollment
    school: School
    said: str

    @property
    def recency(self) -> tuple[dt.date, int]:
        # 003: the most recent result; with no date, the scoreID decides (the effective date ties).
        return (self.day, self.score.score_id)


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
               retained: set[str]) -> _Candidate:
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
    return _Candidate(score, test, parent, is_child, day, enrollment, school, said)


def evaluate(state: StudentState, ref: ReferenceData, cfg: RuleConfig) -> Evaluation:
    ev = Evaluation(person_id=state.person_id)
    groups: dict[str, list[_Candidate]] = {}
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


def _build_record(state: StudentState, said: str, cands: list[_Candidate], ref: ReferenceData,
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
    objectives = _objectives(parents_of_record, primary.enrollment, cfg, used, notes)
    if objectives:
        payload["studentObjectiveAssessments"] = objectives
    ext = _ksde_extension(parents_of_record, primary, ref, notes)
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
    for field_name, (method, datatype) in sorted(cfg.score_results.items()):
        value = score.field(field_name)
        if value is None or str(value).strip() == "":
            continue
        text = str(value).strip()
        if len(text) > RESULT_MAX_LENGTH:
            notes.append(f"{field_name} not reported: longer than {RESULT_MAX_LENGTH} characters")
            continue
        out.append({
            "assessmentReportingMethodDescriptor": descriptor_uri("AssessmentReportingMethodDescriptor", method),
            "resultDatatypeTypeDescriptor": descriptor_uri("ResultDatatypeTypeDescriptor", datatype),
            "result": text,
        })
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


def _within(enrollment: Enrollment, day: dt.date) -> bool:
    return enrollment.active_on(day)


def _objectives(cands: list[_Candidate], enrollment: Enrollment, cfg: RuleConfig, used: dict[int, str],
                notes: list[str]) -> list[dict[str, Any]]:
    parent = cands[0].parent
    code = parent.state_code or ""
    children = [c for c in cands if c.is_child and _within(enrollment, c.day)]
    method = descriptor_uri("AssessmentReportingMethodDescriptor", OBJECTIVE_REPORTING_METHOD)
    out: list[dict[str, Any]] = []

    def objective(identification: str, level: str) -> dict[str, Any]:
        return {
            "objectiveAssessmentReference": {"assessmentIdentifier": code, "identificationCode": identification,
                                             "namespace": cfg.namespace},
            "performanceLevels": [{"assessmentReportingMethodDescriptor": method,
                                   "performanceLevelDescriptor": descriptor_uri("PerformanceLevelDescriptor",
                                                                                level)}],
        }

    if code == HIST_GOV_STATE_CODE:
        # 003 Assessment Identifier rules, History/Gov: codes 01-03, most recent in the current enrollment,
        # otherwise 00.
        for ident in HIST_GOV_CODES:
            level = HIST_GOV_LEVELS["00"]
            mine = [c for c in children if (c.test.code or "").strip().zfill(2) == ident
                    and (c.test.subject or "").strip().lower() == HIST_GOV_SUBJECT]
            for c in sorted(mine, key=lambda c: c.recency, reverse=True):
                value = (c.score.result or "").strip()
                value = value.zfill(2) if value.isdigit() else value
                if value in HIST_GOV_LEVELS:
                    level = HIST_GOV_LEVELS[value]
                    used[c.score.score_id] = "sent"
                    break
                notes.append(f"score {c.score.score_id} result {c.score.result!r} is not 00-06: ignored")
            out.append(objective(ident, level))
        return out
    if code.startswith(DYSLEXIA_PREFIX):
        by_code: dict[str, list[_Candidate]] = {}
        for c in children:
            if c.test.code:
                by_code.setdefault(c.test.code.strip(), []).append(c)
        for ident in sorted(by_code):
            for c in sorted(by_code[ident], key=lambda c: c.recency, reverse=True):
                level_code = performance_level(c.score.result or "")
                if level_code:
                    out.append(objective(ident, level_code))
                    used[c.score.score_id] = "sent"
                    break
                notes.append(f"score {c.score.score_id} result {c.score.result!r} is not a "
                             "PerformanceLevelDescriptor code value: not reported")
    return out


def _ksde_extension(cands: list[_Candidate], primary: _Candidate, ref: ReferenceData,
                    notes: list[str]) -> dict[str, Any]:
    """003: proctorStaffReference and assessmentRequestDescriptor (Kansas extension, see docs/rules.md)."""
    parent = primary.parent
    code = parent.state_code or ""
    ext: dict[str, Any] = {}
    if code == KELPA_STATE_CODE:
        for c in sorted(cands, key=lambda c: c.recency, reverse=True):
            if c.score.proctor_person_id is None:
                continue
            staff = ref.staff(c.score.proctor_person_id)
            if staff is not None:
                ext["proctorStaffReference"] = {"staffUniqueId": staff.staff_state_id}
            else:
                notes.append(f"proctor {c.score.proctor_person_id} not known yet")
            break
    attr = REQUEST_FIELD_BY_STATE_CODE.get(code)
    if attr:
        value = getattr(primary.enrollment, attr)
        if value:
            canonical = _REQUEST_CODES.get(value.strip().lower())
            if canonical:
                ext["assessmentRequestDescriptor"] = descriptor_uri("AssessmentRequestDescriptor", canonical)
            else:
                notes.append(f"assessment request '{value}' is not an AssessmentRequestDescriptor code value")
    return ext


def describe(decisions: Iterable[Decision]) -> list[dict[str, Any]]:
    return [d.to_dict() for d in decisions]
