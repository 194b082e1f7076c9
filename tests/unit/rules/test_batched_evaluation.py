"""Batched evaluation (issue 20): a batch of events is applied in order, then each student it touched is
evaluated once; the ODS converges to the same records as event by event, whatever the batch boundaries."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams.rules import engine as engine_module
from streams.rules.batch import PendingEvaluations
from streams.rules.config import RuleConfig
from streams.rules.engine import InMemoryStores, RuleEngine
from streams.sis.events import ChangeEvent
from streams.writes import WriteCommand
from tests.unit.rules.helpers import base_district, enrollment, ev, score, student
from tests.unit.rules.test_convergence import apply, direct, run, to_events, versions


def run_batched(events: list[ChangeEvent], cuts: list[int]) -> dict[tuple[str, str, str, str], dict[str, Any]]:
    engine = RuleEngine(RuleConfig(), **InMemoryStores().as_kwargs())
    ods: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    bounds = [0, *sorted(set(cuts)), len(events)]
    for start, end in itertools.pairwise(bounds):
        pending = PendingEvaluations()
        for event in events[start:end]:
            engine.apply(event, pending)
        for cmd in engine.evaluate_pending(pending).commands:
            apply(ods, cmd)
    return ods


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_batching_converges_to_the_rules_on_the_final_state(data: st.DataObject) -> None:
    rows = versions(data.draw)
    order = [k for k, seq in rows.items() for _ in seq]
    data.draw(st.randoms(use_true_random=False)).shuffle(order)
    events = to_events(rows, order)
    cuts = data.draw(st.lists(st.integers(0, max(len(events), 1)), max_size=6))
    expected = direct(rows)
    assert run(events) == expected
    assert run_batched(events, cuts) == expected
    assert run_batched(events, []) == expected, "the whole history as one batch"


def counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The person of every evaluation the engine makes."""
    calls: list[int] = []
    real = engine_module.evaluate

    def spy(state: Any, *args: Any) -> Any:
        calls.append(state.person_id)
        return real(state, *args)

    monkeypatch.setattr(engine_module, "evaluate", spy)
    return calls


def test_many_changes_of_one_student_in_a_batch_cost_one_evaluation(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = RuleEngine(RuleConfig(), **InMemoryStores().as_kwargs())
    for event in base_district():
        engine.on_change(event)
    calls = counting(monkeypatch)
    pending = PendingEvaluations()
    batch = [ev("sis.students", "c", student(2, "00000002")), ev("sis.enrollments", "c", enrollment(200, 2)),
             *(ev("sis.test_scores", "c", score(2000 + n, 2, scale=str(200 + n))) for n in range(5)),
             ev("sis.test_scores", "c", score(3000, 1))]
    for event in batch:
        engine.apply(event, pending)
    assert calls == [], "applying evaluates nothing"
    outcome = engine.evaluate_pending(pending)
    assert sorted(calls) == [1, 2], "one evaluation per student of the batch"
    commands: list[WriteCommand] = outcome.commands
    assert [(c.action, c.natural_key.student_unique_id) for c in commands] == [("POST", "00000002"),
                                                                              ("POST", "00000001")]
    assert commands[0].source_ts_ms == batch[-2].ts_ms, "the writes carry the latest change of the student"


def test_a_score_only_batch_keeps_the_scoped_evaluation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Score events of one student merge their scopes: the student is evaluated once, on those scores'
    assessments (a student row in the batch would widen it to the whole student)."""
    stores = InMemoryStores()
    engine = RuleEngine(RuleConfig(), **stores.as_kwargs())
    for event in base_district():
        engine.on_change(event)
    pending = PendingEvaluations()
    engine.apply(ev("sis.test_scores", "c", score(1, 1)), pending)
    engine.apply(ev("sis.test_scores", "c", score(2, 1, scale="300")), pending)
    (person, (_, scope, _)), = list(pending.items())
    assert person == 1 and scope is not None
    assert len(scope[0]) == 1 and scope[1] == {1, 2}, "one assessment, the two scores"
    engine.apply(ev("sis.enrollments", "u", enrollment(grade="07"), enrollment()), pending)
    (_, (_, widened, _)), = list(pending.items())
    assert widened is None, "an enrollment change evaluates the whole student"
    assert len(engine.evaluate_pending(pending).commands) == 1


def test_pending_keeps_first_seen_order_and_the_latest_time() -> None:
    pending = PendingEvaluations()
    pending.add(3, 10, ({"a"}, {1}))
    pending.add(1, 5, None)
    pending.add(3, 7, ({"b"}, {2}), reindex=True)
    assert [(p, ts, scope, reindex) for p, (ts, scope, reindex) in pending.items()] == [
        (3, 10, ({"a", "b"}, {1, 2}), True), (1, 5, None, False)]
    other = PendingEvaluations()
    other.add(3, 11, None)
    pending.merge(other)
    assert dict(pending.items())[3] == (11, None, True)


def test_one_records_writes_keep_their_order_within_a_batch() -> None:
    """A batch that changes a student's State Student Identifier and a score: the old record's DELETE
    comes before the new record's POST (the egress keeps that order per key)."""
    engine = RuleEngine(RuleConfig(), **InMemoryStores().as_kwargs())
    for event in [*base_district(), ev("sis.test_scores", "c", score(1, 1))]:
        engine.on_change(event)
    pending = PendingEvaluations()
    engine.apply(ev("sis.test_scores", "u", score(1, 1, scale="300"), score(1, 1)), pending)
    engine.apply(ev("sis.students", "u", student(1, "00000009"), student(1)), pending)
    commands = engine.evaluate_pending(pending).commands
    assert [(c.action, c.natural_key.student_unique_id) for c in commands] == [("DELETE", "00000001"),
                                                                              ("POST", "00000009")]
    assert commands[1].payload is not None and "300" in str(commands[1].payload)
