"""Repartitioning: a student's rows meet in one partition; reference rows reach every partition."""

from __future__ import annotations

from agents.routing import partition_of, routes_for
from streams.sis.events import parse_change

SCORE = {"scoreID": 7, "personID": 13, "testID": 3, "date": "2024-03-20"}


def test_student_rows_go_to_the_students_partition() -> None:
    event = parse_change("sis.test_scores", {"scoreID": 7}, {"op": "c", "after": SCORE, "ts_ms": 1})
    routes = routes_for(event, 4)
    assert [(r.partition, r.key, r.broadcast) for r in routes] == [(partition_of(13, 4), "13", False)]


def test_a_score_moving_between_students_goes_to_both() -> None:
    event = parse_change("sis.test_scores", {"scoreID": 7},
                         {"op": "u", "before": SCORE, "after": {**SCORE, "personID": 14}, "ts_ms": 1})
    assert sorted(r.key for r in routes_for(event, 4)) == ["13", "14"]


def test_reference_rows_are_broadcast() -> None:
    event = parse_change("sis.schools", {"schoolID": 5},
                         {"op": "c", "after": {"schoolID": 5, "stateSchoolID": 99, "name": "A"}, "ts_ms": 1})
    routes = routes_for(event, 3)
    assert sorted(r.partition for r in routes) == [0, 1, 2] and all(r.broadcast for r in routes)
