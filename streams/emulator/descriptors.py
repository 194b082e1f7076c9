"""Descriptor resources of the emulated ODS: ``/data/v3/ed-fi/<x>Descriptors`` (API-BEHAVIOUR.md 1.6, 1.9).

As the ODS answers them (DMS ``Features/Descriptors/ReadDescriptorsValidation.feature`` and
``CreateDescriptorsValidation.feature``, ODS Postman "Integration Test Suite"): every item carries ``id``,
``namespace``, ``codeValue``, ``shortDescription``, ``description``, ``_etag`` and ``_lastModifiedDate``;
an item is readable by id at the ``Location`` its POST answered; GET filters by ``codeValue``,
``namespace`` and ``id``, pages, and honours ``minChangeVersion``/``maxChangeVersion``; a descriptor
resource the Data Standard has but the ODS holds no value of answers ``[]``, an unknown one 404; a POST
with an ``id`` in the body is a 400, and every new descriptor advances the change version.

The id of a descriptor is stable per namespace and code value (the same in ``Location`` and on GET).
"""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any

from streams.emulator import admin, metadata, queries, shape
from streams.emulator.problems import problem, validation_failed
from streams.emulator.responses import EmulatorResponse, _json

if TYPE_CHECKING:
    from streams.emulator.core import EdfiEmulator


def _not_found(emu: EdfiEmulator, detail: str = "The specified data could not be found.") -> EmulatorResponse:
    return _json(404, problem(404, "urn:ed-fi:api:not-found", detail, legacy=emu.legacy_errors))


def descriptor_id(name: str, namespace: str, code: str) -> str:
    href = shape.link_for(name, metadata.descriptor_resource(name), {"namespace": namespace, "codeValue": code})
    return href["href"].rsplit("/", 1)[-1]


def items(emu: EdfiEmulator, name: str) -> list[dict[str, Any]]:
    """Every value of descriptor ``name`` as the ODS answers it, in a stable order."""
    out = []
    for number, uri in enumerate(sorted(emu.reference.descriptors.get(name, ())), start=1):
        namespace, _, code = emu.reference.published_uri(uri).partition("#")
        etag, modified, _ = emu.descriptor_versions.get(uri, emu.preloaded_version)
        out.append({"id": descriptor_id(name, namespace, code), f"{name[0].lower()}{name[1:]}Id": number,
                    "codeValue": code, "description": code, "namespace": namespace,
                    "shortDescription": code[:75], "_etag": etag, "_lastModifiedDate": modified})
    return out


def _change_version(emu: EdfiEmulator, item: dict[str, Any]) -> int:
    uri = f"{item['namespace']}#{item['codeValue']}".lower()
    return emu.descriptor_versions.get(uri, emu.preloaded_version)[2]


def route(emu: EdfiEmulator, method: str, resource: str, rest: list[str], hdrs: dict[str, str],
          params: dict[str, str], raw: bytes) -> EmulatorResponse:
    """``resource`` as written in the URL (``performanceLevelDescriptors``)."""
    name = metadata.descriptor_name(resource, emu.reference)
    if name is None:
        return _not_found(emu)
    if len(rest) > 1:
        return _not_found(emu)
    if rest:
        if method != "GET":
            return emu._not_allowed()
        try:
            wanted_id = uuid.UUID(rest[0]).hex
        except ValueError:   # DMS ReadDescriptorsValidation.feature sc. 07
            return _json(400, validation_failed({"$.id": [f"The value '{rest[0]}' is not valid."]},
                                                emu.legacy_errors))
        found = [i for i in items(emu, name) if i["id"] == wanted_id]
        if not found:
            return _not_found(emu, "The specified item could not be found.")
        return _json(200, found[0], {"ETag": f'"{found[0]["_etag"]}"'})
    if method == "POST":
        return _post(emu, name, raw, hdrs)
    if method != "GET":
        return emu._not_allowed(f"The endpoint of the request does not support the '{method}' method.")
    query = queries._page_and_window(emu, params)
    if isinstance(query, EmulatorResponse):
        return query
    limit, offset, total, low, high = query
    wanted = {k: v.strip().lower() for k, v in params.items() if k in ("codevalue", "namespace", "id")}
    if "id" in wanted:
        wanted["id"] = wanted["id"].replace("-", "")
    keys = {"codevalue": "codeValue", "namespace": "namespace", "id": "id"}
    rows = [i for i in items(emu, name) if low <= _change_version(emu, i) <= high
            and all(str(i[keys[k]]).lower() == v for k, v in wanted.items())]
    return _json(200, rows[offset:offset + limit], {"Total-Count": str(len(rows))} if total else None)


def _post(emu: EdfiEmulator, name: str, raw: bytes, hdrs: dict[str, str]) -> EmulatorResponse:
    body = admin._body(raw, hdrs)
    if isinstance(body, EmulatorResponse):
        return body
    if isinstance(body, dict) and body.get("id"):
        return _json(400, problem(400, "urn:ed-fi:api:bad-request:data-validation-failed",
                                  "The request data was constructed incorrectly.",
                                  errors=["Resource identifiers cannot be assigned by the client. The 'id' "
                                          "property should not be included in the request body."],
                                  legacy=emu.legacy_errors))
    checked = admin.descriptor_errors(body, emu.legacy_errors)
    if checked is not None:
        return checked
    uri = f"{body['namespace']}#{body['codeValue']}"
    existed = emu.reference.has_descriptor(name, uri)
    if not existed:
        emu.add_descriptor(name, uri)
        emu.change_version += 1
        emu.descriptor_versions[uri.lower()] = (str(time.time_ns()), emu.now_text(), emu.change_version)
    rid = descriptor_id(name, body["namespace"], body["codeValue"])
    etag = emu.descriptor_versions.get(uri.lower(), emu.preloaded_version)[0]
    location = f"{emu.base_url.rstrip('/')}/data/v3/ed-fi/{metadata.descriptor_resource(name)}/{rid}"
    return EmulatorResponse(200 if existed else 201, {"Location": location, "ETag": f'"{etag}"'})
