"""The descriptor tables of seed 003 as Ed-Fi descriptor URIs (``namespace#codeValue``)."""

from __future__ import annotations

KSDE = "uri://ksde.org"
EDFI = "uri://ed-fi.org"

NAMESPACES: dict[str, str] = {
    "AssessmentRequestDescriptor": f"{KSDE}/AssessmentRequestDescriptor",
    "PerformanceLevelDescriptor": f"{KSDE}/PerformanceLevelDescriptor",
    "AssessmentReportingMethodDescriptor": f"{EDFI}/AssessmentReportingMethodDescriptor",
    "ResultDatatypeTypeDescriptor": f"{EDFI}/ResultDatatypeTypeDescriptor",
    "AssessmentPeriodDescriptor": f"{EDFI}/AssessmentPeriodDescriptor",
}

ASSESSMENT_REQUEST_CODES: tuple[str, ...] = (
    "Clear test subject indicator",
    "COMPAGRIC - No Test in Power, Structural, and Tech",
    "COMPAGRIC - Test in Power, Structural, and Tech",
    "General Assessment",
    "KELPA for current ESOL students only",
    "KELPA for ESOL program eligible student",
    "No test in this content area",
    "PLANTSYSTEMS - No Test in Horticulture Module",
    "PLANTSYSTEMS - Test in Horticulture Module",
    "Yes test in this content area",
)

PERFORMANCE_LEVEL_CODES: tuple[str, ...] = (
    "Not Assessed",
    "Accuracy at or Above, Rate at or Above Benchmark",
    "Accuracy at or Above, Rate Below Benchmark",
    "Accuracy Below, Rate at or Above Benchmark",
    "Accuracy Below, Rate Below Benchmark",
    "At or Above Benchmark",
    "Below Benchmark",
    "Performance Level 1",
    "Performance Level 2",
    "Performance Level 3",
    "Performance Level 4",
    "Student exempt from testing",
    "Student refused to test",
)

RESULT_DATATYPE_CODES: tuple[str, ...] = ("Decimal", "Integer", "Level", "Percentage", "Percentile", "Range")

# History/Government objective scores (003, Assessment Identifier rules): 00-06 -> performance level.
HIST_GOV_LEVELS: dict[str, str] = {
    "00": "Not Assessed",
    "01": "Performance Level 1",
    "02": "Performance Level 2",
    "03": "Performance Level 3",
    "04": "Performance Level 4",
    "05": "Student refused to test",
    "06": "Student exempt from testing",
}

# The reporting method of objective-assessment performance levels: the one method 003's table lists.
OBJECTIVE_REPORTING_METHOD = "Achievement/proficiency level"

_PERFORMANCE_BY_LOWER = {code.lower(): code for code in PERFORMANCE_LEVEL_CODES}


def descriptor_uri(kind: str, code: str) -> str:
    """``kind`` is the descriptor name; a configured value that already holds '#' is a full URI."""
    if "#" in code:
        return code
    return f"{NAMESPACES[kind]}#{code}"


def performance_level(code: str) -> str | None:
    """The 003 PerformanceLevelDescriptor code value for ``code`` (case-insensitive), or None."""
    return _PERFORMANCE_BY_LOWER.get(code.strip().lower())
