"""Seed 003, Object Triggering Logic and Scope Year: one table row per rule, each through RuleEngine.

Each case builds a small SIS state, applies it event by event and checks the write commands and the
decision (outcome and reason) for the score. docs/rules.md points at these tests.
"""

from __future__ import annotations

from typing import Any

import pytest

from streams.rules.config import RuleConfig
from streams.rules.engine import InMemoryStores, Outcome, RuleEngine
from streams.sis.events import ChangeEvent
from tests.unit.rules.helpers import assessment_row, calendar, enrollment, ev, school, score, student


def run(events: list[ChangeEvent], cfg: RuleConfig | None = None) -> tuple[RuleEngine, list[Outcome]]:
    engine = RuleEngine(cfg or RuleConfig(), **InMemoryStores().as_kwargs())
    return engine, [engine.on_change(e) for e in events]


def district(*, school_exclude: bool = False, cal_exclude: bool = False, cal_year: int = 2024,
             enrollments: list[dict[str, Any]] | None = None, tests: list[dict[str, Any]] | None = None
             ) -> list[ChangeEvent]:
    out = [ev("sis.schools", "c", school(exclude=school_exclude)),
           ev("sis.schools", "c", school(2, 102)),
           ev("sis.calendars", "c", calendar(exclude=cal_exclude, end_year=cal_year)),
           ev("sis.calendars", "c", calendar(20, 2)),
           ev("sis.students", "c", student())]
    out += [ev("sis.enrollments", "c", e) for e in (enrollments if enrollments is not None else [enrollment()])]
    out += [ev("sis.tests", "c", t) for t in (tests if tests is not None else [assessment_row()])]
    return out


def final_decision(engine: RuleEngine, score_id: int = 1000) -> tuple[str, str, str]:
    decisions = [d for d in engine.evaluate_person(1).decisions if d.score_id == score_id]
    assert len(decisions) == 1
    return decisions[0].outcome, decisions[0].reason, decisions[0].message


CASES = [
    # (id, district kwargs, score kwargs, expected actions, outcome, reason)
    ("post_in_scope", {}, {}, ["POST"], "sent", "sent"),
    ("first_day_of_scope_year", {"enrollments": [enrollment(start="2023-07-01")]}, {"date": "2023-07-01"}, ["POST"],
     "sent", "sent"),
    ("last_day_of_scope_year", {}, {"date": "2024-06-30"}, ["POST"], "sent", "sent"),
    ("date_before_scope_year", {}, {"date": "2023-06-30"}, [], "held", "out_of_scope_year"),
    ("date_after_scope_year", {}, {"date": "2024-07-01"}, [], "held", "out_of_scope_year"),
    ("no_active_enrollment", {"enrollments": [enrollment(end="2024-01-31")]}, {}, [], "held",
     "no_active_enrollment"),
    ("enrollment_not_started", {"enrollments": [enrollment(start="2024-04-01")]}, {}, [], "held",
     "no_active_enrollment"),
    ("state_exclude", {"enrollments": [enrollment(stateExclude=True)]}, {}, [], "held", "excluded_enrollment"),
    ("no_show", {"enrollments": [enrollment(noShow=True)]}, {}, [], "held", "excluded_enrollment"),
    ("excluded_calendar", {"cal_exclude": True}, {}, [], "held", "excluded_calendar"),
    ("excluded_school", {"school_exclude": True}, {}, [], "held", "excluded_school"),
    ("calendar_of_other_year", {"cal_year": 2023}, {}, [], "held", "no_active_enrollment"),
    ("not_state_reported", {"tests": [assessment_row(state_code=None)]}, {}, [], "not_reported", "not_state_reported"),
    ("test_scope_year_out_before_sent", {"tests": [assessment_row(end_year=2023)]}, {}, [], "held",
     "test_out_of_scope_year"),
    ("no_date_uses_test_start", {}, {"date": None}, ["POST"], "sent", "sent"),
]


@pytest.mark.parametrize(("name", "dist", "sc", "actions", "outcome", "reason"), CASES, ids=[c[0] for c in CASES])
def test_post_conditions(name: str, dist: dict[str, Any], sc: dict[str, Any], actions: list[str], outcome: str,
                         reason: str) -> None:
    engine, outs = run([*district(**dist), ev("sis.test_scores", "c", score(**sc))])
    assert [c.action for c in outs[-1].commands] == actions
    assert final_decision(engine)[:2] == (outcome, reason)


def test_held_message_says_why_in_plain_words() -> None:
    engine, _ = run([*district(enrollments=[enrollment(eid=101, end="2024-02-01")]),
                     ev("sis.test_scores", "c", score())])
    assert final_decision(engine)[2] == ("held: no active enrollment on 2024-03-20 (enrollment 101 ended "
                                         "2024-02-01)")


def test_service_type_priority_chooses_the_school() -> None:
    """003: overlapping enrollments report by service type P, then S, then N."""
    both = [enrollment(100, cal=10, service="S"), enrollment(101, cal=20, service="P"),
            enrollment(102, cal=10, service="N")]
    _, outs = run([*district(enrollments=both), ev("sis.test_scores", "c", score())])
    [cmd] = outs[-1].commands  # the P enrollment's school wins
    assert cmd.payload is not None and cmd.payload["reportedSchoolReference"] == {"schoolId": 102}


def test_exclusions_filter_before_priority() -> None:
    """An excluded P enrollment does not block a valid S enrollment (docs/rules.md: filter, then choose)."""
    both = [enrollment(100, cal=10, service="S"), enrollment(101, cal=20, service="P", stateExclude=True)]
    _, outs = run([*district(enrollments=both), ev("sis.test_scores", "c", score())])
    [cmd] = outs[-1].commands
    assert cmd.payload is not None and cmd.payload["reportedSchoolReference"] == {"schoolId": 101}


def test_one_record_per_student_assessment() -> None:
    """003: only one record per student assessment, whatever the number of enrollments or scores."""
    two = [enrollment(100, cal=10), enrollment(101, cal=20, service="S")]
    engine, _ = run([*district(enrollments=two), ev("sis.test_scores", "c", score(1000, date="2024-03-20")),
                     ev("sis.test_scores", "c", score(1001, date="2024-04-02", scale="301"))])
    records = engine.evaluate_person(1).records
    assert list(records) == ["Math_00000001_2024"]
    assert records["Math_00000001_2024"].payload["scoreResults"][0]["result"] == "301"
    assert final_decision(engine, 1000)[1] == "superseded"


def test_enrollment_later_excluded_removes_the_record() -> None:
    engine, outs = run([*district(), ev("sis.test_scores", "c", score())])
    assert [c.action for c in outs[-1].commands] == ["POST"]
    out = engine.on_change(ev("sis.enrollments", "u", enrollment(stateExclude=True), before=enrollment()))
    assert [c.action for c in out.commands] == ["DELETE"]


def test_test_scope_year_moved_out_keeps_the_sent_record() -> None:
    """003: no DELETE when the assessment's scope year changes to out of scope while tied to a student."""
    engine, outs = run([*district(), ev("sis.test_scores", "c", score())])
    assert [c.action for c in outs[-1].commands] == ["POST"]
    out = engine.on_change(ev("sis.tests", "u", assessment_row(end_year=2023), before=assessment_row()))
    assert out.commands == []
    assert final_decision(engine)[1] == "test_out_of_scope_year"
    out = engine.on_change(ev("sis.tests", "u", assessment_row(), before=assessment_row(end_year=2023)))
    assert out.commands == []  # back in scope: the record the ODS has is already right


def test_score_before_its_student_and_enrollment_is_sent_when_they_arrive() -> None:
    engine = RuleEngine(RuleConfig(), **InMemoryStores().as_kwargs())
    assert engine.on_change(ev("sis.test_scores", "c", score())).commands == []
    for e in district():
        out = engine.on_change(e)
    assert [c.action for c in out.commands] == ["POST"]
