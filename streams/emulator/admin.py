"""Seeding resources over HTTP and the admin endpoints (faults, stats, reset) of the emulator."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

from streams.emulator.problems import validation_failed
from streams.emulator.responses import EmulatorResponse, _json

if TYPE_CHECKING:
    from streams.emulator.core import EdfiEmulator
from streams.emulator import queries
from streams.emulator.faults import FaultSettings

DATA = "/data/v3/ed-fi/"


def _seed_resource(emu: EdfiEmulator, method: str, resource: str, raw: bytes,
                   params: dict[str, str]) -> EmulatorResponse:
    ref = emu.reference
    if method == "GET":
        listing: dict[str, list[dict[str, Any]]] = {
            "students": [{"studentUniqueId": s} for s in sorted(ref.students)],
            "schools": [{"schoolId": s} for s in sorted(ref.schools)],
            "staffs": [{"staffUniqueId": s} for s in sorted(ref.staff)],
            "assessments": [{"assessmentIdentifier": a, "namespace": n} for a, n in sorted(ref.assessments)],
        }
        items = listing[resource]
        paging = queries._paging(emu, params)
        if isinstance(paging, EmulatorResponse):
            return paging
        limit, offset, _ = paging
        return _json(200, items[offset:offset + limit])
    if method != "POST":
        return emu._not_allowed()
    try:
        body = json.loads(raw)
        if resource == "students":
            emu.add_student(str(body["studentUniqueId"]))
        elif resource == "schools":
            emu.add_school(int(body["schoolId"]))
        elif resource == "staffs":
            emu.add_staff(str(body["staffUniqueId"]))
        else:
            emu.add_assessment(body["assessmentIdentifier"], body["namespace"])
    except (ValueError, KeyError, TypeError):
        return _json(400, validation_failed({"$": ["The request body is missing its identifying values."]}))
    return EmulatorResponse(201, {"Location": f"{emu.base_url}{DATA}{resource}/{uuid.uuid4().hex}"})

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
