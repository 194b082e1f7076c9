"""Request-body validation the way the ODS/API does it (API-BEHAVIOUR.md 1.3-1.6, 2.1, 2.7).

Order, as in the ODS pipeline: unknown members are dropped (never stored); then structure and lengths
from the DS 5.0 OpenAPI schema; identity strings without surrounding spaces; duplicate collection items;
equality constraints on nested assessment references; descriptor values that exist. Reference checks
(409) come after, in :mod:`.core`, because they need the stored data.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
from functools import cache
from importlib import resources
from typing import Any

import fastjsonschema
from jsonschema import Draft7Validator

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


INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
INTEGER_TEXT = re.compile(r"^\s*[-+]?\d+\s*$")
# What the ODS's JSON reader (Newtonsoft, DateParseHandling.DateTime) accepts for date and date-time
# members: ISO 8601 with or without a time and zone, and "yyyy/MM/dd" (API-BEHAVIOUR.md 1.7).
SLASH_DATE = re.compile(r"^\d{4}/\d{1,2}/\d{1,2}$")


def _valid_date(text: str, with_time: bool) -> bool:
    if SLASH_DATE.match(text):
        year, month, day = (int(p) for p in text.split("/"))
        try:
            dt.date(year, month, day)
        except ValueError:
            return False
        return True
    try:
        if with_time:
            dt.datetime.fromisoformat(text.replace("z", "Z"))
        else:
            dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def normalize(value: Any, errors: dict[str, list[str]], node: dict[str, Any] | None = None,
              path: str = "$") -> Any:
    """Drop unknown members (never stored), coerce numeric and boolean strings as the ODS's JSON reader
    does (``"schoolYear": "2024"`` is accepted, API-BEHAVIOUR.md 2.1), and report values that the reader
    cannot convert (bad dates, integers out of their int32/int64 range) into ``errors``."""
    node = _resolve(node or {"$ref": "#/definitions/edFi_studentAssessment"})
    kind = node.get("type")
    if isinstance(value, dict) and kind == "object":
        props = node.get("properties", {})
        return {k: normalize(v, errors, props[k], f"{path}.{k}") for k, v in value.items()
                if k in props and k not in ("link", "_etag", "_lastModifiedDate")}
    if isinstance(value, list) and kind == "array":
        return [normalize(v, errors, node.get("items", {}), f"{path}[{i}]") for i, v in enumerate(value)]
    name = path.rsplit(".", 1)[-1]
    label = name[:1].upper() + name[1:]
    if kind == "integer":
        if isinstance(value, str) and INTEGER_TEXT.match(value):
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            low, high = INT_RANGES.get(node.get("format", "int64"), INT_RANGES["int64"])
            if not low <= value <= high:
                system = "System.Int32" if node.get("format") == "int32" else "System.Int64"
                errors.setdefault(path, []).append(f"Error converting value {value} to type '{system}'.")
    elif kind == "number" and isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = float(value)
    elif kind == "boolean" and isinstance(value, str) and value.lower() in ("true", "false"):
        value = value.lower() == "true"
    elif (kind == "string" and node.get("format") in ("date", "date-time") and isinstance(value, str)
          and not _valid_date(value.strip(), node["format"] == "date-time")):
        errors.setdefault(path, []).append(f"The value '{value}' is not valid for {label}.")
    return value


def _json_path(path: Any) -> str:
    out = "$"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def structural_errors(body: dict[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    schema_errors = [] if schema_accepts(body) else _validator().iter_errors(body)
    for err in schema_errors:
        if err.validator == "required":
            missing = err.message.split("'")[1] if "'" in err.message else "value"
            path = _json_path([*err.absolute_path, missing])
            errors.setdefault(path, []).append(f"{missing} is required.")
        elif err.validator == "maxLength":
            errors.setdefault(_json_path(err.absolute_path), []).append(
                f"{err.absolute_path[-1] if err.absolute_path else 'value'} must be a string with a maximum "
                f"length of {err.validator_value}.")
        elif err.validator == "minLength":
            errors.setdefault(_json_path(err.absolute_path), []).append(
                f"{err.absolute_path[-1] if err.absolute_path else 'value'} is required and should not be "
                "left empty.")
        else:
            errors.setdefault(_json_path(err.absolute_path), []).append(
                f"The value {json.dumps(err.instance)[:80]} is not valid: {err.message[:160]}")
    for identity in IDENTITY_PATHS:
        value: Any = body
        for part in identity:
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, str) and value != value.strip():
            errors.setdefault(_json_path(identity), []).append(
                f"{identity[-1]} cannot contain leading or trailing spaces.")
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
    """Nested objective-assessment and item references repeat the parent assessment's key (1.5)."""
    errors: dict[str, list[str]] = {}
    parent = body.get("assessmentReference") or {}
    for member in ("assessmentIdentifier", "namespace"):
        want = parent.get(member)
        values = {want}
        nested = [(f"$.studentObjectiveAssessments[*].objectiveAssessmentReference.{member}",
                   (s.get("objectiveAssessmentReference") or {}).get(member))
                  for s in body.get("studentObjectiveAssessments") or [] if isinstance(s, dict)]
        nested += [(f"$.items[*].assessmentItemReference.{member}",
                    (s.get("assessmentItemReference") or {}).get(member))
                   for s in body.get("items") or [] if isinstance(s, dict)]
        bad = [(p, v) for p, v in nested if v is not None and v != want]
        if bad:
            values |= {v for _, v in bad}
            msg = (f"All values supplied for '{member}' must match. Review all references (including those "
                   "higher up in the resource's data) and align the following conflicting values: "
                   + ", ".join(f"'{v}'" for v in sorted(str(v) for v in values)))
            for path, _ in bad:
                errors.setdefault(path, []).append(msg) if msg not in errors.get(path, []) else None
            errors.setdefault(f"$.assessmentReference.{member}", []).append(msg)
    return errors


def descriptor_values(body: Any, path: str = "$") -> list[tuple[str, str, str]]:
    """Every (json path, descriptor name, value) in the body."""
    found: list[tuple[str, str, str]] = []
    if isinstance(body, dict):
        for key, value in body.items():
            sub = f"{path}.{key}"
            if key.endswith("Descriptor") and isinstance(value, str):
                name = key[0].upper() + key[1:]
                if name == "WhenAssessedGradeLevelDescriptor":
                    name = "GradeLevelDescriptor"
                elif name == "AdministrationLanguageDescriptor":
                    name = "LanguageDescriptor"
                found.append((sub, name, value))
            else:
                found.extend(descriptor_values(value, sub))
    elif isinstance(body, list):
        for i, item in enumerate(body):
            found.extend(descriptor_values(item, f"{path}[{i}]"))
    return found


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
