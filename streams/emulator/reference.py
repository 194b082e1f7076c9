"""What the emulated ODS already holds before any studentAssessment arrives.

The state loads the 16 assessments of seed 003's Assessment Identifier table (with their objective
assessments) and the descriptors of 003's tables; the Ed-Fi default descriptors (Data Standard 5.2) are
always there; students, schools and staff are added by the caller (the demo and ``simulate`` add those of
the SIS events; a test adds what it needs).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

KSDE_NAMESPACE = "uri://ksde.org/Assessment/Assessment.xml"

STATE_ASSESSMENTS: tuple[str, ...] = (
    "Animal Systems Assessment",
    "Comprehensive Agriculture Assessment",
    "Dyslexia Screener_Acadience",
    "Dyslexia Screener_AIMSPlus",
    "Dyslexia Screener_easyCBM",
    "Dyslexia Screener_FASTBridge",
    "Dyslexia Screener_iReady",
    "Dyslexia Screener_KS Alternate Screener",
    "Dyslexia Screener_Other",
    "Dyslexia Screener_Renaissance Star",
    "Kansas English Language Proficiency Assessment (KELPA)",
    "Plant Systems Assessment",
    "State English Language Arts Assessment",
    "State History/Gov Assessment",
    "State Mathematics Assessment",
    "State Science Assessment",
)
# Objective assessments: History/Gov claim/thesis, evidence, reasoning (003); the Dyslexia screeners'
# accuracy and rate measures (an interpretation, docs/emulator.md).
OBJECTIVES: dict[str, tuple[str, ...]] = {"State History/Gov Assessment": ("01", "02", "03")}
DYSLEXIA_OBJECTIVES = ("ACC", "RATE")

KSDE_DESCRIPTORS: dict[str, tuple[str, ...]] = {
    "AssessmentRequestDescriptor": (
        "Clear test subject indicator", "COMPAGRIC - No Test in Power, Structural, and Tech",
        "COMPAGRIC - Test in Power, Structural, and Tech", "General Assessment",
        "KELPA for current ESOL students only", "KELPA for ESOL program eligible student",
        "No test in this content area", "PLANTSYSTEMS - No Test in Horticulture Module",
        "PLANTSYSTEMS - Test in Horticulture Module", "Yes test in this content area"),
    "PerformanceLevelDescriptor": (
        "Not Assessed", "Accuracy at or Above, Rate at or Above Benchmark",
        "Accuracy at or Above, Rate Below Benchmark", "Accuracy Below, Rate at or Above Benchmark",
        "Accuracy Below, Rate Below Benchmark", "At or Above Benchmark", "Below Benchmark",
        "Performance Level 1", "Performance Level 2", "Performance Level 3", "Performance Level 4",
        "Student exempt from testing", "Student refused to test"),
}


@cache
def default_descriptors() -> dict[str, tuple[str, ...]]:
    text = resources.files("streams.emulator").joinpath("data/default-descriptors.json").read_text()
    return {k: tuple(v) for k, v in json.loads(text)["descriptors"].items()}


@dataclass
class OdsReference:
    assessments: set[tuple[str, str]] = field(default_factory=set)
    objectives: set[tuple[str, str, str]] = field(default_factory=set)
    descriptors: dict[str, set[str]] = field(default_factory=dict)   # name -> lower-cased URIs
    students: set[str] = field(default_factory=set)
    schools: set[int] = field(default_factory=set)
    staff: set[str] = field(default_factory=set)
    school_years: set[int] = field(default_factory=lambda: set(range(1991, 2051)))

    @classmethod
    def kansas(cls) -> OdsReference:
        ref = cls()
        for name, values in default_descriptors().items():
            for uri in values:
                ref.add_descriptor(name, uri)
        for name, codes in KSDE_DESCRIPTORS.items():
            for code in codes:
                ref.add_descriptor(name, f"uri://ksde.org/{name}#{code}")
        ref.add_descriptor("AssessmentReportingMethodDescriptor",
                           "uri://ed-fi.org/AssessmentReportingMethodDescriptor#Achievement/proficiency level")
        for identifier in STATE_ASSESSMENTS:
            ref.assessments.add((identifier, KSDE_NAMESPACE))
            codes = OBJECTIVES.get(identifier) or (
                DYSLEXIA_OBJECTIVES if identifier.startswith("Dyslexia Screener_") else ())
            for code in codes:
                ref.objectives.add((identifier, code, KSDE_NAMESPACE))
        return ref

    def add_descriptor(self, name: str, uri: str) -> None:
        self.descriptors.setdefault(name, set()).add(uri.lower())

    def has_descriptor(self, name: str, uri: str) -> bool:
        return uri.lower() in self.descriptors.get(name, set())
