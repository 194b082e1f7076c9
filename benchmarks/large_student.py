"""Benchmark: what one student with a long history costs the join, per event (issue 13, part 2).

Side by side in one run: encoding the student's table value row by row (``StudentState.to_dict``) against
the cached row fragments the join uses for large students (agents/table_values.py), and evaluating every
score of the student against evaluating only the score's own assessment (streams/rules/scope.py).

    python benchmarks/large_student.py [--scores 4000] [--state-share 0.1]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

from agents import table_values
from streams.rules.config import RuleConfig
from streams.rules.evaluate import evaluate
from streams.rules.scope import AssessmentScope
from streams.rules.state import ReferenceView, StudentState
from streams.sis.events import parse_change
from streams.sis.rows import TOPIC_ROWS

MATH, LOCAL = 1, 99


def row_event(topic: str, row: dict, ts: int):  # type: ignore[no-untyped-def, type-arg]
    pk = TOPIC_ROWS[topic][1]
    return parse_change(topic, {pk: row[pk]}, {"op": "c", "after": row, "ts_ms": ts})


def per_call(fn: Callable[[], object], repeat: int) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - started) / repeat


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scores", type=int, default=4000)
    parser.add_argument("--state-share", type=float, default=0.1, help="share of the scores on a state test")
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()

    cfg = RuleConfig()
    reference = ReferenceView({})
    for event in (
        row_event("sis.schools", {"schoolID": 1, "stateSchoolID": 101, "name": "S"}, 1),
        row_event("sis.calendars", {"calendarID": 10, "schoolID": 1, "endYear": 2024}, 1),
        row_event("sis.tests", {"testID": MATH, "name": "M", "stateCode": "State Mathematics Assessment"}, 1),
        row_event("sis.tests", {"testID": LOCAL, "name": "L"}, 1),
    ):
        reference.apply(event)
    state = StudentState(1)
    state = state.apply(row_event("sis.students", {"personID": 1, "stateID": "S1"}, 2))
    state = state.apply(row_event("sis.enrollments", {
        "enrollmentID": 1, "personID": 1, "calendarID": 10, "grade": "07", "startDate": "2023-08-16",
        "serviceType": "P"}, 2))
    every = max(1, round(1 / args.state_share)) if args.state_share > 0 else 0
    for i in range(args.scores):
        on_state = every and i % every == 0
        state = state.apply(row_event("sis.test_scores", {
            "scoreID": 1000 + i, "personID": 1, "testID": MATH if on_state else LOCAL,
            "date": f"202{3 + i % 2}-0{1 + i % 9}-1{i % 10}", "scaleScore": str(100 + i % 300)}, 10 + i))

    size = len(table_values.to_bytes(state.to_dict()))
    assert table_values.encode_student(state) == table_values.to_bytes(state.to_dict())
    rows = per_call(lambda: table_values.to_bytes(state.to_dict()), args.repeat)
    table_values.encode_student(state)  # the fragments of the unchanged rows are cached by now
    fragments = per_call(lambda: table_values.encode_student(state), args.repeat)
    scope = AssessmentScope(cfg)
    local_score = state.scores[1001]
    keys = {k for k in [scope.assessment_of(local_score, reference)] if k is not None}
    full = per_call(lambda: evaluate(state, reference, cfg), max(1, args.repeat // 5))
    scoped = per_call(lambda: evaluate(scope.restrict(state, keys, reference, (1001,)), reference, cfg),
                      args.repeat)
    math_keys = {scope.assessment_of(state.scores[1000], reference)} - {None}
    scoped_math = per_call(lambda: evaluate(scope.restrict(state, math_keys, reference, (1000,)),  # type: ignore[arg-type]
                                            reference, cfg), max(1, args.repeat // 5))
    print(f"student with {args.scores} scores ({args.state_share:.0%} on a state test), value {size} bytes")
    print(f"  encode the table value: row by row {rows * 1000:.2f} ms, cached fragments "
          f"{fragments * 1000:.2f} ms: {rows / fragments:.1f}x")
    print(f"  a local-test score event: evaluate every score {full * 1000:.2f} ms, its own assessment "
          f"{scoped * 1000:.3f} ms: {full / scoped:.0f}x")
    print(f"  a state-test score event: its own assessment {scoped_math * 1000:.2f} ms ({full / scoped_math:.1f}x)")
    print(json.dumps({"scores": args.scores, "bytes": size, "encode_rows_ms": round(rows * 1000, 3),
                      "encode_fragments_ms": round(fragments * 1000, 3), "evaluate_all_ms": round(full * 1000, 3),
                      "evaluate_local_ms": round(scoped * 1000, 4), "evaluate_state_ms": round(scoped_math * 1000, 3)}))


if __name__ == "__main__":
    main()
