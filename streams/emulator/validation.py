"""Request-body validation the way the ODS/API does it (API-BEHAVIOUR.md 1.3-1.6, 2.1, 2.7).

Order, as in the ODS pipeline: unknown members are dropped (never stored); then structure and lengths
from the DS 5.0 OpenAPI schema; identity strings without surrounding spaces; duplicate collection items;
equality constraints on nested assessment references; descriptor values that exist. Reference checks
(409) come after, in :mod:`.core`, because they need the stored data.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import fastjsonschema
from jsonschema import Draft7Validator

from streams.emulator import normalizer

IDENTITY_PATHS = (("studentAssessmentIdentifier",), ("assessmentReference", "assessmentIdentifier"),
                  ("assessmentReference", "namespace"), ("studentReference", "studentUniqueId"))

# Kansas extension members kept under _ext.ksde (docs/emulator.md): name -> (kind, max length)
KSDE_EXTENSION = {"proctorStaffReference": "reference", "assessmentRequestDescriptor": "descriptor"}


@cache
def _schema() -> dict[str, Any]:
    text = resources.files("streams.emulator").joinpath("data/studentAssessment.schema.json").read_text()
    return dict(json.loads(text))


@cache
def _validator() -> Draft7Validator:
    return Draft7Validator(_schema())


@cache
def _accepts() -> Any:
    """The same schema compiled to Python by fastjsonschema: about 15x faster than jsonschema on a valid
    body, which is nearly every body. Formats are off, as in the Draft7Validator (dates are checked by
    :func:`normalize` the way the ODS reads them), so both give the same verdict; jsonschema runs only on a
    body this rejects, to write the ODS's detailed messages."""
    schema = _schema()
    root = {"$ref": "#/definitions/edFi_studentAssessment", "definitions": schema["definitions"]}
    return fastjsonschema.compile(root, use_formats=False)


def schema_accepts(body: dict[str, Any]) -> bool:
    try:
        _accepts()(body)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if ref:
        return dict(_schema()["definitions"][ref.rsplit("/", 1)[-1]])
    return node


def strip_unknown(value: Any, node: dict[str, Any] | None = None) -> Any:
    """Drop members the schema does not know, recursively ("Should ignore extra attributes")."""
    node = _resolve(node or {"$ref": "#/definitions/edFi_studentAssessment"})
    if isinstance(value, dict) and node.get("type") == "object":
        props = node.get("properties", {})
        return {k: strip_unknown(v, props[k]) for k, v in value.items()
                if k in props and k not in ("link", "_etag", "_lastModifiedDate")}
    if isinstance(value, list) and node.get("type") == "array":
        return [strip_unknown(v, node.get("items", {})) for v in value]
    return value


@cache
def _normalizer() -> normalizer.Rule:
    return normalizer.Compiler(_schema()["definitions"]).root()


def normalize(value: Any, errors: dict[str, list[str]]) -> Any:
    """Drop unknown members (never stored), coerce numeric and boolean strings as the ODS's JSON reader
    does (``"schoolYear": "2024"`` is accepted, API-BEHAVIOUR.md 2.1), store dates and date-times as the ODS
    reads them back (:mod:`.datetimes`), and report values that the reader
    cannot convert (bad dates, integers out of their int32/int64 range) into ``errors``. The schema is
    compiled once into these rules (:mod:`.normalizer`)."""
    return _normalizer()(value, errors, "$")


def _json_path(path: Any) -> str:
    out = "$"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def display_name(member: str) -> str:
    """The ODS names a member in its messages by its property name: ``StudentAssessmentIdentifier``."""
    return member[:1].upper() + member[1:]


def structural_errors(body: dict[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    schema_errors = [] if schema_accepts(body) else _validator().iter_errors(body)
    for err in schema_errors:
        path = _json_path(err.absolute_path)
        if err.validator == "required":
            missing = err.message.split("'")[1] if "'" in err.message else "value"
            errors.setdefault(_json_path([*err.absolute_path, missing]), []).append(
                f"{display_name(missing)} is required.")
        elif err.validator in ("maxLength", "minLength"):
            name = display_name(str(err.absolute_path[-1]) if err.absolute_path else "value")
            schema = err.schema if isinstance(err.schema, dict) else {}
            if err.instance == "":
                message = f"{name} is required and should not be left empty."
            elif "minLength" in schema:
                message = (f"{name} must be between {schema['minLength']} and {schema.get('maxLength', '')} "
                           "characters in length.")
            else:
                message = f"{name} must be at most {schema.get('maxLength')} characters in length."
            errors.setdefault(path, []).append(message)
        else:
            errors.setdefault(path, []).append(
                f"The value {json.dumps(err.instance)[:80]} is not valid: {err.message[:160]}")
    for identity in IDENTITY_PATHS:
        value: Any = body
        for part in identity:
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, str) and value != value.strip():
            errors.setdefault(_json_path(identity), []).append(
                f"{display_name(identity[-1])} cannot contain leading or trailing spaces.")
    return errors


def duplicate_errors(body: dict[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}

    def check(items: Any, path: str, label: str, key: Any) -> None:
        if not isinstance(items, list):
            return
        seen = set()
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                continue
            k = json.dumps(key(item), sort_keys=True).lower()
            if k in seen:
                errors.setdefault(path, []).append(
                    f"The {_ordinal(i + 1)} item of the {label} has the same identifying values as another "
                    "item earlier in the list.")
            seen.add(k)

    check(body.get("scoreResults"), "$.scoreResults", "StudentAssessmentScoreResults",
          lambda x: x.get("assessmentReportingMethodDescriptor"))
    check(body.get("performanceLevels"), "$.performanceLevels", "StudentAssessmentPerformanceLevels",
          lambda x: [x.get("assessmentReportingMethodDescriptor"), x.get("performanceLevelDescriptor")])
    check(body.get("accommodations"), "$.accommodations", "StudentAssessmentAccommodations",
          lambda x: x.get("accommodationDescriptor"))
    check(body.get("items"), "$.items", "StudentAssessmentItems", lambda x: x.get("assessmentItemReference"))
    check(body.get("studentObjectiveAssessments"), "$.studentObjectiveAssessments",
          "StudentAssessmentStudentObjectiveAssessments", lambda x: x.get("objectiveAssessmentReference"))
    for i, soa in enumerate(body.get("studentObjectiveAssessments") or []):
        if isinstance(soa, dict):
            check(soa.get("scoreResults"), f"$.studentObjectiveAssessments[{i}].scoreResults",
                  "StudentAssessmentStudentObjectiveAssessmentScoreResults",
                  lambda x: x.get("assessmentReportingMethodDescriptor"))
            check(soa.get("performanceLevels"), f"$.studentObjectiveAssessments[{i}].performanceLevels",
                  "StudentAssessmentStudentObjectiveAssessmentPerformanceLevels",
                  lambda x: [x.get("assessmentReportingMethodDescriptor"), x.get("performanceLevelDescriptor")])
    return errors


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def equality_errors(body: dict[str, Any]) -> dict[str, list[str]]:
    """Nested objective-assessment and item references repeat the parent assessment's key (1.5). A
    mismatch is reported at each child member that differs, by its indexed path, and not at the parent
    (ODS Postman ResponseTests "when_posting_a_resource_with_contextual_unified_keys_with_different_source_values")."""
    errors: dict[str, list[str]] = {}
    parent = body.get("assessmentReference") or {}
    for member in ("assessmentIdentifier", "namespace"):
        want = parent.get(member)
        nested = [(f"$.studentObjectiveAssessments[{i}].objectiveAssessmentReference.{member}",
                   (s.get("objectiveAssessmentReference") or {}).get(member))
                  for i, s in enumerate(body.get("studentObjectiveAssessments") or []) if isinstance(s, dict)]
        nested += [(f"$.items[{i}].assessmentItemReference.{member}",
                    (s.get("assessmentItemReference") or {}).get(member))
                   for i, s in enumerate(body.get("items") or []) if isinstance(s, dict)]
        for path, value in nested:
            if value is not None and value != want:
                conflicting = ", ".join(f"'{v}'" for v in sorted({str(want), str(value)}))
                errors.setdefault(path, []).append(
                    f"All values supplied for '{member}' must match. Review all references (including those "
                    f"higher up in the resource's data) and align the following conflicting values: {conflicting}")
    return errors


def descriptor_values(body: Any, path: str = "$") -> list[tuple[str, str, str]]:
    """Every (json path, descriptor name, value) in the body."""
    found: list[tuple[str, str, str]] = []
    _collect_descriptors(body, path, found)
    return found


def _collect_descriptors(node: Any, path: str, found: list[tuple[str, str, str]]) -> None:
    # only containers are walked into: a body's other leaves cost a type check, not a call
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str):
                if key.endswith("Descriptor"):
                    name = key[0].upper() + key[1:]
                    if name == "WhenAssessedGradeLevelDescriptor":
                        name = "GradeLevelDescriptor"
                    elif name == "AdministrationLanguageDescriptor":
                        name = "LanguageDescriptor"
                    found.append((f"{path}.{key}", name, value))
            elif isinstance(value, (dict, list)):
                _collect_descriptors(value, f"{path}.{key}", found)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            if isinstance(item, (dict, list)):
                _collect_descriptors(item, f"{path}[{i}]", found)


def ksde_extension(ext: Any) -> tuple[dict[str, Any] | None, dict[str, list[str]]]:
    """Keep the Kansas members of ``_ext.ksde`` (others are dropped), with their structural checks."""
    errors: dict[str, list[str]] = {}
    if not isinstance(ext, dict) or not isinstance(ext.get("ksde"), dict):
        return None, errors
    ksde = {k: v for k, v in ext["ksde"].items() if k in KSDE_EXTENSION}
    ref = ksde.get("proctorStaffReference")
    if ref is not None:
        staff_id = ref.get("staffUniqueId") if isinstance(ref, dict) else None
        if not isinstance(staff_id, str) or not 1 <= len(staff_id) <= 32:
            errors["$._ext.ksde.proctorStaffReference.staffUniqueId"] = [
                "staffUniqueId is required and must be a string with a maximum length of 32."]
    request = ksde.get("assessmentRequestDescriptor")
    if request is not None and (not isinstance(request, str) or len(request) > 306):
        errors["$._ext.ksde.assessmentRequestDescriptor"] = [
            "assessmentRequestDescriptor must be a string with a maximum length of 306."]
    return (ksde or None), errors
