"""Reads of the emulated ODS (API-BEHAVIOUR.md 2.5, 3): GET by id, paging, filters, change queries."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from streams.emulator import authorization, datetimes
from streams.emulator.problems import problem, validation_failed
from streams.emulator.responses import EmulatorResponse, _json

if TYPE_CHECKING:
    from streams.emulator.core import EdfiEmulator

MAX_LIMIT = 500
# GET-many query parameters of /ed-fi/studentAssessments (resources-ds-5.0 OpenAPI): un-nested member names.
REFERENCE_FILTERS = {"studentuniqueid": ("studentReference", "studentUniqueId"),
                     "assessmentidentifier": ("assessmentReference", "assessmentIdentifier"),
                     "namespace": ("assessmentReference", "namespace"),
                     "reportedschoolid": ("reportedSchoolReference", "schoolId"),
                     "schoolyear": ("schoolYearTypeReference", "schoolYear")}
ROOT_FILTERS = {name.lower(): name for name in (
    "studentAssessmentIdentifier", "administrationEnvironmentDescriptor", "eventCircumstanceDescriptor",
    "whenAssessedGradeLevelDescriptor", "administrationLanguageDescriptor", "platformTypeDescriptor",
    "reasonNotTestedDescriptor", "retestIndicatorDescriptor", "administrationDate", "administrationEndDate",
    "assessedMinutes", "eventDescription", "reportedSchoolIdentifier", "serialNumber")}
DATE_FILTERS = ("administrationdate", "administrationenddate")


def _get_one(emu: EdfiEmulator, item: str, hdrs: dict[str, str]) -> EmulatorResponse:
    rec = emu.records_by_id.get(item)
    if rec is None:
        return _json(404, problem(404, "urn:ed-fi:api:not-found", "The specified item could not be found.",
                                  legacy=emu.legacy_errors))
    if hdrs.get("if-none-match", "").strip('"') == rec.etag:
        return EmulatorResponse(304, {"ETag": f'"{rec.etag}"'})
    return _json(200, emu.representation(rec), {"ETag": f'"{rec.etag}"'})

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

def _change_window(emu: EdfiEmulator, params: dict[str, str]) -> tuple[int, int] | EmulatorResponse:
    try:
        low = int(params.get("minchangeversion", 0) or 0)
        high = int(params.get("maxchangeversion", 2**62) or 2**62)
    except ValueError:
        return _json(400, problem(400, "urn:ed-fi:api:bad-request:parameter-validation-failed",
                                  "The request construction was invalid.",
                                  errors=["MinChangeVersion and MaxChangeVersion must be integers."],
                                  legacy=emu.legacy_errors))
    return low, high


def _instant(text: str) -> Any:
    """A date or date-time filter value compared as an instant, read as the ODS reads it (datetimes.py)."""
    return datetimes.parse(text) or text.strip().lower()


def _value(body: dict[str, Any], name: str) -> Any:
    if name in REFERENCE_FILTERS:
        ref, member = REFERENCE_FILTERS[name]
        return (body.get(ref) or {}).get(member)
    return body.get(ROOT_FILTERS[name])


def _matches(rec_id: str, body: dict[str, Any], filters: dict[str, str]) -> bool:
    for name, wanted in filters.items():
        actual = rec_id if name == "id" else _value(body, name)
        if actual is None:
            return False
        if name in DATE_FILTERS:
            if _instant(str(actual)) != _instant(wanted):
                return False
        elif str(actual).lower() != wanted.strip().lower():
            return False
    return True

def _page_and_window(emu: EdfiEmulator, params: dict[str, str]
                     ) -> tuple[int, int, bool, int, int] | EmulatorResponse:
    """(limit, offset, totalCount wanted, lowest and highest change version), or the error answer."""
    paging = _paging(emu, params)
    if isinstance(paging, EmulatorResponse):
        return paging
    window = _change_window(emu, params)
    if isinstance(window, EmulatorResponse):
        return window
    return (*paging, *window)


def _get_many(emu: EdfiEmulator, params: dict[str, str], allowed: frozenset[int] | None = None) -> EmulatorResponse:
    """``allowed``: the caller's schools; items of other schools are left out silently (DMS
    StudentAssessmentAuthorization.feature sc. 06.2)."""
    query = _page_and_window(emu, params)
    if isinstance(query, EmulatorResponse):
        return query
    limit, offset, total, low, high = query
    filters = {k: v for k, v in params.items() if k in REFERENCE_FILTERS or k in ROOT_FILTERS or k == "id"}
    if "id" in filters:
        # ODS Postman ResponseTests "When_Given_an_invalid_id_filter_Should_return_400"
        try:
            filters["id"] = uuid.UUID(filters["id"].strip()).hex
        except ValueError:
            return _json(400, validation_failed({"$.id": [f"The value '{filters['id']}' is not valid for Id."]},
                                                emu.legacy_errors))
    # stable order (by id) so that offset paging is repeatable (API-BEHAVIOUR.md 2.5)
    out = [rec for rec in sorted(list(emu.records_by_id.values()), key=lambda r: r.id)
           if low <= rec.change_version <= high and _matches(rec.id, rec.body, filters)
           and authorization.covers(allowed, rec.body)]
    headers = {"Total-Count": str(len(out))} if total else {}
    return _json(200, [emu.representation(r) for r in out[offset:offset + limit]], headers)

def _deletes(emu: EdfiEmulator, params: dict[str, str]) -> EmulatorResponse:
    query = _page_and_window(emu, params)
    if isinstance(query, EmulatorResponse):
        return query
    limit, offset, total, low, high = query
    rows = [d for d in emu.deletes if low <= d["changeVersion"] <= high]
    headers = {"Total-Count": str(len(rows))} if total else {}
    return _json(200, rows[offset:offset + limit], headers)

# -- seeding over HTTP --------------------------------------------------------------------------------
