"""What the emulated ODS already holds before any studentAssessment arrives.

The state loads the 16 assessments of seed 003's Assessment Identifier table (with their objective
assessments) and the descriptors of 003's tables; the Ed-Fi default descriptors (Data Standard 5.2) are
always there; students, schools and staff are added by the caller (the demo and ``simulate`` add those of
the SIS events; a test adds what it needs).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

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


EDFI_XML_NAMESPACE = "{http://ed-fi.org/5.2.0}"


@cache
def default_descriptors() -> dict[str, tuple[str, ...]]:
    """Descriptor name -> URIs (``namespace#codeValue``) of the Data Standard 5.2 default descriptor XMLs."""
    out: dict[str, list[str]] = {}
    folder = resources.files("streams.emulator").joinpath("data/descriptors-ds-5.2")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".xml"):
            continue
        for element in ET.fromstring(entry.read_bytes()):
            name = element.tag.removeprefix(EDFI_XML_NAMESPACE)
            namespace = element.findtext(f"{EDFI_XML_NAMESPACE}Namespace")
            code = element.findtext(f"{EDFI_XML_NAMESPACE}CodeValue")
            if namespace and code:
                out.setdefault(name, []).append(f"{namespace.strip()}#{code.strip()}")
    return {name: tuple(uris) for name, uris in out.items()}


@dataclass
class OdsReference:
    assessments: set[tuple[str, str]] = field(default_factory=set)
    objectives: set[tuple[str, str, str]] = field(default_factory=set)
    items: set[tuple[str, str, str]] = field(default_factory=set)   # assessment items, as objectives
    descriptors: dict[str, set[str]] = field(default_factory=dict)   # name -> lower-cased URIs
    students: set[str] = field(default_factory=set)
    schools: set[int] = field(default_factory=set)
    staff: set[str] = field(default_factory=set)
    school_years: set[int] = field(default_factory=lambda: set(range(1991, 2051)))
    published: dict[str, str] = field(default_factory=dict)   # lower-cased URI -> as first loaded

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

    def add(self, kind: str, value: Any) -> None:
        """Add one item by kind (the form the emulator keeps in its SQLite ``reference`` table)."""
        if kind == "student":
            self.students.add(str(value))
        elif kind == "school":
            self.schools.add(int(value))
        elif kind == "staff":
            self.staff.add(str(value))
        elif kind == "assessment":
            self.assessments.add((str(value[0]), str(value[1])))
        elif kind == "objective":
            self.objectives.add((str(value[0]), str(value[1]), str(value[2])))
        elif kind == "item":
            self.items.add((str(value[0]), str(value[1]), str(value[2])))
        elif kind == "descriptor":
            self.add_descriptor(str(value[0]), str(value[1]))
        else:
            raise ValueError(f"unknown reference kind {kind!r}")

    def has_assessment(self, identifier: str, namespace: str) -> bool:
        """Namespaces compare case-insensitively (they are URIs), identifiers exactly."""
        return (identifier, namespace) in self.assessments or any(
            a == identifier and n.lower() == namespace.lower() for a, n in self.assessments)

    def has_objective(self, identifier: str, code: str, namespace: str) -> bool:
        return (identifier, code, namespace) in self.objectives or any(
            a == identifier and c == code and n.lower() == namespace.lower() for a, c, n in self.objectives)

    def has_item(self, identifier: str, code: str, namespace: str) -> bool:
        return (identifier, code, namespace) in self.items or any(
            a == identifier and c == code and n.lower() == namespace.lower() for a, c, n in self.items)

    def add_descriptor(self, name: str, uri: str) -> None:
        self.descriptors.setdefault(name, set()).add(uri.lower())
        self.published.setdefault(uri.lower(), uri)

    def published_uri(self, lowered: str) -> str:
        """A descriptor URI as it was loaded (matching is case-insensitive, listings show the original)."""
        return self.published.get(lowered, lowered)

    def has_descriptor(self, name: str, uri: str) -> bool:
        return uri.lower() in self.descriptors.get(name, set())
