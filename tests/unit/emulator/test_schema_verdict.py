"""The emulator's fast schema check (fastjsonschema) must give the same verdict as jsonschema, which writes
the detailed messages: a body one accepts and the other rejects would make the emulator lie."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams.emulator.validation import _validator, schema_accepts, structural_errors

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.floats(allow_nan=False),
                    st.text(max_size=80), st.text(min_size=60, max_size=400), st.just(""), st.just([]),
                    st.just({}))
PATHS = [("studentAssessmentIdentifier",), ("administrationDate",), ("assessmentReference",),
         ("assessmentReference", "assessmentIdentifier"), ("assessmentReference", "namespace"),
         ("studentReference",), ("studentReference", "studentUniqueId"), ("reportedSchoolReference", "schoolId"),
         ("scoreResults",), ("scoreResults", 0), ("scoreResults", 0, "result"),
         ("scoreResults", 0, "assessmentReportingMethodDescriptor"), ("serialNumber",), ("schoolYearTypeReference",),
         ("schoolYearTypeReference", "schoolYear"), ("accommodations",), ("performanceLevels",)]


def change(body: dict[str, Any], path: tuple[Any, ...], value: Any, delete: bool) -> None:
    """Set (or delete) the member at ``path`` when its parent exists; otherwise leave the body alone."""
    node: Any = body
    for part in path[:-1]:
        inside_dict = isinstance(node, dict) and isinstance(node.get(part), dict | list)
        inside_list = isinstance(node, list) and isinstance(part, int) and part < len(node)
        if inside_dict or inside_list:
            node = node[part]
        else:
            return
    last = path[-1]
    if isinstance(node, dict):
        if delete:
            node.pop(last, None)
        else:
            node[last] = value
    elif isinstance(node, list) and isinstance(last, int) and last < len(node):
        node[last] = value


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(PATHS), SCALARS, st.booleans()), min_size=1, max_size=3))
def test_fast_verdict_equals_jsonschema(body: dict[str, Any], changes: list[tuple[Any, Any, bool]]) -> None:
    candidate = copy.deepcopy(body)
    for path, value, delete in changes:
        change(candidate, path, value, delete)
    slow = not any(True for _ in _validator().iter_errors(candidate))
    assert schema_accepts(candidate) == slow, candidate


def test_a_rejected_body_still_gets_the_detailed_messages(body: dict[str, Any]) -> None:
    assert schema_accepts(body) and structural_errors(body) == {}
    body["studentAssessmentIdentifier"] = "x" * 61
    del body["studentReference"]
    assert not schema_accepts(body)
    errors = structural_errors(body)
    assert "StudentReference is required." in errors["$.studentReference"]
    assert errors["$.studentAssessmentIdentifier"] == [
        "StudentAssessmentIdentifier must be between 1 and 60 characters in length."]
