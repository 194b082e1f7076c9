"""Issue 13, part 2: a score event re-evaluates the student assessment it belongs to, not every score of the
student; scores that cannot be reported now are kept and count again when they can."""

from __future__ import annotations

from streams.rules.config import RuleConfig
from streams.rules.engine import InMemoryStores, RuleEngine
from tests.unit.rules.helpers import assessment_row, base_district, ev, score

LOCAL = 7  # a test without a state code


def engine_with(events: list) -> RuleEngine:
    engine = RuleEngine(RuleConfig(), **InMemoryStores().as_kwargs())
    for event in events:
        engine.on_change(event)
    return engine


def test_a_score_event_decides_only_its_own_assessment() -> None:
    history = [*base_district(), ev("sis.tests", "c", assessment_row(LOCAL, state_code=None)),
               ev("sis.tests", "c", assessment_row(6, state_code="State English Language Arts Assessment"))]
    history += [ev("sis.test_scores", "c", score(2000 + i, tid=LOCAL)) for i in range(300)]
    history += [ev("sis.test_scores", "c", score(1000)), ev("sis.test_scores", "c", score(1001, tid=6))]
    engine = engine_with(history)

    local = engine.on_change(ev("sis.test_scores", "c", score(3000, tid=LOCAL)))
    assert [(d.score_id, d.reason) for d in local.decisions] == [(3000, "not_state_reported")]
    assert local.commands == []

    math = engine.on_change(ev("sis.test_scores", "u", score(1000, scale="260"), before=score(1000)))
    assert {d.score_id for d in math.decisions} == {1000}, "only the math assessment's scores"
    assert [c.action for c in math.commands] == ["PUT"]
    # the other assessment's record is still known as sent (not deleted by the partial evaluation)
    assert len(engine.sent[1]) == 2
    assert engine.evaluate_person(1).records.keys() == engine.sent[1].keys()


def test_a_score_moved_to_another_assessment_updates_both() -> None:
    engine = engine_with([*base_district(),
                          ev("sis.tests", "c", assessment_row(6, state_code="State English Language Arts Assessment")),
                          ev("sis.test_scores", "c", score(1000))])
    moved = engine.on_change(ev("sis.test_scores", "u", score(1000, tid=6), before=score(1000)))
    assert sorted(c.action for c in moved.commands) == ["DELETE", "POST"]
    assert list(engine.sent[1]) == list(engine.evaluate_person(1).records)


def test_a_test_that_later_gets_a_state_code_reports_its_kept_scores() -> None:
    engine = engine_with([*base_district(), ev("sis.tests", "c", assessment_row(LOCAL, state_code=None)),
                          *[ev("sis.test_scores", "c", score(2000 + i, tid=LOCAL)) for i in range(5)]])
    assert not engine.sent
    coded = engine.on_change(ev("sis.tests", "u", assessment_row(LOCAL, state_code="State Science Assessment"),
                                before=assessment_row(LOCAL, state_code=None)))
    assert [c.action for c in coded.commands] == ["POST"]
    assert coded.commands[0].payload is not None


def test_a_score_whose_date_moves_into_the_year_is_reported() -> None:
    engine = engine_with([*base_district(), ev("sis.test_scores", "c", score(1000, date="2022-03-20"))])
    assert not engine.sent
    moved = engine.on_change(ev("sis.test_scores", "u", score(1000), before=score(1000, date="2022-03-20")))
    assert [c.action for c in moved.commands] == ["POST"]
