"""The sample district: deterministic, committed as generated, valid, and holding every special case."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest

from streams.config import load_settings
from streams.io.events_file import FileEvent, read_events
from streams.rules.config import RuleConfig
from streams.sample.district import SAMPLE_CONFIG, SAMPLE_EVENTS, render_jsonl, sample_events, write_jsonl
from streams.sis.events import parse_change
from streams.sis.rows import Enrollment, Test, TestScore

STATE_CODES = {
    "Animal Systems Assessment", "Comprehensive Agriculture Assessment", "Dyslexia Screener_Acadience",
    "Dyslexia Screener_AIMSPlus", "Dyslexia Screener_easyCBM", "Dyslexia Screener_FASTBridge",
    "Dyslexia Screener_iReady", "Dyslexia Screener_KS Alternate Screener", "Dyslexia Screener_Other",
    "Dyslexia Screener_Renaissance Star", "Kansas English Language Proficiency Assessment (KELPA)",
    "Plant Systems Assessment", "State English Language Arts Assessment", "State History/Gov Assessment",
    "State Mathematics Assessment", "State Science Assessment",
}  # seed 003, Assessment Identifier Table


@pytest.fixture(scope="module")
def events() -> list[dict[str, Any]]:
    return sample_events()


def _rows(events: list[dict[str, Any]], topic: str, op: str | None = None) -> list[dict[str, Any]]:
    return [e["value"]["after"] for e in events
            if e["topic"] == topic and e["value"] is not None and e["value"]["after"] is not None
            and (op is None or e["value"]["op"] == op)]


def test_deterministic_and_committed_file_is_current(tmp_path: Any) -> None:
    assert render_jsonl() == render_jsonl()
    written = write_jsonl(tmp_path / "again.jsonl")
    assert written.read_bytes() == SAMPLE_EVENTS.read_bytes(), \
        "streams/sample/data/sample-district.jsonl is stale: run python -m streams.sample.district"


def test_committed_file_reads_back_as_the_events(events: list[dict[str, Any]]) -> None:
    read = list(read_events(SAMPLE_EVENTS))
    assert all(isinstance(e, FileEvent) for e in read)
    assert [{"topic": e.topic, "key": e.key, "value": e.value} for e in read if isinstance(e, FileEvent)] == events


def test_every_envelope_is_valid_and_ordered(events: list[dict[str, Any]]) -> None:
    last_ts, last_seq = 0, 0
    for event in events:
        if event["value"] is None:
            continue
        change = parse_change(event["topic"], event["key"], event["value"])
        assert change.ts_ms > last_ts and change.seq is not None and change.seq > last_seq
        last_ts, last_seq = change.ts_ms, change.seq
        assert event["value"]["source"]["table"]


def test_reference_data(events: list[dict[str, Any]]) -> None:
    schools = _rows(events, "sis.schools")
    calendars = _rows(events, "sis.calendars")
    assert len(schools) == 3 and sum(s["exclude"] for s in schools) == 1
    assert {c["endYear"] for c in calendars} == {2024} and sum(c["exclude"] for c in calendars) == 1
    assert len({r["personID"] for r in _rows(events, "sis.students")}) == 60
    assert len(_rows(events, "sis.staff")) == 3


def test_enrollment_cases(events: list[dict[str, Any]]) -> None:
    enrollments = [Enrollment.from_row(r) for r in _rows(events, "sis.enrollments", "r")]
    calendars = {c["calendarID"]: c["schoolID"] for c in _rows(events, "sis.calendars")}
    grades = {e.grade for e in enrollments}
    assert {f"{g:02d}" for g in range(3, 14)} <= grades
    assert Counter(e.service_type for e in enrollments).most_common(1)[0][0] == "P"
    assert any(e.state_exclude for e in enrollments) and any(e.no_show for e in enrollments)
    assert any(e.end_date is not None and e.end_date < dt.date(2024, 3, 1) for e in enrollments)
    by_person: dict[int, list[Enrollment]] = {}
    for e in enrollments:
        by_person.setdefault(e.person_id, []).append(e)
    overlapping = [
        es for es in by_person.values()
        if {e.service_type for e in es} >= {"P", "S"} and len({calendars[e.calendar_id] for e in es}) == 2
        and any(a.active_on(b.start_date) for a in es for b in es if a is not b)
    ]
    assert overlapping, "an overlapping P+S pair at two schools"
    later = [e for e in events if e["topic"] == "sis.enrollments" and e["value"]["op"] == "u"]
    assert any(not e["value"]["before"]["stateExclude"] and e["value"]["after"]["stateExclude"] for e in later)


def test_tests_cover_the_assessment_identifier_table(events: list[dict[str, Any]]) -> None:
    tests = {t.test_id: t for t in (Test.from_row(r) for r in _rows(events, "sis.tests"))}
    assert {t.state_code for t in tests.values() if t.state_code} == STATE_CODES
    assert any(t.state_code is None and t.parent_id is None for t in tests.values()), "a local test"
    hist_gov = next(t for t in tests.values() if t.state_code == "State History/Gov Assessment")
    children = [t for t in tests.values() if t.parent_id == hist_gov.test_id]
    assert sorted((t.subject, t.code) for t in children) == [("Hist/Gov", "01"), ("Hist/Gov", "02"),
                                                              ("Hist/Gov", "03")]
    dyslexia_children = [t for t in tests.values() if t.parent_id is not None
                         and (tests[t.parent_id].state_code or "").startswith("Dyslexia Screener_")]
    assert {t.code for t in dyslexia_children} == {"ACC", "RATE"}


def test_scores_cover_the_special_cases(events: list[dict[str, Any]]) -> None:
    tests = {t.test_id: t for t in (Test.from_row(r) for r in _rows(events, "sis.tests"))}
    scores = [TestScore.from_row(r) for r in _rows(events, "sis.test_scores", "c")]
    enrollments = [Enrollment.from_row(r) for r in _rows(events, "sis.enrollments", "r")]
    cfg = RuleConfig()
    dated = [s for s in scores if s.date is not None]
    assert sum(cfg.in_scope(s.date) for s in dated if s.date) > 200
    assert any(s.date and s.date.year == 2023 and s.date.month < 7 for s in dated), "2022-23 scores"
    assert any(s.date and cfg.in_scope(s.date) and not any(e.person_id == s.person_id and e.active_on(s.date)
                                                             for e in enrollments) for s in dated)
    hist_children = {t.test_id for t in tests.values() if t.subject == "Hist/Gov"}
    assert {s.result for s in scores if s.test_id in hist_children} <= {f"0{i}" for i in range(7)}
    assert any(s.date is None for s in scores if s.test_id in hist_children)
    dyslexia_children = {t.test_id for t in tests.values() if t.code in ("ACC", "RATE")}
    assert {s.result for s in scores if s.test_id in dyslexia_children} <= {"At or Above Benchmark",
                                                                            "Below Benchmark"}
    kelpa = [s for s in scores if tests[s.test_id].state_code and "KELPA" in (tests[s.test_id].state_code or "")]
    staff = {r["personID"] for r in _rows(events, "sis.staff")}
    assert kelpa and all(s.proctor_person_id in staff for s in kelpa)


def test_the_tail_of_changes(events: list[dict[str, Any]]) -> None:
    updates = [e["value"] for e in events if e["topic"] == "sis.test_scores" and e["value"]
               and e["value"]["op"] == "u"]
    assert any(u["before"]["scaleScore"] != u["after"]["scaleScore"] for u in updates)
    assert any(u["before"]["date"] != u["after"]["date"] for u in updates)
    deletes = [(i, e) for i, e in enumerate(events) if e["value"] and e["value"]["op"] == "d"]
    assert deletes
    i, delete = deletes[0]
    assert delete["value"]["before"] is not None and delete["value"]["after"] is None
    assert events[i + 1] == {"topic": delete["topic"], "key": delete["key"], "value": None}
    student_updates = [e["value"] for e in events if e["topic"] == "sis.students" and e["value"]["op"] == "u"]
    assert any(u["before"]["stateID"] != u["after"]["stateID"] for u in student_updates)


def test_config_matches_the_sample(events: list[dict[str, Any]]) -> None:
    settings = load_settings(SAMPLE_CONFIG, environ={})
    assert set(settings.assessment_keys) == STATE_CODES
    assert {settings.assessment_keys[c] for c in STATE_CODES if c.startswith("Dyslexia")} == {"Dyslexia"}
    test_ids = {r["testID"] for r in _rows(events, "sis.tests")}
    assert settings.periods and set(settings.periods) <= test_ids
    assert settings.school_year.end_year == 2024
