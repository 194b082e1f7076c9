"""The emulated Ed-Fi ODS/API v7: routing, OAuth, studentAssessments CRUD, paging, change queries.

``EdfiEmulator.handle`` is a pure async request handler (method, path, headers, query, body) ->
:class:`EmulatorResponse`; the httpx transport and the aiohttp server are thin adapters onto it. Each
behaviour cites its section of /shared/edfi-reference/API-BEHAVIOUR.md in docs/emulator.md.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streams.emulator import admin, authorization, descriptors, faults, metadata, oauth, queries, shape, write_checks
from streams.emulator.faults import DroppedConnection, FaultInjector, FaultSettings, RequestTimeout
from streams.emulator.problems import problem, validation_failed
from streams.emulator.reference import OdsReference
from streams.emulator.responses import EmulatorResponse, _json
from streams.emulator.storage import SqliteStore

log = logging.getLogger(__name__)
__all__ = ["DroppedConnection", "EdfiEmulator", "RequestTimeout", "StoredRecord", "natural_key"]
DATA = "/data/v3/ed-fi/"
# ODS ApiSettings.OdsCorrelationIdHttpHeaderName as shipped (API-BEHAVIOUR.md 2.7): echoed in problem details
CORRELATION_HEADER = "correlation-id"
RESOURCE = "studentassessments"


@dataclass
class StoredRecord:
    id: str
    body: dict[str, Any]
    etag: str
    last_modified: str
    change_version: int
    _shaped: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    def natural_key(self) -> tuple[str, str, str, str]:
        return natural_key(self.body)

    def representation(self, ods_shape: bool = True) -> dict[str, Any]:
        """What GET answers (a new top-level dict; the nested values are shared: do not change them). A
        stored body never changes (a write stores a new record), so its read shape is computed once."""
        if ods_shape and self._shaped is None:
            self._shaped = shape.with_links_and_empty_collections(self.body)
        body = self._shaped if ods_shape and self._shaped is not None else self.body
        return {"id": self.id, **body, "_etag": self.etag, "_lastModifiedDate": self.last_modified}


def _guid(text: str) -> str | None:
    try:
        return uuid.UUID(text).hex
    except ValueError:
        return None


def natural_key(body: Mapping[str, Any]) -> tuple[str, str, str, str]:
    return (body["assessmentReference"]["assessmentIdentifier"], body["assessmentReference"]["namespace"].lower(),
            body["studentAssessmentIdentifier"], body["studentReference"]["studentUniqueId"])


class EdfiEmulator:
    def __init__(self, *, reference: OdsReference | None = None, db_path: str | Path | None = None,
                 faults: FaultSettings | None = None, token_ttl_seconds: int = 1800, token_cap: bool = True,
                 legacy_errors: bool = False, base_url: str = "", ods_read_shape: bool = True) -> None:
        """``ods_read_shape`` (on by default): GET answers carry ``link`` in references and every collection
        (``[]`` when empty), as the ODS does (API-BEHAVIOUR.md 1.7); off, they omit both (the echo shape of
        emulator versions before 0.2). Dates, date-times and descriptors are stored as the ODS reads them
        back either way."""
        self.reference = reference or OdsReference.kansas()
        self.faults = FaultInjector(faults)
        self.token_ttl_seconds = token_ttl_seconds
        self.token_cap = token_cap
        self.legacy_errors = legacy_errors
        self.base_url = base_url
        self.ods_read_shape = ods_read_shape
        self.clients: dict[str, str] = {}
        self.client_education_organizations: dict[str, frozenset[int]] = {}
        self.tokens: dict[str, tuple[str, float]] = {}
        self.token_scopes: dict[str, int] = {}
        # _etag, _lastModifiedDate and change version of what the ODS held before the first request
        self.preloaded_version = (str(time.time_ns()), self.now_text(), 0)
        self.descriptor_versions: dict[str, tuple[str, str, int]] = {}   # lower-cased URI -> version
        self.records_by_id: dict[str, StoredRecord] = {}
        self.by_key: dict[tuple[str, str, str, str], str] = {}
        self.deletes: list[dict[str, Any]] = []
        self.change_version = 0
        self.request_log: list[tuple[str, str, int]] = []
        self.stats: dict[str, int] = {}
        self._store: SqliteStore | None = None
        if db_path:
            self._store = SqliteStore(Path(db_path))
            self._load(self._store)

    # -- seeding ------------------------------------------------------------------------------------------
    def add_client(self, key: str, secret: str, education_organization_ids: Sequence[int] | None = None) -> None:
        """``education_organization_ids``: the schools the client's claim set covers (403 for others,
        :mod:`.authorization`); None: every school."""
        self.clients[key] = secret
        if education_organization_ids is None:
            self.client_education_organizations.pop(key, None)
        else:
            self.client_education_organizations[key] = frozenset(int(e) for e in education_organization_ids)

    @staticmethod
    def now_text() -> str:
        return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def add_student(self, student_unique_id: str) -> None:
        self._remember("student", student_unique_id)

    def add_school(self, school_id: int) -> None:
        self._remember("school", int(school_id))

    def add_staff(self, staff_unique_id: str) -> None:
        self._remember("staff", staff_unique_id)

    def add_assessment(self, identifier: str, namespace: str, objectives: Sequence[str] = ()) -> None:
        self._remember("assessment", [identifier, namespace])
        for code in objectives:
            self.add_objective_assessment(identifier, code, namespace)

    def add_objective_assessment(self, identifier: str, identification_code: str, namespace: str) -> None:
        self._remember("objective", [identifier, identification_code, namespace])

    def add_assessment_item(self, identifier: str, identification_code: str, namespace: str) -> None:
        self._remember("item", [identifier, identification_code, namespace])

    def add_descriptor(self, name: str, uri: str) -> None:
        """``name`` like ``PerformanceLevelDescriptor``; ``uri`` = ``namespace#codeValue``."""
        self._remember("descriptor", [name, uri])

    def _remember(self, kind: str, value: Any) -> None:
        self.reference.add(kind, value)
        if self._store is not None:
            self._store.add_reference(kind, value)

    def representation(self, rec: StoredRecord) -> dict[str, Any]:
        return rec.representation(self.ods_read_shape)

    def records(self) -> list[dict[str, Any]]:
        """Every stored studentAssessment as GET returns it, sorted by studentAssessmentIdentifier."""
        reps = [self.representation(r) for r in list(self.records_by_id.values())]  # read from other threads
        return sorted(reps, key=lambda r: (r["studentAssessmentIdentifier"],
                                           r["assessmentReference"]["assessmentIdentifier"]))

    def reset(self) -> None:
        self.records_by_id.clear()
        self.by_key.clear()
        self.deletes.clear()
        if self._store is not None:
            self._store.clear()

    # -- durability ---------------------------------------------------------------------------------------
    def _load(self, store: SqliteStore) -> None:
        for kind, value in store.reference():
            self.reference.add(kind, value)
        for rid, body, etag, last_modified, change_version in store.records():
            rec = StoredRecord(rid, body, etag, last_modified, change_version)
            self.records_by_id[rid] = rec
            self.by_key[rec.natural_key()] = rid
            self.change_version = max(self.change_version, change_version)
        for change_version, deleted in store.deletes():
            self.deletes.append(deleted)
            self.change_version = max(self.change_version, change_version)

    # -- entry point --------------------------------------------------------------------------------------
    async def handle(self, method: str, path: str, headers: Mapping[str, str],
                     query: Mapping[str, str] | Sequence[tuple[str, str]], body: bytes) -> EmulatorResponse:
        method = method.upper()
        hdrs = {k.lower(): v for k, v in headers.items()}
        params = dict(query.items()) if isinstance(query, Mapping) else dict(query)
        params = {k.lower(): v for k, v in params.items()}
        lowered = path.lower()
        if lowered.startswith("/admin/"):
            response = admin._admin(self, method, lowered, body)
        else:
            if lowered.startswith(("/data/", "/oauth/", "/changequeries/")):
                faulted = await faults.inject(self, method, path)
                if faulted is not None:
                    return faulted
            try:
                response = self._route(method, path, lowered, hdrs, params, body)
            except Exception:  # an emulator bug answers as the ODS does for any unhandled error
                log.exception("emulator: unhandled error on %s %s", method, path)
                response = _json(500, problem(500, "urn:ed-fi:api:system", "An unexpected problem has occurred.",
                                              legacy=self.legacy_errors))
        self._count(method, path, response.status)
        # the header wins over the ``correlationId`` query parameter (ODS Postman "CorrelationId Usage")
        correlation = hdrs.get(CORRELATION_HEADER) or params.get("correlationid")
        if correlation and response.status >= 400 and b'"correlationId"' in response.body:
            problem_body = json.loads(response.body)
            problem_body["correlationId"] = correlation
            response.body = json.dumps(problem_body).encode()
        return response

    def _count(self, method: str, path: str, status: int) -> None:
        self.request_log.append((method, path, status))
        key = f"{method} {status}"
        self.stats[key] = self.stats.get(key, 0) + 1

    def _route(self, method: str, path: str, lowered: str, hdrs: dict[str, str], params: dict[str, str],
               body: bytes) -> EmulatorResponse:
        if lowered in ("/", ""):
            return _json(200, metadata.discovery(self.base_url))
        if lowered.rstrip("/") == "/oauth/token":
            return oauth._token(self, method, hdrs, body) if method == "POST" else self._not_allowed()
        if lowered.startswith("/metadata"):
            return self._metadata(lowered)
        auth = oauth._authenticate(self, hdrs)
        if auth is not None:
            return auth
        if lowered.rstrip("/") == "/changequeries/v1/availablechangeversions":
            return _json(200, {"oldestChangeVersion": 0, "newestChangeVersion": self.change_version})
        if not lowered.startswith(DATA):
            return _json(404, problem(404, "urn:ed-fi:api:not-found", "The specified data could not be found.",
                                      legacy=self.legacy_errors))
        parts = [p for p in path[len(DATA):].split("/") if p]
        resource = parts[0].lower() if parts else ""
        rest = parts[1:]
        if resource == RESOURCE:
            return self._student_assessments(method, rest, hdrs, params, body)
        if resource in admin.SEEDED and not rest:
            return admin._seed_resource(self, method, resource, body, params, hdrs)
        if resource.endswith("descriptors"):
            return descriptors.route(self, method, parts[0], rest, hdrs, params, body)
        return _json(404, problem(404, "urn:ed-fi:api:not-found", "The specified data could not be found.",
                                  legacy=self.legacy_errors))

    # -- metadata and descriptors ------------------------------------------------------------------------
    def _metadata(self, lowered: str) -> EmulatorResponse:
        status, body = metadata.serve(self.reference, self.base_url, lowered)
        return _json(status, body)

    def _not_allowed(self, message: str = "The request construction was invalid.") -> EmulatorResponse:
        return _json(405, problem(405, "urn:ed-fi:api:method-not-allowed", "The request construction was invalid.",
                                  errors=[message], legacy=self.legacy_errors))

    # -- studentAssessments -------------------------------------------------------------------------------
    def _student_assessments(self, method: str, rest: list[str], hdrs: dict[str, str], params: dict[str, str],
                             body: bytes) -> EmulatorResponse:
        item = rest[0] if rest else None
        if item and item.lower() == "deletes":
            return queries._deletes(self, params) if method == "GET" else self._not_allowed()
        if item and item.lower() == "keychanges":
            return _json(200, []) if method == "GET" else self._not_allowed()
        if len(rest) > 1:
            return _json(404, problem(404, "urn:ed-fi:api:not-found", "The specified data could not be found.",
                                      legacy=self.legacy_errors))
        allowed = oauth.education_organizations(self, hdrs)
        if item is not None:
            # ODS ids are GUIDs, answered as 32 hex; the dashed form names the same item.
            canonical = _guid(item)
            if method == "PUT" and (canonical is None or not body.strip()):
                # ODS Postman ResponseTests "when_putting_a_resource_with_null_parameters": both at once
                errors = {} if body.strip() else {"$": ["A non-empty request body is required."]}
                if canonical is None:
                    errors["$.id"] = [f"The value '{item}' is not valid."]
                return _json(400, validation_failed(errors, self.legacy_errors))
            if canonical is None and method == "DELETE":
                return _json(400, validation_failed({"$.id": [f"The value '{item}' is not valid."]},
                                                    self.legacy_errors))
            item = canonical or item
            existing = self.records_by_id.get(item)
            if method in ("GET", "PUT", "DELETE") and existing is not None:
                refused = authorization.denied(allowed, existing.body, self.legacy_errors)
                if refused is not None:
                    return refused
        if method == "GET":
            return queries._get_one(self, item, hdrs) if item else queries._get_many(self, params, allowed)
        if method == "POST":
            if item:
                return self._not_allowed('Resource items can only be updated using PUT. To "upsert" an item in '
                                         'the resource collection using POST, remove the "id" from the route.')
            return self._write(None, hdrs, body, allowed)
        if method == "PUT":
            if not item:
                return self._not_allowed('Resource collections cannot be replaced. To "upsert" an item in the '
                                         'collection, use POST. To update a specific item, use PUT and include '
                                         'the "id" in the route.')
            return self._write(item, hdrs, body, allowed)
        if method == "DELETE":
            if not item:
                return self._not_allowed('Resource collections cannot be deleted. To delete a specific item, use '
                                         'DELETE and include the "id" in the route.')
            return self._delete(item, hdrs)
        return self._not_allowed(f"The endpoint of the request does not support the '{method}' method.")

    def _write(self, item: str | None, hdrs: dict[str, str], raw: bytes,
               allowed: frozenset[int] | None = None) -> EmulatorResponse:
        checked = write_checks.check_body(raw, hdrs.get("content-type", ""), item is None, self.reference,
                                          self.legacy_errors,
                                          lambda body: authorization.denied(allowed, body, self.legacy_errors))
        if isinstance(checked, EmulatorResponse):
            return checked
        clean, ext = checked
        if ext:
            clean["_ext"] = {"ksde": ext}
        shape.publish_descriptors(clean, self.reference)
        key = natural_key(clean)
        if item is not None:
            return self._put(item, key, clean, hdrs)
        existing_id = self.by_key.get(key)
        if existing_id is not None:
            rec = self.records_by_id[existing_id]
            refused = authorization.denied(allowed, rec.body, self.legacy_errors)   # an update of theirs
            if refused is not None:
                return refused
            if not self._if_match(hdrs, rec):
                return self._lock_failed()
            created = False
            if rec.body != clean:
                self._save(existing_id, clean)
            rec = self.records_by_id[existing_id]
        else:
            created = True
            rec = self._save(uuid.uuid4().hex, clean)
        headers = {"Location": self._location(rec.id), "ETag": f'"{rec.etag}"'}
        return EmulatorResponse(201 if created else 200, headers)

    def _put(self, item: str, key: tuple[str, str, str, str], clean: dict[str, Any],
             hdrs: dict[str, str]) -> EmulatorResponse:
        rec = self.records_by_id.get(item)
        if rec is None:
            return _json(404, problem(404, "urn:ed-fi:api:not-found", "Resource to update was not found.",
                                      legacy=self.legacy_errors))
        if not self._if_match(hdrs, rec):
            return self._lock_failed()
        if rec.natural_key() != key:
            return _json(400, problem(400, "urn:ed-fi:api:bad-request:data-validation-failed:key-change-not-supported",
                                      "Identifying values for the StudentAssessment data cannot be changed. Delete "
                                      "and recreate the item instead.", legacy=self.legacy_errors))
        if rec.body != clean:
            rec = self._save(item, clean)
        return EmulatorResponse(204, {"Location": self._location(item), "ETag": f'"{rec.etag}"'})

    def _save(self, rid: str, body: dict[str, Any]) -> StoredRecord:
        self.change_version += 1
        etag = str(time.time_ns())
        rec = StoredRecord(rid, body, etag, self.now_text(), self.change_version)
        self.records_by_id[rid] = rec
        self.by_key[rec.natural_key()] = rid
        if self._store is not None:
            self._store.save_record(rec.id, rec.body, rec.etag, rec.last_modified, rec.change_version)
        return rec

    def _delete(self, item: str, hdrs: dict[str, str]) -> EmulatorResponse:
        rec = self.records_by_id.get(item)
        if rec is None:
            return _json(404, problem(404, "urn:ed-fi:api:not-found", "Resource to delete was not found.",
                                      legacy=self.legacy_errors))
        if not self._if_match(hdrs, rec):
            return self._lock_failed()
        del self.records_by_id[item]
        self.by_key.pop(rec.natural_key(), None)
        self.change_version += 1
        ref, student = rec.body["assessmentReference"], rec.body["studentReference"]
        deleted = {"id": item, "changeVersion": self.change_version, "keyValues": {
            "studentUniqueId": student["studentUniqueId"], "assessmentIdentifier": ref["assessmentIdentifier"],
            "namespace": ref["namespace"], "studentAssessmentIdentifier": rec.body["studentAssessmentIdentifier"]}}
        self.deletes.append(deleted)
        if self._store is not None:
            self._store.save_delete(deleted)
        return EmulatorResponse(204)

    def _if_match(self, hdrs: dict[str, str], rec: StoredRecord) -> bool:
        wanted = hdrs.get("if-match")
        return wanted is None or wanted.strip('"') == rec.etag

    def _lock_failed(self) -> EmulatorResponse:
        return _json(412, problem(412, "urn:ed-fi:api:optimistic-lock-failed",
                                  "The item has been modified by another user.",
                                  legacy=self.legacy_errors))

    def _location(self, rid: str) -> str:
        return f"{self.base_url.rstrip('/')}{DATA}studentAssessments/{rid}"
