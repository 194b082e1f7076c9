"""The arrays and extension members of a studentAssessment (seed 003, Arrays and Assessment Identifier rules):
studentObjectiveAssessments for History/Government and the Dyslexia screeners, and the Kansas extension
(proctorStaffReference, assessmentRequestDescriptor)."""

from __future__ import annotations

from typing import Any

from streams.rules.candidate import Candidate
from streams.rules.config import DYSLEXIA_PREFIX, RuleConfig
from streams.rules.descriptors import (
    ASSESSMENT_REQUEST_CODES,
    HIST_GOV_LEVELS,
    OBJECTIVE_REPORTING_METHOD,
    descriptor_uri,
    performance_level,
)
from streams.rules.state import ReferenceData
from streams.sis.rows import Enrollment

HIST_GOV_STATE_CODE = "State History/Gov Assessment"
HIST_GOV_SUBJECT = "hist/gov"
HIST_GOV_CODES = ("01", "02", "03")
KELPA_STATE_CODE = "Kansas English Language Proficiency Assessment (KELPA)"

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


def objectives(cands: list[Candidate], enrollment: Enrollment, cfg: RuleConfig, used: dict[int, str],
                notes: list[str]) -> list[dict[str, Any]]:
    parent = cands[0].parent
    code = parent.state_code or ""
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


def ksde_extension(cands: list[Candidate], primary: Candidate, ref: ReferenceData,
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
