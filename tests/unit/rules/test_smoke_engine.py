from __future__ import annotations

from streams.rules.config import RuleConfig
from streams.rules.engine import InMemoryStores, RuleEngine
from tests.unit.rules.helpers import base_district, ev, score


def test_post_then_put_then_delete() -> None:
    engine = RuleEngine(RuleConfig(), **InMemoryStores().as_kwargs())
    for e in base_district():
        assert engine.on_change(e).commands == []
    out = engine.on_change(ev("sis.test_scores", "c", score()))
    assert [c.action for c in out.commands] == ["POST"]
    body = out.commands[0].payload
    assert body is not None
    assert body["studentAssessmentIdentifier"] == "Math_00000001_2024"
    assert body["reportedSchoolReference"] == {"schoolId": 101}
    out = engine.on_change(ev("sis.test_scores", "u", score(scale="260"), before=score()))
    assert [c.action for c in out.commands] == ["PUT"]
    assert engine.on_change(ev("sis.test_scores", "u", score(scale="260"), before=score())).commands == []
    out = engine.on_change(ev("sis.test_scores", "d", before=score(scale="260")))
    assert [c.action for c in out.commands] == ["DELETE"]
