"""RuleConfig: the configuration the rules read, as a plain frozen dataclass.

The rules import nothing of the settings machinery (pydantic, YAML): :meth:`RuleConfig.from_settings` reads
any object with the attributes of :class:`SettingsView` (``streams.config.Settings`` has them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

from streams.rules.assessments import NAMESPACE, default_keys
from streams.rules.descriptors import descriptor_uri


class _SchoolYearView(Protocol):
    @property
    def start_date(self) -> dt.date: ...
    @property
    def end_date(self) -> dt.date: ...
    @property
    def end_year(self) -> int: ...


class _ScoreResultView(Protocol):
    @property
    def reporting_method(self) -> str: ...
    @property
    def result_datatype(self) -> str: ...


class SettingsView(Protocol):
    """The part of the product's settings (contract section 3) that the rules read."""

    @property
    def school_year(self) -> _SchoolYearView: ...
    @property
    def namespace(self) -> str: ...
    @property
    def default_administration_date(self) -> dt.date: ...
    @property
    def assessment_keys(self) -> Mapping[str, str]: ...
    @property
    def score_results(self) -> Mapping[str, _ScoreResultView]: ...
    @property
    def periods(self) -> Mapping[int, str]: ...


@dataclass(frozen=True)
class RuleConfig:
    start_date: dt.date = dt.date(2023, 7, 1)
    end_date: dt.date = dt.date(2024, 6, 30)
    end_year: int = 2024
    namespace: str = NAMESPACE
    default_administration_date: dt.date = dt.date(2023, 7, 1)
    # stateCode -> first part of studentAssessmentIdentifier: the catalogue's defaults (assessments.py)
    assessment_keys: dict[str, str] = field(default_factory=default_keys)
    # SIS score field -> (AssessmentReportingMethodDescriptor code, ResultDatatypeTypeDescriptor code)
    score_results: dict[str, tuple[str, str]] = field(default_factory=lambda: {
        "scaleScore": ("Scale score", "Integer"),
        "result": ("Achievement/proficiency level", "Level"),
    })
    periods: dict[int, str] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: SettingsView) -> RuleConfig:
        keys = default_keys()
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
        """The key of a state assessment, None when it has none (never guessed: not reported)."""
        return self.assessment_keys.get(state_code)

    def reports(self, assessment_identifier: str) -> bool:
        """Is an ODS record of this assessmentIdentifier one of ours (resync never touches the others)?"""
        return assessment_identifier in self.assessment_keys
