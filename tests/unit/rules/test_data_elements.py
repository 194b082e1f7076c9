"""Seed 003, Object Data Elements, Assessment Identifier rules, Arrays and Descriptors: the Ed-Fi body."""

from __future__ import annotations

import dataclasses
from typing import Any

from streams.rules.config import RuleConfig
from streams.rules.engine import InMemoryStores, RuleEngine
from streams.sis.events import ChangeEvent
from tests.unit.rules.helpers import (
    assessment_row,
    calendar,
    enrollment,
    ev,
    school,
    score,
    student,
)

NS = "uri://ksde.org/Assessment/Assessment.xml"
LEVEL = "uri://ed-fi.org/AssessmentReportingMethodDescriptor#Achievement/proficiency level"


def body_after(events: list[ChangeEvent], cfg: RuleConfig | None = None, person: int = 1) -> dict[str, Any] | None:
    engine = RuleEngine(cfg or RuleConfig(), **InMemoryStores().as_kwargs())
    for e in events:
        engine.on_change(e)
    records = engine.evaluate_person(person).records
    assert len(records) <= 1
    return next(iter(records.values())).payload if records else None


def base(grade: str = "06", **enroll: Any) -> list[ChangeEvent]:
    return [ev("sis.schools", "c", school()), ev("sis.calendars", "c", calendar()),
            ev("sis.students", "c", student()), ev("sis.enrollments", "c", enrollment(grade=grade, **enroll))]


def test_identifier_references_and_fixed_values() -> None:
    body = body_after([*base(), ev("sis.tests", "c", assessment_row()), ev("sis.test_scores", "c", score())])
    assert body == {
        "studentAssessmentIdentifier": "Math_00000001_2024",
        "assessmentReference": {"assessmentIdentifier": "State Mathematics Assessment", "namespace": NS},
        "studentReference": {"studentUniqueId": "00000001"},
        "reportedSchoolReference": {"schoolId": 101},
        "administrationDate": "2024-03-20T00:00:00Z",
        "assessedMinutes": 0,
        "scoreResults": [{
            "assessmentReportingMethodDescriptor": "uri://ed-fi.org/AssessmentReportingMethodDescriptor#Scale score",
            "resultDatatypeTypeDescriptor": "uri://ed-fi.org/ResultDatatypeTypeDescriptor#Integer",
            "result": "250"}],
    }


def test_administration_date_falls_back_to_test_start_then_default() -> None:
    test = ev("sis.tests", "c", assessment_row(start="2024-03-05"))
    body = body_after([*base(), test, ev("sis.test_scores", "c", score(date=None))])
    assert body is not None and body["administrationDate"] == "2024-03-05T00:00:00Z"
    cfg = RuleConfig(default_administration_date=RuleConfig().default_administration_date)
    no_start = ev("sis.tests", "c", assessment_row(start=None))
    body = body_after([*base(start="2023-07-01"), no_start, ev("sis.test_scores", "c", score(date=None))], cfg)
    assert body is not None and body["administrationDate"] == "2023-07-01T00:00:00Z"


def test_unmapped_or_empty_scores_are_not_reported() -> None:
    test = ev("sis.tests", "c", assessment_row())
    body = body_after([*base(), test, ev("sis.test_scores", "c", score(scale="", result="Level 2", rawScore="7"))])
    assert body is not None and body["scoreResults"] == [
        {"assessmentReportingMethodDescriptor": LEVEL,
         "resultDatatypeTypeDescriptor": "uri://ed-fi.org/ResultDatatypeTypeDescriptor#Level", "result": "Level 2"}]
    body = body_after([*base(), test, ev("sis.test_scores", "c", score(scale=None))])
    assert body is not None and "scoreResults" not in body


def test_period_only_when_mapped_and_in_the_configuration_year() -> None:
    cfg = RuleConfig(periods={5: "Spring"})
    body = body_after([*base(), ev("sis.tests", "c", assessment_row()), ev("sis.test_scores", "c", score())], cfg)
    assert body is not None and body["period"] == {
        "assessmentPeriodDescriptor": "uri://ed-fi.org/AssessmentPeriodDescriptor#Spring",
        "beginDate": "2024-03-01", "endDate": "2024-04-30"}
    body = body_after([*base(), ev("sis.tests", "c", assessment_row(end_year=None)),
                       ev("sis.test_scores", "c", score())], cfg)
    assert body is not None and "period" in body
    body = body_after([*base(), ev("sis.tests", "c", assessment_row()), ev("sis.test_scores", "c", score())])
    assert body is not None and "period" not in body


def dyslexia(grade: str, results: dict[str, str]) -> dict[str, Any] | None:
    events = [*base(grade=grade), ev("sis.tests", "c", assessment_row(20, "Dyslexia Screener_Acadience"))]
    for i, (code, result) in enumerate(results.items()):
        events.append(ev("sis.tests", "c", assessment_row(201 + i, None, parent=20, code=code)))
        events.append(ev("sis.test_scores", "c", score(2000 + i, tid=201 + i, scale=None, result=result)))
    return body_after(events)


def test_dyslexia_only_for_grades_05_to_08_and_13() -> None:
    for grade in ("05", "06", "07", "08", "13"):
        assert dyslexia(grade, {"ACC": "At or Above Benchmark"}) is not None, grade
    for grade in ("03", "04", "09", "12"):
        assert dyslexia(grade, {"ACC": "At or Above Benchmark"}) is None, grade


def test_dyslexia_objectives_with_performance_levels() -> None:
    body = dyslexia("05", {"ACC": "accuracy below, rate below benchmark", "RATE": "not a level"})
    assert body is not None
    assert body["studentAssessmentIdentifier"] == "Dyslexia_00000001_2024"
    assert body["studentObjectiveAssessments"] == [{
        "objectiveAssessmentReference": {"assessmentIdentifier": "Dyslexia Screener_Acadience",
                                         "identificationCode": "ACC", "namespace": NS},
        "performanceLevels": [{"assessmentReportingMethodDescriptor": LEVEL, "performanceLevelDescriptor":
                               "uri://ksde.org/PerformanceLevelDescriptor#Accuracy Below, Rate Below Benchmark"}]}]


def hist_gov(scores: list[tuple[int, str, str | None, str]], **enroll: Any) -> dict[str, Any]:
    events = [*base(**enroll), ev("sis.tests", "c", assessment_row(30, "State History/Gov Assessment"))]
    for tid, code in ((31, "01"), (32, "02"), (33, "03")):
        events.append(ev("sis.tests", "c", assessment_row(tid, None, parent=30, code=code, subject="Hist/Gov")))
    for sid, code, date, result in scores:
        events.append(ev("sis.test_scores", "c", score(sid, tid=30 + int(code), date=date, scale=None,
                                                       result=result)))
    body = body_after(events)
    assert body is not None
    return {o["objectiveAssessmentReference"]["identificationCode"]:
            o["performanceLevels"][0]["performanceLevelDescriptor"].split("#")[1]
            for o in body["studentObjectiveAssessments"]}


def test_hist_gov_most_recent_result_in_the_current_enrollment_else_00() -> None:
    levels = hist_gov([(1, "01", "2024-03-10", "02"), (2, "01", "2024-03-20", "04"), (3, "02", "2024-03-11", "05")])
    assert levels == {"01": "Performance Level 4", "02": "Student refused to test", "03": "Not Assessed"}


def test_hist_gov_without_dates_the_highest_score_id_wins() -> None:
    levels = hist_gov([(7, "03", None, "06"), (5, "03", None, "01")])
    assert levels["03"] == "Student exempt from testing"


def test_hist_gov_results_outside_the_current_enrollment_do_not_count() -> None:
    levels = hist_gov([(1, "01", "2024-03-10", "03"), (2, "02", "2023-08-01", "04")], start="2023-09-01")
    assert levels == {"01": "Performance Level 3", "02": "Not Assessed", "03": "Not Assessed"}


def test_kelpa_proctor_and_assessment_request() -> None:
    events = [*base(kelpaExam="KELPA for current ESOL students only"),
              ev("sis.staff", "c", {"personID": 77, "staffStateID": "ST77"}),
              ev("sis.tests", "c", assessment_row(5, "Kansas English Language Proficiency Assessment (KELPA)")),
              ev("sis.test_scores", "c", score(proctorPersonID=77))]
    body = body_after(events)
    assert body is not None and body["studentAssessmentIdentifier"] == "KELPA_00000001_2024"
    assert body["_ext"] == {"ksde": {
        "proctorStaffReference": {"staffUniqueId": "ST77"},
        "assessmentRequestDescriptor": "uri://ksde.org/AssessmentRequestDescriptor#KELPA for current ESOL "
                                       "students only"}}


def test_enrollment_reporting_fields_map_to_assessment_request_per_subject() -> None:
    events = [*base(mathAssessmentType="yes TEST in this content area", readingAssessmentType="No test in this "
                    "content area"), ev("sis.tests", "c", assessment_row()), ev("sis.test_scores", "c", score())]
    body = body_after(events)
    assert body is not None and body["_ext"]["ksde"]["assessmentRequestDescriptor"] == (
        "uri://ksde.org/AssessmentRequestDescriptor#Yes test in this content area")
    bad = [*base(mathAssessmentType="Maybe"), ev("sis.tests", "c", assessment_row()),
           ev("sis.test_scores", "c", score())]
    body = body_after(bad)
    assert body is not None and "_ext" not in body


def test_configured_assessment_keys_override_the_defaults() -> None:
    cfg = dataclasses.replace(RuleConfig(), assessment_keys={**RuleConfig().assessment_keys,
                                                             "State Mathematics Assessment": "M"})
    body = body_after([*base(), ev("sis.tests", "c", assessment_row()), ev("sis.test_scores", "c", score())], cfg)
    assert body is not None and body["studentAssessmentIdentifier"] == "M_00000001_2024"
