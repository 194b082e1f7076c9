"""Issue 13, part 2: no student's table value outgrows worker.maxValueBytes; what would is refused."""

from __future__ import annotations

from typing import Any

import pytest

from agents import table_values
from agents.join_limits import StateBudget, growth, people_of
from agents.tablestore import BufferedTableView
from streams.errors import PoisonInput
from streams.rules.state import StudentState
from streams.sis.events import ChangeEvent, parse_change


def score_event(score_id: int, person: int = 1, op: str = "c", before_person: int | None = None,
                ts: int = 1_700_000_000_000) -> ChangeEvent:
    row = {"scoreID": score_id, "personID": person, "testID": 7, "date": "2024-03-01", "scaleScore": "250"}
    before = {**row, "personID": before_person} if before_person is not None else None
    return parse_change("sis.test_scores", {"scoreID": score_id},
                        {"op": op, "before": before, "after": row, "ts_ms": ts + score_id})


def students_view(table: dict[Any, Any]) -> BufferedTableView[StudentState]:
    return BufferedTableView(table, str, table_values.encode_student, table_values.decode_student)


def test_growth_estimates_the_encoded_size_from_one_row() -> None:
    state = StudentState(1)
    for sid in range(50):
        event = score_event(sid)
        estimate = growth(state, 1, event)
        new = state.apply(event)
        actual = len(table_values.encode_student(new)) - len(table_values.encode_student(state))
        assert estimate >= actual and estimate - actual <= 8, (sid, estimate, actual)
        state = new
    update = score_event(3, ts=1_800_000_000_000)
    assert growth(state, 1, update) == 0 or abs(growth(state, 1, update)) <= 2


def test_the_budget_refuses_what_would_exceed_the_limit_and_counts_buffered_growth() -> None:
    table: dict[Any, Any] = {}
    view = students_view(table)
    budget = StateBudget(limit=4000, margin=100)
    state = StudentState(1)
    applied = 0
    with pytest.raises(PoisonInput) as refused:
        for sid in range(1000):
            event = score_event(sid)
            budget.add(1, budget.check(view, 1, event))
            state = state.apply(event)
            view[1] = state
            applied += 1
            if sid % 7 == 6:  # a batch settles now and then
                view.flush()
                budget.forget()
    assert refused.value.reason == "student_state_limit"
    view.flush()
    assert 20 < applied < 1000
    assert len(table["1"]) <= 4000 - 100
    # a delete always applies (it shrinks the state)
    delete = parse_change("sis.test_scores", {"scoreID": 0}, {"op": "d", "before": score_event(0).after.to_row(),  # type: ignore[union-attr]
                                                             "after": None, "ts_ms": 1_900_000_000_000})
    assert budget.check(view, 1, delete) < 0


def test_people_of_follows_the_engine() -> None:
    assert people_of(score_event(1, person=2, op="u", before_person=3), None) == [2, 3]
    assert people_of(score_event(1, person=2, op="u", before_person=3), 3) == [3]


def test_restore_takes_back_the_changes_of_a_failed_event() -> None:
    table: dict[Any, Any] = {}
    view = students_view(table)
    view[1] = StudentState(1)
    mark = view.mark()
    view[2] = StudentState(2)
    del view[1]
    view.restore(mark)
    view.flush()
    assert set(table) == {"1"}
