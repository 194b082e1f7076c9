"""The catalogue of the state assessments: seed 003's Assessment Identifier table, one entry per stateCode.

This is the one home of what the rules know about each state assessment: its default key (the first part of
studentAssessmentIdentifier), whether it reports objective scores (History/Government, the Dyslexia
screeners) and with which codes, the enrollment state-reporting field it reports as
assessmentRequestDescriptor, its grade limits and whether it reports the proctor. The evaluation
(``evaluate.py``), the arrays (``arrays.py``), the configuration defaults (``RuleConfig``) and resync ("is this
ODS record one of ours?") all read it; adding or changing a state assessment is an edit of this table only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

NAMESPACE = "uri://ksde.org/Assessment/Assessment.xml"


@dataclass(frozen=True, slots=True)
class ObjectiveScores:
    """How the child tests of a state assessment report as studentObjectiveAssessments.

    ``hist_gov``: the codes are fixed (003: Claim/Thesis 01, Evidence 02, Reasoning 03), each reported with
    the most recent valid 00-06 result within the current enrollment, otherwise 00; the child test must have
    ``subject``. ``performance_level``: every child test's code reports the most recent result that is a
    PerformanceLevelDescriptor code value; nothing when there is none (docs/rules.md interpretation 6)."""

    kind: Literal["hist_gov", "performance_level"]
    codes: tuple[str, ...] = ()      # the identification codes always reported (hist_gov)
    subject: str | None = None       # the child test's subject (case-insensitive), when 003 names one


@dataclass(frozen=True, slots=True)
class StateAssessment:
    state_code: str                         # Test.stateCode = the Ed-Fi assessmentIdentifier
    title: str                              # 003's Assessment Title
    default_key: str                        # studentAssessmentIdentifier = key_stateID_endYear
    objectives: ObjectiveScores | None = None
    request_field: str | None = None        # Enrollment attribute -> _ext.ksde.assessmentRequestDescriptor
    grades: frozenset[str] | None = None    # reports only for enrollments in these grades (None: every grade)
    reports_proctor: bool = False           # _ext.ksde.proctorStaffReference (003: "Reports for KELPA")

    def grade_eligible(self, grade: str) -> bool:
        return self.grades is None or grade in self.grades


HIST_GOV = ObjectiveScores("hist_gov", codes=("01", "02", "03"), subject="Hist/Gov")
DYSLEXIA = ObjectiveScores("performance_level")
# 003: "Dyslexia Screener: Reports the assigned value for students in grades 05, 06, 07, 08, or 13."
DYSLEXIA_GRADES = frozenset({"05", "06", "07", "08", "13"})
DYSLEXIA_KEY = "Dyslexia"  # 003's example: Dyslexia_00000001_2024, for every screener

# (stateCode suffix, 003's title): the titles as 003 spells them, dashes included
_SCREENERS = (
    ("Acadience", "Dyslexia Screener - Acadience"), ("AIMSPlus", "Dyslexia Screener - AIMSPlus"),
    ("easyCBM", "Dyslexia Screener - easyCBM"), ("FASTBridge", "Dyslexia Screener - FASTBridge"),
    ("iReady", "Dyslexia Screener - iReady"),
    ("KS Alternate Screener", "Dyslexia Screener \u2013 KS Alternate Screener"),
    ("Other", "Dyslexia Screener - Other (Meets Rubric Requirements)"),
    ("Renaissance Star", "Dyslexia Screener \u2013 Renaissance Star"),
)

CATALOGUE: tuple[StateAssessment, ...] = (
    StateAssessment("Animal Systems Assessment", "Animal Systems Assessment", "AnimalSys",
                    request_field="animal_systems_assessment"),
    StateAssessment("Comprehensive Agriculture Assessment", "Comprehensive Agriculture Assessment", "CompAgric",
                    request_field="comp_agric_assessment"),
    *(StateAssessment(f"Dyslexia Screener_{code}", title, DYSLEXIA_KEY,
                      objectives=DYSLEXIA, grades=DYSLEXIA_GRADES) for code, title in _SCREENERS),
    StateAssessment("Kansas English Language Proficiency Assessment (KELPA)",
                    "Kansas English Language Proficiency Assessment (KELPA)", "KELPA",
                    request_field="kelpa_exam", reports_proctor=True),
    StateAssessment("Plant Systems Assessment", "Plant Systems Assessment", "PlantSys",
                    request_field="plant_systems_assessment"),
    StateAssessment("State English Language Arts Assessment", "State English Language Arts Assessment", "ELA",
                    request_field="reading_assessment_type"),
    StateAssessment("State History/Gov Assessment", "State History/Gov Assessment", "HistGov", objectives=HIST_GOV),
    StateAssessment("State Mathematics Assessment", "State Mathematics Assessment", "Math",
                    request_field="math_assessment_type"),
    StateAssessment("State Science Assessment", "State Science Assessment", "Science",
                    request_field="science_assessment_type"),
)

BY_STATE_CODE: Mapping[str, StateAssessment] = {a.state_code: a for a in CATALOGUE}
STATE_CODES: tuple[str, ...] = tuple(a.state_code for a in CATALOGUE)
# A stateCode that is not in the catalogue but has a configured key reports as a plain assessment: no
# objective scores, no grade limit, no assessment request, no proctor.
PLAIN = StateAssessment("", "", "")


def default_keys() -> dict[str, str]:
    """stateCode -> default key, for every catalogued assessment (the configuration's defaults)."""
    return {a.state_code: a.default_key for a in CATALOGUE}


def assessment(state_code: str) -> StateAssessment:
    """The catalogue entry of ``state_code`` (:data:`PLAIN` when it is not a catalogued assessment)."""
    return BY_STATE_CODE.get(state_code, PLAIN)
