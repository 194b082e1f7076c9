"""Issue 16, item 5: every decision message names the score, the date, the enrollment and the rule, in plain
words (what a data steward reads in `edfi-stream explain`; the score's id is also the decision's scoreID)."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams.rules.config import RuleConfig
from streams.rules.engine import InMemoryStores, RuleEngine
from tests.unit.rules.test_convergence import to_events, versions

DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# reason -> words the message must hold besides what every message holds
REQUIRED: dict[str, tuple[str, ...]] = {
    "sent": ("sent:", "enrollment ", "school "),
    "superseded": ("not reported:", "enrollment ", "003: only one record per student assessment"),
    "out_of_scope_year": ("held:", "outside the scope year"),
    "no_active_enrollment": ("held:", "enrollment"),
    "excluded_enrollment": ("held:", "enrollment "),
    "excluded_calendar": ("held:", "calendar ", "enrollment ", "Exclude"),
    "excluded_school": ("held:", "school ", "Exclude"),
    "grade_not_eligible": ("not reported:", "enrollment ", "grade"),
    "test_out_of_scope_year": ("held:", "school year", "enrollment ", "003"),
}
DATED = {"sent", "superseded", "out_of_scope_year", "no_active_enrollment", "test_out_of_scope_year"}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_decision_messages_name_the_score_date_enrollment_and_rule(data: st.DataObject) -> None:
    rows = versions(data.draw)
    if data.draw(st.booleans()):  # a test out of its scope year: the exception's messages too
        last = rows[("sis.tests", 5)][-1]
        assert last is not None
        rows[("sis.tests", 5)] = [*rows[("sis.tests", 5)], {**last, "endYear": 2023}]
    order = [k for k, seq in rows.items() for _ in seq]
    engine = RuleEngine(RuleConfig(), **InMemoryStores().as_kwargs())
    seen: dict[str, int] = {}
    for event in to_events(rows, order):
        for d in engine.on_change(event).decisions:
            check(d.reason, d.score_id, d.message)
            seen[d.reason] = seen.get(d.reason, 0) + 1
    assert seen or not any(k[0] == "sis.test_scores" for k in rows)


def check(reason: str, score_id: Any, message: str) -> None:
    for words in REQUIRED.get(reason, ()):
        assert words in message, (reason, words, message)
    if reason in DATED:
        assert DATE.search(message), (reason, message)
    if reason in ("sent", "superseded"):
        assert f"score {score_id} " in message, (reason, message)
