"""Seeding resources over HTTP and the admin endpoints (faults, stats, reset) of the emulator.

Seeding: a client (lightbeam, a test, the demo) can load what a studentAssessment references by POSTing
students, schools, staffs, assessments, objectiveAssessments and any ``<x>Descriptors`` resource, each an
upsert by its identity only (other members are accepted and not kept): 201 new, 200 existing, ``Location``
with a stable id. GET lists the identities (paging as for studentAssessments).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from streams.emulator import queries, shape
from streams.emulator.faults import FaultSettings
from streams.emulator.problems import problem, validation_failed
from streams.emulator.responses import EmulatorResponse, _json

if TYPE_CHECKING:
    from streams.emulator.core import EdfiEmulator

DATA = "/data/v3/ed-fi/"
SEEDED = ("students", "schools", "staffs", "assessments", "objectiveassessments", "assessmentitems")
# resource (lower-case) -> name of its link rel, for the stable ids shared with GET links (shape.py)
RELS = {"students": ("Student", "students"), "schools": ("School", "schools"),
        "staffs": ("Staff", "staffs"), "assessments": ("Assessment", "assessments"),
        "objectiveassessments": ("ObjectiveAssessment", "objectiveAssessments"),
        "assessmentitems": ("AssessmentItem", "assessmentItems")}


def _listing(emu: EdfiEmulator, resource: str) -> list[dict[str, Any]]:
    ref = emu.reference
    if resource == "students":
        return [{"studentUniqueId": s} for s in sorted(ref.students)]
    if resource == "schools":
        return [{"schoolId": s} for s in sorted(ref.schools)]
    if resource == "staffs":
        return [{"staffUniqueId": s} for s in sorted(ref.staff)]
    if resource == "assessments":
        return [{"assessmentIdentifier": a, "namespace": n} for a, n in sorted(ref.assessments)]
    held = ref.objectives if resource == "objectiveassessments" else ref.items
    return [{"identificationCode": c, "assessmentReference": {"assessmentIdentifier": a, "namespace": n}}
            for a, c, n in sorted(held)]


def _flat(item: dict[str, Any]) -> dict[str, Any]:
    """The identity members of a listed item as the seeding POST names them (for its stable id)."""
    ref = item.get("assessmentReference")
    if isinstance(ref, dict):
        return {"identificationCode": item["identificationCode"], **ref}
    return item


def _identity(resource: str, body: Any) -> tuple[str, Any, dict[str, Any]]:
    """(reference kind, value, identity members) of a seeding body; KeyError/TypeError/ValueError if bad."""
    if resource == "students":
        sid = str(body["studentUniqueId"])
        return "student", sid, {"studentUniqueId": sid}
    if resource == "schools":
        school = int(body["schoolId"])
        return "school", school, {"schoolId": school}
    if resource == "staffs":
        staff = str(body["staffUniqueId"])
        return "staff", staff, {"staffUniqueId": staff}
    if resource == "assessments":
        identifier, namespace = str(body["assessmentIdentifier"]), str(body["namespace"])
        return "assessment", [identifier, namespace], {"assessmentIdentifier": identifier, "namespace": namespace}
    ref = body["assessmentReference"]
    identifier, namespace = str(ref["assessmentIdentifier"]), str(ref["namespace"])
    code = str(body["identificationCode"])
    return "objective" if resource == "objectiveassessments" else "item", [identifier, code, namespace], {
        "identificationCode": code, "assessmentIdentifier": identifier, "namespace": namespace}


def _exists(emu: EdfiEmulator, kind: str, value: Any) -> bool:
    ref = emu.reference
    if kind == "student":
        return value in ref.students
    if kind == "school":
        return value in ref.schools
    if kind == "staff":
        return value in ref.staff
    if kind == "assessment":
        return ref.has_assessment(*value)
    return ref.has_objective(*value) if kind == "objective" else ref.has_item(*value)


def _body(raw: bytes, hdrs: dict[str, str]) -> Any | EmulatorResponse:
    if not hdrs.get("content-type", "").lower().startswith("application/json"):
        return _json(415, problem(415, "urn:ed-fi:api:unsupported-media-type", "The request construction was invalid."))
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return _json(400, problem(400, "urn:ed-fi:api:bad-request", "The request could not be processed. See "
                                  "'errors' for details.", errors=["The request body is not valid JSON."]))


def _seed_resource(emu: EdfiEmulator, method: str, resource: str, raw: bytes, params: dict[str, str],
                   hdrs: dict[str, str] | None = None) -> EmulatorResponse:
    if method == "GET":
        paging = queries._paging(emu, params)
        if isinstance(paging, EmulatorResponse):
            return paging
        limit, offset, total = paging
        rel, path = RELS[resource]
        etag, modified, _ = emu.preloaded_version
        items = [{"id": shape.link_for(rel, path, _flat(item))["href"].rsplit("/", 1)[-1], **item,
                  "_etag": etag, "_lastModifiedDate": modified} for item in _listing(emu, resource)]
        return _json(200, items[offset:offset + limit], {"Total-Count": str(len(items))} if total else None)
    if method != "POST":
        return emu._not_allowed()
    body = _body(raw, hdrs or {"content-type": "application/json"})
    if isinstance(body, EmulatorResponse):
        return body
    try:
        kind, value, identity = _identity(resource, body)
    except (ValueError, KeyError, TypeError):
        return _json(400, validation_failed({"$": ["The request body is missing its identifying values."]},
                                            emu.legacy_errors))
    existed = _exists(emu, kind, value)
    if not existed:
        if kind in ("objective", "item") and not emu.reference.has_assessment(value[0], value[2]):
            return _json(409, problem(409, "urn:ed-fi:api:data-conflict:unresolved-reference",
                                      "The referenced 'Assessment' item does not exist.", legacy=emu.legacy_errors))
        emu._remember(kind, value)
    rel, path = RELS[resource]
    href = shape.link_for(rel, path, identity)["href"]
    return EmulatorResponse(200 if existed else 201, {"Location": f"{emu.base_url.rstrip('/')}/data/v3{href}"})


def descriptor_errors(body: Any, legacy: bool) -> EmulatorResponse | None:
    """A descriptor POST body needs ``namespace``, ``codeValue`` and ``shortDescription`` (400 otherwise)."""
    errors: dict[str, list[str]] = {}
    for member, limit in (("namespace", 255), ("codeValue", 50), ("shortDescription", 75)):
        value = body.get(member) if isinstance(body, dict) else None
        if not isinstance(value, str) or not value.strip():
            errors[f"$.{member}"] = [f"{member[0].upper()}{member[1:]} is required."]
        elif len(value) > limit:
            errors[f"$.{member}"] = [f"{member[0].upper()}{member[1:]} must be at most {limit} characters in length."]
    return _json(400, validation_failed(errors, legacy)) if errors else None


# -- admin --------------------------------------------------------------------------------------------
def _admin(emu: EdfiEmulator, method: str, lowered: str, raw: bytes) -> EmulatorResponse:
    if lowered.rstrip("/") == "/admin/faults":
        if method == "POST":
            try:
                emu.faults.configure(FaultSettings.from_dict(json.loads(raw or b"{}")))
            except (ValueError, TypeError) as exc:
                return _json(400, {"error": str(exc)})
        return _json(200, emu.faults.settings.to_dict())
    if lowered.rstrip("/") == "/admin/stats":
        return _json(200, {"requests": emu.stats, "faultsInjected": emu.faults.injected,
                           "studentAssessments": len(emu.records_by_id), "changeVersion": emu.change_version})
    if lowered.rstrip("/") == "/admin/reset" and method == "POST":
        emu.reset()
        return _json(200, {"reset": True})
    return _json(404, {"error": "unknown admin endpoint"})
