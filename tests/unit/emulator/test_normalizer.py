"""The schema compiled into normalising rules (streams/emulator/normalizer.py), through validation.normalize:
what is kept, converted and stored, and the messages (paths, labels) of what the ODS's reader refuses."""

from __future__ import annotations

from typing import Any

from streams.emulator import validation
from streams.emulator.normalizer import Compiler


def body(**extra: Any) -> dict[str, Any]:
    return {"studentAssessmentIdentifier": "S1",
            "assessmentReference": {"assessmentIdentifier": "A", "namespace": "uri://x", "link": {"rel": "x"}},
            "studentReference": {"studentUniqueId": "1"}, **extra}


def test_unknown_and_read_only_members_are_dropped_at_every_level() -> None:
    errors: dict[str, list[str]] = {}
    clean = validation.normalize(body(unknown=1, _etag="e", _lastModifiedDate="2024-01-01T00:00:00Z",
                                      scoreResults=[{"result": "1", "extra": True}]), errors)
    assert errors == {}
    assert "unknown" not in clean and "_etag" not in clean and "_lastModifiedDate" not in clean
    assert clean["assessmentReference"] == {"assessmentIdentifier": "A", "namespace": "uri://x"}
    assert clean["scoreResults"] == [{"result": "1"}]


def test_numeric_strings_become_numbers_and_bad_values_are_reported_by_path() -> None:
    errors: dict[str, list[str]] = {}
    clean = validation.normalize(body(schoolYearTypeReference={"schoolYear": " 2024 "}, assessedMinutes="12",
                                      administrationDate="not a date"), errors)
    assert clean["schoolYearTypeReference"] == {"schoolYear": 2024}
    assert clean["assessedMinutes"] == 12
    assert errors == {"$.administrationDate": ["The value 'not a date' is not valid for AdministrationDate."]}


def test_an_int32_out_of_range_is_refused_with_the_ods_s_type_name() -> None:
    errors: dict[str, list[str]] = {}
    validation.normalize(body(assessedMinutes=2**31), errors)
    assert errors == {"$.assessedMinutes": [f"Error converting value {2**31} to type 'System.Int32'."]}
    errors.clear()
    validation.normalize(body(assessedMinutes=True), errors)  # a boolean is not an integer to range-check
    assert errors == {}


def test_dates_are_stored_as_the_ods_reads_them_back_and_values_of_another_shape_are_kept() -> None:
    errors: dict[str, list[str]] = {}
    clean = validation.normalize(body(administrationDate="2024-05-11T00:00:00Z", scoreResults="x",
                                      studentReference="y"), errors)
    assert errors == {}
    assert clean["administrationDate"] != "" and clean["administrationDate"].startswith("2024-05-11T00:00:00")
    assert clean["scoreResults"] == "x" and clean["studentReference"] == "y"  # the schema check refuses them


def test_a_self_referring_definition_compiles() -> None:
    definitions = {"edFi_studentAssessment": {"type": "object", "properties": {
        "child": {"$ref": "#/definitions/edFi_studentAssessment"}, "n": {"type": "integer"}}}}
    rule = Compiler(definitions).root()
    errors: dict[str, list[str]] = {}
    assert rule({"n": "1", "child": {"n": "2", "x": 0}}, errors, "$") == {"n": 1, "child": {"n": 2}}
