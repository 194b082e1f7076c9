"""The Debezium envelope: what is accepted, and the precise reason for what is not."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from streams.errors import PoisonInput
from streams.sis.events import parse_change, parse_control
from streams.sis.owners import OwnerIndex
from streams.sis.rows import Enrollment, TestScore

SCORE = {"scoreID": 7, "personID": 1, "testID": 3, "date": "2024-03-20", "scaleScore": "250"}


def env(op: str, before: Any = None, after: Any = None, ts: Any = 10) -> dict[str, Any]:
    return {"op": op, "before": before, "after": after, "ts_ms": ts, "source": {"table": "TestScore", "seq": 4}}


def test_create_update_read_delete() -> None:
    c = parse_change("sis.test_scores", {"scoreID": 7}, env("c", after=SCORE))
    assert isinstance(c.after, TestScore) and c.after.date == dt.date(2024, 3, 20) and c.seq == 4
    assert parse_change("sis.test_scores", {"scoreID": 7}, env("r", after=SCORE)).op == "r"
    d = parse_change("sis.test_scores", {"scoreID": 7}, env("d", before=SCORE))
    assert d.is_delete and d.after is None and isinstance(d.before, TestScore)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (env("x", after=SCORE), "unknown_op"),
        (env("c"), "bad_envelope"),
        (env("d", before=SCORE, after=SCORE), "bad_envelope"),
        (env("d"), "unknown_owner"),  # no before image, and no owner index has seen the row
        (env("t"), "truncate"),
        (env("m"), "message_event"),
        (env("c", after={**SCORE, "date": "2024-02-30"}), "bad_date"),
        (env("c", after={k: v for k, v in SCORE.items() if k != "testID"}), "missing_field"),
        (env("c", after={**SCORE, "personID": "abc"}), "bad_field"),
        (env("c", after={**SCORE, "result": "x" * 5000}), "oversized_value"),
        (env("c", after=SCORE, ts="yesterday"), "bad_envelope"),
        (env("c", after={**SCORE, "scoreID": 8}), "bad_key"),
    ],
)
def test_poison_reasons(value: dict[str, Any], reason: str) -> None:
    with pytest.raises(PoisonInput) as info:
        OwnerIndex().apply(parse_change("sis.test_scores", {"scoreID": 7}, value))
    assert info.value.reason == reason


def test_unknown_topic() -> None:
    with pytest.raises(PoisonInput, match="unknown_topic"):
        parse_change("sis.nope", None, env("c", after=SCORE))


def test_enrollment_rules_of_shape() -> None:
    row = {"enrollmentID": 1, "personID": 2, "calendarID": 3, "grade": "5", "startDate": "2023-08-15",
           "endDate": None, "serviceType": "p", "stateExclude": False, "noShow": False,
           "kelpaExam": "KELPA for current ESOL students only"}
    e = Enrollment.from_row(row)
    assert (e.grade, e.service_type, e.kelpa_exam) == ("05", "P", "KELPA for current ESOL students only")
    assert e.active_on(dt.date(2024, 6, 1)) and not e.active_on(dt.date(2023, 8, 14))
    with pytest.raises(PoisonInput, match="serviceType"):
        Enrollment.from_row({**row, "serviceType": "Q"})
    with pytest.raises(PoisonInput, match="before it starts"):
        Enrollment.from_row({**row, "endDate": "2023-08-01"})
    assert Enrollment.from_row(e.to_row()) == e


def test_control_events() -> None:
    assert parse_control({"resource": "studentAssessments"}, {"enabled": False}).enabled is False
    with pytest.raises(PoisonInput):
        parse_control({"resource": "studentAssessments"}, {"enabled": "no"})
