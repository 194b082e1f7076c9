"""Issue 16, item 2: the scope-year exception ends when the student's record leaves the scope year.

003, Object Triggering Logic: "When the assessment scope year is changed to out of scope and that assessment
is already tied to a student (which is still within the scope year), a delete isn't sent"; Natural Key
Changes: "When the Test Date changes, which no longer matches the scope year" -> Delete. Only the delete the
scope-year change itself would cause is suppressed (docs/rules.md, interpretation 8): once the test's endYear
has moved out of scope, every other trigger still deletes the record, and nothing re-sends it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams.rules.config import RuleConfig
from streams.rules.engine import InMemoryStores, RuleEngine
from streams.sis.events import ChangeEvent
from tests.unit.rules.helpers import assessment_row, calendar, enrollment, ev, school, score, student

SAID = "Math_00000001_2024"
TEST_IN, TEST_OUT = assessment_row(), assessment_row(end_year=2023)


def sent_then_out_of_scope() -> RuleEngine:
    """A Math record sent for score 1000 (enrollment 100), then its test's endYear moved out of scope."""
    engine = RuleEngine(RuleConfig(), **InMemoryStores().as_kwargs())
    for e in [ev("sis.schools", "c", school()), ev("sis.calendars", "c", calendar()),
              ev("sis.students", "c", student()), ev("sis.enrollments", "c", enrollment()),
              ev("sis.tests", "c", TEST_IN), ev("sis.test_scores", "c", score())]:
        engine.on_change(e)
    assert engine.on_change(ev("sis.tests", "u", TEST_OUT, before=TEST_IN)).commands == []
    assert SAID in engine.sent[1]
    return engine


def actions(engine: RuleEngine, *events: ChangeEvent) -> list[tuple[str, str]]:
    return [(c.action, c.key) for e in events for c in engine.on_change(e).commands]


# (id, the later changes (built after the setup, so that each event is newer), the expected writes, the
# decision reason of score 1000 afterwards, None when the score is gone)
def changed(topic: str, new: dict[str, Any], old: dict[str, Any]) -> Callable[[], list[ChangeEvent]]:
    return lambda: [ev(topic, "u", new, before=old)]


def deleted(topic: str, old: dict[str, Any]) -> Callable[[], list[ChangeEvent]]:
    return lambda: [ev(topic, "d", before=old)]


DELETED = [("DELETE", SAID)]
TRIGGERS: list[tuple[str, Callable[[], list[ChangeEvent]], list[tuple[str, str]], str | None]] = [
    ("date_leaves_the_scope_year", changed("sis.test_scores", score(date="2024-07-15"), score()), DELETED,
     "out_of_scope_year"),
    ("date_before_the_scope_year", changed("sis.test_scores", score(date="2023-06-01"), score()), DELETED,
     "out_of_scope_year"),
    ("score_deleted", deleted("sis.test_scores", score()), DELETED, None),
    ("enrollment_state_exclude", changed("sis.enrollments", enrollment(stateExclude=True), enrollment()), DELETED,
     "excluded_enrollment"),
    ("enrollment_no_show", changed("sis.enrollments", enrollment(noShow=True), enrollment()), DELETED,
     "excluded_enrollment"),
    ("enrollment_ended_before_the_date", changed("sis.enrollments", enrollment(end="2024-02-01"), enrollment()),
     DELETED, "no_active_enrollment"),
    ("enrollment_deleted", deleted("sis.enrollments", enrollment()), DELETED, "no_active_enrollment"),
    ("calendar_excluded", changed("sis.calendars", calendar(exclude=True), calendar()), DELETED,
     "excluded_calendar"),
    ("school_excluded", changed("sis.schools", school(exclude=True), school()), DELETED, "excluded_school"),
    # the new identifier is not sent: its test is out of scope
    ("student_identifier_changed", changed("sis.students", student(state_id="00000002"), student()), DELETED,
     "test_out_of_scope_year"),
    # not a reason to delete: the record stays as it is (no PUT, no POST)
    ("date_changes_within_the_year", changed("sis.test_scores", score(date="2024-04-01"), score()), [],
     "test_out_of_scope_year"),
    ("result_changes", changed("sis.test_scores", score(scale="999"), score()), [], "test_out_of_scope_year"),
    ("enrollment_ends_after_the_date", changed("sis.enrollments", enrollment(end="2024-05-01"), enrollment()), [],
     "test_out_of_scope_year"),
    ("another_qualifying_score_remains", lambda: [ev("sis.test_scores", "c", score(1001, date="2024-04-01")),
                                                  ev("sis.test_scores", "d", before=score())], [], None),
]


@pytest.mark.parametrize(("name", "changes", "expected", "reason"), TRIGGERS, ids=[t[0] for t in TRIGGERS])
def test_each_trigger_after_the_test_left_its_scope_year(name: str, changes: Callable[[], list[ChangeEvent]],
                                                         expected: list[tuple[str, str]], reason: str | None) -> None:
    engine = sent_then_out_of_scope()
    assert actions(engine, *changes()) == expected
    assert (SAID in engine.sent.get(1, {})) == (expected == [])
    decisions = {d.score_id: d for d in engine.evaluate_person(1).decisions}
    if reason is None:
        assert 1000 not in decisions
    else:
        assert decisions[1000].reason == reason
        if expected:  # the message says the test's year no longer keeps the record
            assert "also belongs to school year 2023" in decisions[1000].message or reason == (
                "test_out_of_scope_year")


def test_once_deleted_the_record_is_not_sent_again_while_the_test_is_out_of_scope() -> None:
    engine = sent_then_out_of_scope()
    excluded = enrollment(stateExclude=True)
    assert actions(engine, ev("sis.enrollments", "u", excluded, before=enrollment())) == [("DELETE", SAID)]
    assert actions(engine, ev("sis.enrollments", "u", enrollment(), before=excluded)) == []
    # the test back in its scope year: the record is evaluated again and sent
    assert actions(engine, ev("sis.tests", "u", TEST_IN, before=TEST_OUT)) == [("POST", SAID)]


def test_the_kept_record_decision_names_the_score_date_enrollment_and_rule() -> None:
    engine = sent_then_out_of_scope()
    [decision] = [d for d in engine.evaluate_person(1).decisions if d.score_id == 1000]
    assert decision.reason == "test_out_of_scope_year"
    for words in ("test 5", "school year 2023", "2024-03-20", "enrollment 100", "kept as it is", "003"):
        assert words in decision.message


# --- the property: a test leaving scope, then its scores' dates, deletes and enrollments changing, any order ---

DATES = ["2023-06-20", "2023-09-01", "2024-01-10", "2024-03-20", "2024-05-30", "2024-07-15", None]
Key = tuple[str, int]


@st.composite
def later_changes(draw: Any) -> tuple[dict[Key, dict[str, Any]], list[tuple[Key, dict[str, Any] | None]]]:
    """The rows before the test leaves scope, and the changes after it (each a row's new version or None)."""
    rows: dict[Key, dict[str, Any]] = {}
    for eid in range(draw(st.integers(1, 3))):
        rows[("sis.enrollments", 100 + eid)] = enrollment(
            100 + eid, person=eid % 2 + 1, cal=draw(st.sampled_from([10, 20])),
            start=draw(st.sampled_from(["2023-08-15", "2024-01-05"])),
            end=draw(st.sampled_from([None, "2024-02-28"])), service=draw(st.sampled_from("PS")))
    for n in range(draw(st.integers(1, 5))):
        rows[("sis.test_scores", 1000 + n)] = score(1000 + n, person=draw(st.integers(1, 2)),
                                                    tid=draw(st.sampled_from([5, 6])),
                                                    date=draw(st.sampled_from(DATES)))
    changes: list[tuple[Key, dict[str, Any] | None]] = []
    current = dict(rows)
    for _ in range(draw(st.integers(1, 8))):
        key = draw(st.sampled_from(sorted(rows)))
        old = current.get(key)
        kind = draw(st.sampled_from(["date", "delete", "exclude", "end", "restore"]))
        new: dict[str, Any] | None
        if kind == "delete" or old is None:
            new = None if old is not None else rows[key]  # a deleted row may come back
        elif key[0] == "sis.test_scores":
            new = {**old, "date": draw(st.sampled_from(DATES))} if kind != "restore" else rows[key]
        elif kind == "exclude":
            new = {**old, "stateExclude": not old["stateExclude"]}
        elif kind == "end":
            new = {**old, "endDate": draw(st.sampled_from([None, "2024-02-28", "2024-06-30"]))}
        else:
            new = rows[key]
        changes.append((key, new))
        if new is None:
            current.pop(key, None)
        else:
            current[key] = new
    return rows, changes


def setup_events() -> list[ChangeEvent]:
    return [ev("sis.schools", "c", school()), ev("sis.schools", "c", school(2, 102)),
            ev("sis.calendars", "c", calendar()), ev("sis.calendars", "c", calendar(20, 2)),
            ev("sis.students", "c", student()), ev("sis.students", "c", student(2, "00000002")),
            ev("sis.tests", "c", TEST_IN), ev("sis.tests", "c", assessment_row(6, "State Science Assessment"))]


def as_events(rows: dict[Key, dict[str, Any]], changes: list[tuple[Key, dict[str, Any] | None]]
              ) -> tuple[list[ChangeEvent], list[ChangeEvent]]:
    first = [ev(topic, "c", row) for (topic, _), row in rows.items()]
    later = []
    last: dict[Key, dict[str, Any] | None] = dict(rows)
    for key, new in changes:
        before = last.get(key)
        if new is None:
            later.append(ev(key[0], "d", before=before))
        else:
            later.append(ev(key[0], "u" if before else "c", new, before=before))
        last[key] = new
    return first, later


def ods_of(engine: RuleEngine, ods: dict[str, dict[str, Any]], event: ChangeEvent) -> None:
    for cmd in engine.on_change(event).commands:
        if cmd.action == "DELETE":
            ods.pop(cmd.key, None)
        else:
            assert cmd.payload is not None
            ods[cmd.key] = cmd.payload


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=later_changes())
def test_a_record_kept_by_the_exception_leaves_with_any_other_trigger(
        history: tuple[dict[Key, dict[str, Any]], list[tuple[Key, dict[str, Any] | None]]]) -> None:
    """Engine A sees the Math test leave its scope year before the later changes; engine B (the rules without
    that change) says, after each later change, whether the record would still be wanted. A Math record A
    had sent is kept, as it was, exactly while B wants it at every step; A sends no new Math record; the
    Science records (their test stays in scope) are B's."""
    rows, changes = history
    first, later = as_events(rows, changes)
    a, b = (RuleEngine(RuleConfig(), **InMemoryStores().as_kwargs()) for _ in range(2))
    ods_a: dict[str, dict[str, Any]] = {}
    ods_b: dict[str, dict[str, Any]] = {}
    for e in [*setup_events(), *first]:
        ods_of(a, ods_a, e)
        ods_of(b, ods_b, e)
    ods_of(a, ods_a, ev("sis.tests", "u", TEST_OUT, before=TEST_IN))
    frozen = {k: v for k, v in ods_a.items() if k.startswith("Math_")}
    surviving = set(frozen)
    for e in later:
        ods_of(a, ods_a, e)
        ods_of(b, ods_b, e)
        surviving &= set(ods_b)
    assert {k: v for k, v in ods_a.items() if k.startswith("Math_")} == {k: frozen[k] for k in surviving}
    assert {k: v for k, v in ods_a.items() if not k.startswith("Math_")} == {
        k: v for k, v in ods_b.items() if not k.startswith("Math_")}
