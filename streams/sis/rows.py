"""Typed SIS rows (contract section 1), parsed and validated from the CDC row dictionaries.

Parsing is strict about what the rules need (types, ISO dates, the service type) and raises
:class:`streams.errors.PoisonInput` with a precise reason otherwise, so a bad row becomes a dead-letter
record rather than a wrong Ed-Fi write.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from streams.errors import PoisonInput
from streams.topics import CALENDARS, CONTROL, ENROLLMENTS, SCHOOLS, STAFF, STUDENTS, TEST_SCORES, TESTS

ServiceType = Literal["P", "S", "N"]
MAX_TEXT = 1024  # longer SIS strings are rejected as poison (oversized values)
# Every integer the product carries is an Avro long on the internal topics: checked here, at the edge
LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1
_ASCII_INT = re.compile(r"-?[0-9]{1,19}")  # not str.isdigit: "²" passes it and fails int()


def in_long_range(value: int) -> bool:
    return LONG_MIN <= value <= LONG_MAX


def _get(row: Mapping[str, Any], name: str, required: bool) -> Any:
    value = row.get(name)
    if value is None and required:
        raise PoisonInput("missing_field", f"'{name}' is required")
    return value


def _int(row: Mapping[str, Any], name: str, required: bool = True) -> int | None:
    value = _get(row, name, required)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and _ASCII_INT.fullmatch(value.strip()):
            value = int(value.strip())
        else:
            raise PoisonInput("bad_field", f"'{name}' must be an integer, got {str(value)[:40]!r}")
    if not in_long_range(value):
        raise PoisonInput("out_of_range", f"'{name}' does not fit in 64 bits")
    return value


def _req_int(row: Mapping[str, Any], name: str) -> int:
    value = _int(row, name, True)
    assert value is not None
    return value


def _str(row: Mapping[str, Any], name: str, required: bool = False) -> str | None:
    value = _get(row, name, required)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise PoisonInput("bad_field", f"'{name}' must be a string, got {type(value).__name__}")
    text = str(value)
    if len(text) > MAX_TEXT:
        raise PoisonInput("oversized_value", f"'{name}' is {len(text)} characters long")
    return text


def _req_str(row: Mapping[str, Any], name: str) -> str:
    value = _str(row, name, True)
    assert value is not None
    return value


def _bool(row: Mapping[str, Any], name: str) -> bool:
    value = row.get(name)
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "y", "n"):
        return value.lower() in ("true", "1", "y")
    raise PoisonInput("bad_field", f"'{name}' must be a boolean, got {value!r}")


def _date(row: Mapping[str, Any], name: str, required: bool = False) -> dt.date | None:
    value = _get(row, name, required)
    if value is None or value == "":
        if required:
            raise PoisonInput("missing_field", f"'{name}' is required")
        return None
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return _epoch_date(name, value)
    if not isinstance(value, str):
        raise PoisonInput("bad_date", f"'{name}' must be an ISO date string or a number of days, got {value!r}")
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError as exc:
        raise PoisonInput("bad_date", f"'{name}' is not a valid date: {value!r}") from exc


# Without a schema (Debezium's schemas.enable=false) a date column's int is days since 1970
# (io.debezium.time.Date), and a DATETIME column's is epoch milli-, micro- or nanoseconds: the magnitudes do
# not overlap for any day from 1973 to 4700 (days below 10**6, ms below 10**14, us below 10**17; docs/sources.md).
_EPOCH = dt.date(1970, 1, 1)
_PER_DAY = ((10**17, 86_400 * 10**9), (10**14, 86_400 * 10**6), (10**6, 86_400 * 1000), (0, 1))


def _epoch_date(name: str, value: int) -> dt.date:
    for floor, per_day in _PER_DAY:
        if abs(value) >= floor:
            try:
                return _EPOCH + dt.timedelta(days=value // per_day)
            except OverflowError as exc:
                raise PoisonInput("bad_date", f"'{name}' {value} is out of range") from exc
    raise AssertionError("unreachable")


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


@dataclass(frozen=True, slots=True)
class Student:
    person_id: int
    state_id: str
    last_name: str | None = None
    first_name: str | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Student:
        state_id = _req_str(row, "stateID").strip()
        if not state_id:
            raise PoisonInput("missing_field", "'stateID' is empty")
        return cls(_req_int(row, "personID"), state_id, _str(row, "lastName"), _str(row, "firstName"))

    def to_row(self) -> dict[str, Any]:
        return {"personID": self.person_id, "stateID": self.state_id, "lastName": self.last_name,
                "firstName": self.first_name}


@dataclass(frozen=True, slots=True)
class Staff:
    person_id: int
    staff_state_id: str

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Staff:
        return cls(_req_int(row, "personID"), _req_str(row, "staffStateID"))

    def to_row(self) -> dict[str, Any]:
        return {"personID": self.person_id, "staffStateID": self.staff_state_id}


@dataclass(frozen=True, slots=True)
class School:
    school_id: int
    state_school_id: int
    name: str
    exclude: bool = False

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> School:
        return cls(_req_int(row, "schoolID"), _req_int(row, "stateSchoolID"), _str(row, "name") or "",
                   _bool(row, "exclude"))

    def to_row(self) -> dict[str, Any]:
        return {"schoolID": self.school_id, "stateSchoolID": self.state_school_id, "name": self.name,
                "exclude": self.exclude}


@dataclass(frozen=True, slots=True)
class Calendar:
    calendar_id: int
    school_id: int
    end_year: int
    exclude: bool = False

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Calendar:
        return cls(_req_int(row, "calendarID"), _req_int(row, "schoolID"), _req_int(row, "endYear"),
                   _bool(row, "exclude"))

    def to_row(self) -> dict[str, Any]:
        return {"calendarID": self.calendar_id, "schoolID": self.school_id, "endYear": self.end_year,
                "exclude": self.exclude}


# Enrollment state-reporting fields (SIS field name -> attribute), reported as AssessmentRequestDescriptor.
REQUEST_FIELDS: dict[str, str] = {
    "mathAssessmentType": "math_assessment_type",
    "readingAssessmentType": "reading_assessment_type",
    "scienceAssessmentType": "science_assessment_type",
    "kelpaExam": "kelpa_exam",
    "compAgricAssessment": "comp_agric_assessment",
    "animalSystemsAssessment": "animal_systems_assessment",
    "plantSystemsAssessment": "plant_systems_assessment",
}


@dataclass(frozen=True, slots=True)
class Enrollment:
    enrollment_id: int
    person_id: int
    calendar_id: int
    grade: str
    start_date: dt.date
    end_date: dt.date | None
    service_type: ServiceType
    state_exclude: bool = False
    no_show: bool = False
    math_assessment_type: str | None = None
    reading_assessment_type: str | None = None
    science_assessment_type: str | None = None
    kelpa_exam: str | None = None
    comp_agric_assessment: str | None = None
    animal_systems_assessment: str | None = None
    plant_systems_assessment: str | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Enrollment:
        service = _req_str(row, "serviceType").strip().upper()
        if service not in ("P", "S", "N"):
            raise PoisonInput("bad_field", f"'serviceType' must be P, S or N, got {service!r}")
        start = _date(row, "startDate", required=True)
        assert start is not None
        end = _date(row, "endDate")
        if end is not None and end < start:
            raise PoisonInput("bad_date", f"enrollment ends ({end}) before it starts ({start})")
        grade = _req_str(row, "grade").strip()
        extras = {attr: _str(row, field) for field, attr in REQUEST_FIELDS.items()}
        return cls(
            enrollment_id=_req_int(row, "enrollmentID"), person_id=_req_int(row, "personID"),
            calendar_id=_req_int(row, "calendarID"), grade=grade.zfill(2) if grade.isdigit() else grade,
            start_date=start, end_date=end, service_type=service,  # type: ignore[arg-type]
            state_exclude=_bool(row, "stateExclude"), no_show=_bool(row, "noShow"), **extras,
        )

    def to_row(self) -> dict[str, Any]:
        row: dict[str, Any] = {
            "enrollmentID": self.enrollment_id, "personID": self.person_id, "calendarID": self.calendar_id,
            "grade": self.grade, "startDate": _iso(self.start_date), "endDate": _iso(self.end_date),
            "serviceType": self.service_type, "stateExclude": self.state_exclude, "noShow": self.no_show,
        }
        for field, attr in REQUEST_FIELDS.items():
            row[field] = getattr(self, attr)
        return row

    def active_on(self, day: dt.date) -> bool:
        return self.start_date <= day and (self.end_date is None or day <= self.end_date)


@dataclass(frozen=True, slots=True)
class Test:
    __test__ = False  # not a pytest test class, despite the name

    test_id: int
    name: str
    parent_id: int | None = None
    code: str | None = None
    subject: str | None = None
    state_code: str | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    end_year: int | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Test:
        return cls(
            test_id=_req_int(row, "testID"), name=_str(row, "name") or "", parent_id=_int(row, "parentID", False),
            code=_str(row, "code"), subject=_str(row, "subject"), state_code=_str(row, "stateCode"),
            start_date=_date(row, "startDate"), end_date=_date(row, "endDate"),
            end_year=_int(row, "endYear", False),
        )

    def to_row(self) -> dict[str, Any]:
        return {"testID": self.test_id, "parentID": self.parent_id, "name": self.name, "code": self.code,
                "subject": self.subject, "stateCode": self.state_code, "startDate": _iso(self.start_date),
                "endDate": _iso(self.end_date), "endYear": self.end_year}


SCORE_FIELDS = ("result", "scaleScore", "rawScore", "percent", "percentile")


@dataclass(frozen=True, slots=True)
class TestScore:
    __test__ = False  # not a pytest test class, despite the name

    score_id: int
    person_id: int
    test_id: int
    date: dt.date | None = None
    result: str | None = None
    scale_score: str | None = None
    raw_score: str | None = None
    percent: str | None = None
    percentile: str | None = None
    proctor_person_id: int | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> TestScore:
        return cls(
            score_id=_req_int(row, "scoreID"), person_id=_req_int(row, "personID"),
            test_id=_req_int(row, "testID"), date=_date(row, "date"), result=_str(row, "result"),
            scale_score=_str(row, "scaleScore"), raw_score=_str(row, "rawScore"),
            percent=_str(row, "percent"), percentile=_str(row, "percentile"),
            proctor_person_id=_int(row, "proctorPersonID", False),
        )

    def field(self, sis_name: str) -> str | None:
        """The value of a score field by its SIS name (``scaleScore``), for the Resource Preferences map."""
        attr = {"result": "result", "scaleScore": "scale_score", "rawScore": "raw_score",
                "percent": "percent", "percentile": "percentile"}.get(sis_name)
        return getattr(self, attr) if attr else None

    def to_row(self) -> dict[str, Any]:
        return {"scoreID": self.score_id, "personID": self.person_id, "testID": self.test_id,
                "date": _iso(self.date), "result": self.result, "scaleScore": self.scale_score,
                "rawScore": self.raw_score, "percent": self.percent, "percentile": self.percentile,
                "proctorPersonID": self.proctor_person_id}


Row = Student | Staff | School | Calendar | Enrollment | Test | TestScore
R = TypeVar("R", bound=Row)

# topic -> (row type, primary-key field)
TOPIC_ROWS: dict[str, tuple[Callable[[Mapping[str, Any]], Row], str]] = {
    STUDENTS: (Student.from_row, "personID"),
    STAFF: (Staff.from_row, "personID"),
    SCHOOLS: (School.from_row, "schoolID"),
    CALENDARS: (Calendar.from_row, "calendarID"),
    ENROLLMENTS: (Enrollment.from_row, "enrollmentID"),
    TESTS: (Test.from_row, "testID"),
    TEST_SCORES: (TestScore.from_row, "scoreID"),
}
SIS_TOPICS: tuple[str, ...] = tuple(TOPIC_ROWS)
CONTROL_TOPIC = CONTROL
