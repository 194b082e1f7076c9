"""The arrays and extension members of a studentAssessment (seed 003, Arrays and Assessment Identifier rules):
studentObjectiveAssessments for History/Government and the Dyslexia screeners, and the Kansas extension
(proctorStaffReference, assessmentRequestDescriptor)."""

from __future__ import annotations

from typing import Any

from streams.rules.assessments import assessment
from streams.rules.candidate import Candidate
from streams.rules.config import RuleConfig
from streams.rules.descriptors import (
    ASSESSMENT_REQUEST_CODES,
    HIST_GOV_LEVELS,
    OBJECTIVE_REPORTING_METHOD,
    descriptor_uri,
    performance_level,
)
from streams.rules.state import ReferenceData
from streams.sis.rows import Enrollment

_REQUEST_CODES = {code.lower(): code for code in ASSESSMENT_REQUEST_CODES}


def objectives(cands: list[Candidate], enrollment: Enrollment, cfg: RuleConfig, used: dict[int, str],
                notes: list[str]) -> list[dict[str, Any]]:
    parent = cands[0].parent
    code = parent.state_code or ""
    scores = assessment(code).objectives
    if scores is None:
        return []
    children = [c for c in cands if c.is_child and enrollment.active_on(c.day)]
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

    subject = (scores.subject or "").lower()
    if scores.kind == "hist_gov":
        # 003 Assessment Identifier rules, History/Gov: codes 01-03, most recent in the current enrollment,
        # otherwise 00.
        for ident in scores.codes:
            level = HIST_GOV_LEVELS["00"]
            mine = [c for c in children if (c.test.code or "").strip().zfill(2) == ident
                    and (c.test.subject or "").strip().lower() == subject]
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
    if scores.kind == "performance_level":
        by_code: dict[str, list[Candidate]] = {}
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


def ksde_extension(primary: Candidate, ref: ReferenceData, notes: list[str]) -> dict[str, Any]:
    """003: proctorStaffReference and assessmentRequestDescriptor (Kansas extension, see docs/rules.md), both
    from the one score that gives the record: its proctor, the enrollment it reports through."""
    code = primary.parent.state_code or ""
    info = assessment(code)
    ext: dict[str, Any] = {}
    proctor = primary.score.proctor_person_id
    if info.reports_proctor and proctor is not None:
        staff = ref.staff(proctor)
        if staff is not None:
            ext["proctorStaffReference"] = {"staffUniqueId": staff.staff_state_id}
        else:
            notes.append(f"proctor {proctor} of score {primary.score.score_id} not known yet")
    if info.request_field:
        value = getattr(primary.enrollment, info.request_field)
        if value:
            canonical = _REQUEST_CODES.get(value.strip().lower())
            if canonical:
                ext["assessmentRequestDescriptor"] = descriptor_uri("AssessmentRequestDescriptor", canonical)
            else:
                notes.append(f"assessment request '{value}' of enrollment {primary.enrollment.enrollment_id} "
                             "is not an AssessmentRequestDescriptor code value")
    return ext
