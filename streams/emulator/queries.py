"""Reads of the emulated ODS (API-BEHAVIOUR.md 2.5, 3): GET by id, paging, filters, change queries."""

from __future__ import annotations

from typing import TYPE_CHECKING

from streams.emulator.problems import problem
from streams.emulator.responses import EmulatorResponse, _json

if TYPE_CHECKING:
    from streams.emulator.core import EdfiEmulator

MAX_LIMIT = 500


def _get_one(emu: EdfiEmulator, item: str, hdrs: dict[str, str]) -> EmulatorResponse:
    rec = emu.records_by_id.get(item)
    if rec is None:
        return _json(404, problem(404, "urn:ed-fi:api:not-found", "The specified item could not be found.",
                                  legacy=emu.legacy_errors))
    if hdrs.get("if-none-match", "").strip('"') == rec.etag:
        return EmulatorResponse(304, {"ETag": f'"{rec.etag}"'})
    return _json(200, rec.representation(), {"ETag": f'"{rec.etag}"'})

def _paging(emu: EdfiEmulator, params: dict[str, str]) -> tuple[int, int, bool] | EmulatorResponse:
    errors = []
    try:
        limit = int(params.get("limit", 25))
        if not 0 <= limit <= MAX_LIMIT:
            raise ValueError
    except ValueError:
        errors.append("Limit must be a value between 0 and 500.")
        limit = 0
    try:
        offset = int(params.get("offset", 0))
        if offset < 0:
            raise ValueError
    except ValueError:
        errors.append("Offset must be a numeric value greater than or equal to 0.")
        offset = 0
    total = params.get("totalcount", "false").lower()
    if total not in ("true", "false"):
        errors.append("TotalCount must be a boolean value.")
    if errors:
        return _json(400, problem(400, "urn:ed-fi:api:bad-request:parameter-validation-failed",
                                  "The request construction was invalid.", errors=errors,
                                  legacy=emu.legacy_errors))
    return limit, offset, total == "true"

def _change_window(emu: EdfiEmulator, params: dict[str, str]) -> tuple[int, int]:
    low = int(params.get("minchangeversion", 0) or 0)
    high = int(params.get("maxchangeversion", 2**62) or 2**62)
    return low, high

def _get_many(emu: EdfiEmulator, params: dict[str, str]) -> EmulatorResponse:
    paging = _paging(emu, params)
    if isinstance(paging, EmulatorResponse):
        return paging
    limit, offset, total = paging
    low, high = _change_window(emu, params)
    filters = {k: v for k, v in params.items() if k in (
        "studentuniqueid", "assessmentidentifier", "namespace", "studentassessmentidentifier",
        "reportedschoolid", "administrationdate")}
    out = []
    for rec in sorted(emu.records_by_id.values(), key=lambda r: r.change_version if False else r.id):
        if not low <= rec.change_version <= high:
            continue
        flat = {
            "studentuniqueid": rec.body["studentReference"]["studentUniqueId"],
            "assessmentidentifier": rec.body["assessmentReference"]["assessmentIdentifier"],
            "namespace": rec.body["assessmentReference"]["namespace"],
            "studentassessmentidentifier": rec.body["studentAssessmentIdentifier"],
            "reportedschoolid": str((rec.body.get("reportedSchoolReference") or {}).get("schoolId", "")),
            "administrationdate": rec.body.get("administrationDate", ""),
        }
        if all(str(flat[k]).lower() == v.lower() for k, v in filters.items()):
            out.append(rec)
    headers = {"Total-Count": str(len(out))} if total else {}
    return _json(200, [r.representation() for r in out[offset:offset + limit]], headers)

def _deletes(emu: EdfiEmulator, params: dict[str, str]) -> EmulatorResponse:
    paging = _paging(emu, params)
    if isinstance(paging, EmulatorResponse):
        return paging
    limit, offset, total = paging
    low, high = _change_window(emu, params)
    rows = [d for d in emu.deletes if low <= d["changeVersion"] <= high]
    headers = {"Total-Count": str(len(rows))} if total else {}
    return _json(200, rows[offset:offset + limit], headers)

# -- seeding over HTTP --------------------------------------------------------------------------------
