"""Everything a studentAssessment POST or PUT body must pass before the emulator stores it, in the ODS's
order (API-BEHAVIOUR.md 1.3-1.6, 2.1, 2.7): media type, JSON object, no client-assigned id on POST, then
:mod:`.validation` (unknown members dropped, structure, conversions, duplicates, equality), descriptor
values, and last the references that need the stored data (409).

Why a module of its own: :mod:`.core` routes requests and keeps the records; what makes a body acceptable
is a separate question with its own tests (tests/unit/emulator/test_validation.py, test_contract.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from streams.emulator import validation
from streams.emulator.problems import UNSUPPORTED_MEDIA_TYPE, problem, validation_failed
from streams.emulator.reference import OdsReference
from streams.emulator.responses import EmulatorResponse, _json

CheckedBody = tuple[dict[str, Any], dict[str, Any] | None]


def bad_request(errors: list[str], legacy: bool,
                detail: str = "The request could not be processed. See 'errors' for details.") -> EmulatorResponse:
    return _json(400, problem(400, "urn:ed-fi:api:bad-request", detail, errors=errors, legacy=legacy))


def check_body(raw: bytes, content_type: str, is_post: bool, reference: OdsReference, legacy: bool,
               authorize: Callable[[dict[str, Any]], EmulatorResponse | None] | None = None
               ) -> CheckedBody | EmulatorResponse:
    """``(clean body, Kansas extension or None)``, or the error response the ODS would give. ``authorize``
    (the caller's claim check, 403) runs after validation and before the references (409), as in the ODS,
    where a reference outside the caller's education organizations is a 403, not a 409."""
    if not content_type.lower().startswith("application/json"):
        return _json(415, problem(415, UNSUPPORTED_MEDIA_TYPE, "The request construction was invalid.", legacy=legacy))
    if not raw.strip():
        return bad_request(["A non-empty request body is required."], legacy)
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return bad_request(["The request body is not valid JSON."], legacy)
    if not isinstance(body, dict):
        return bad_request(["The request body must be a JSON object."], legacy)
    if is_post and body.get("id"):
        return _json(400, problem(400, "urn:ed-fi:api:bad-request:data-validation-failed",
                                  "The request data was constructed incorrectly.",
                                  errors=["Resource identifiers cannot be assigned by the client. The 'id' "
                                          "property should not be included in the request body."],
                                  legacy=legacy))
    ext, ext_errors = validation.ksde_extension(body.get("_ext"))
    conversion_errors: dict[str, list[str]] = {}
    clean = validation.normalize(body, conversion_errors)
    clean.pop("id", None)
    errors = validation.structural_errors(clean)
    for extra in (conversion_errors, ext_errors, validation.duplicate_errors(clean),
                  validation.equality_errors(clean)):
        for path, msgs in extra.items():
            errors.setdefault(path, []).extend(msgs)
    if errors:
        return _json(400, validation_failed(errors, legacy))
    descriptor_errors = _descriptor_errors(clean, ext, reference)
    if descriptor_errors:
        return _json(400, validation_failed(descriptor_errors, legacy))
    refused = authorize(clean) if authorize is not None else None
    if refused is not None:
        return refused
    unresolved = unresolved_reference(reference, clean, ext)
    if unresolved:
        return _json(409, problem(409, "urn:ed-fi:api:data-conflict:unresolved-reference",
                                  f"The referenced '{unresolved}' item does not exist.", legacy=legacy)
                     if not legacy else
                     {"message": f"The value supplied for the related '{unresolved.lower()}' resource "
                                 "does not exist."})
    return clean, ext


def _descriptor_errors(clean: dict[str, Any], ext: dict[str, Any] | None,
                       reference: OdsReference) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    targets = validation.descriptor_values(clean)
    if ext and "assessmentRequestDescriptor" in ext:
        targets.append(("$._ext.ksde.assessmentRequestDescriptor", "AssessmentRequestDescriptor",
                        ext["assessmentRequestDescriptor"]))
    for path, name, value in targets:
        if "#" not in value:
            errors.setdefault(path, []).append(
                f"{name} value '{value}' is not a valid value for use as a descriptor (a '#' is expected to "
                "delineate the namespace and code value portions).")
        elif not reference.has_descriptor(name, value):
            errors.setdefault(path, []).append(f"{name} value '{value}' does not exist.")
    return errors


def unresolved_reference(ref: OdsReference, body: dict[str, Any], ext: dict[str, Any] | None) -> str | None:
    """The name of the first referenced resource the ODS does not hold, or None."""
    assessment = body["assessmentReference"]
    if not ref.has_assessment(assessment["assessmentIdentifier"], assessment["namespace"]):
        return "Assessment"
    for soa in body.get("studentObjectiveAssessments") or []:
        oa = soa["objectiveAssessmentReference"]
        if not ref.has_objective(oa["assessmentIdentifier"], oa["identificationCode"], oa["namespace"]):
            return "ObjectiveAssessment"
    for item in body.get("items") or []:
        ai = item["assessmentItemReference"]
        if not ref.has_item(ai["assessmentIdentifier"], ai["identificationCode"], ai["namespace"]):
            return "AssessmentItem"
    if body["studentReference"]["studentUniqueId"] not in ref.students:
        return "Student"
    school = body.get("reportedSchoolReference")
    if school is not None and school.get("schoolId") not in ref.schools:
        return "School"
    year = body.get("schoolYearTypeReference")
    if year is not None and year.get("schoolYear") not in ref.school_years:
        return "SchoolYearType"
    proctor = (ext or {}).get("proctorStaffReference")
    if proctor is not None and proctor.get("staffUniqueId") not in ref.staff:
        return "Staff"
    return None
