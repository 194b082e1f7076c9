"""RuleConfig: the configuration the rules read, as a plain frozen dataclass built from Settings."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property

from streams.config import Settings
from streams.rules.descriptors import descriptor_uri

# First part of studentAssessmentIdentifier for each state test of 003's Assessment Identifier table.
# "Dyslexia Screener_*" all map to "Dyslexia" (003's example: Dyslexia_00000001_2024).
DEFAULT_ASSESSMENT_KEYS: dict[str, str] = {
    "State Mathematics Assessment": "Math",
    "State English Language Arts Assessment": "ELA",
    "State Science Assessment": "Science",
    "State History/Gov Assessment": "HistGov",
    "Kansas English Language Proficiency Assessment (KELPA)": "KELPA",
    "Comprehensive Agriculture Assessment": "CompAgric",
    "Animal Systems Assessment": "AnimalSys",
    "Plant Systems Assessment": "PlantSys",
}
DYSLEXIA_PREFIX = "Dyslexia Screener_"
DYSLEXIA_KEY = "Dyslexia"


@dataclass(frozen=True)
class RuleConfig:
    start_date: dt.date = dt.date(2023, 7, 1)
    end_date: dt.date = dt.date(2024, 6, 30)
    end_year: int = 2024
    namespace: str = "uri://ksde.org/Assessment/Assessment.xml"
    default_administration_date: dt.date = dt.date(2023, 7, 1)
    assessment_keys: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_ASSESSMENT_KEYS))
    # SIS score field -> (AssessmentReportingMethodDescriptor code, ResultDatatypeTypeDescriptor code)
    score_results: dict[str, tuple[str, str]] = field(default_factory=lambda: {
        "scaleScore": ("Scale score", "Integer"),
        "result": ("Achievement/proficiency level", "Level"),
    })
    periods: dict[int, str] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> RuleConfig:
        keys = dict(DEFAULT_ASSESSMENT_KEYS)
        keys.update(settings.assessment_keys)
        return cls(
            start_date=settings.school_year.start_date, end_date=settings.school_year.end_date,
            end_year=settings.school_year.end_year, namespace=settings.namespace,
            default_administration_date=settings.default_administration_date,
            assessment_keys=keys,
            score_results={name: (m.reporting_method, m.result_datatype)
                           for name, m in settings.score_results.items()},
            periods=dict(settings.periods),
        )

    @cached_property
    def score_result_fields(self) -> list[tuple[str, str, str]]:
        """(SIS field, reporting method URI, result datatype URI) in field order, worked out once."""
        return [(name, descriptor_uri("AssessmentReportingMethodDescriptor", method),
                 descriptor_uri("ResultDatatypeTypeDescriptor", datatype))
                for name, (method, datatype) in sorted(self.score_results.items())]

    def in_scope(self, day: dt.date) -> bool:
        return self.start_date <= day <= self.end_date

    def assessment_key(self, state_code: str) -> str | None:
        key = self.assessment_keys.get(state_code)
        if key is None and state_code.startswith(DYSLEXIA_PREFIX):
            return DYSLEXIA_KEY
        return key
