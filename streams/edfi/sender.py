"""Execute one write command against the Ed-Fi API, idempotently.

* POST: skipped when the identity map says the ODS already has this exact payload; else an upsert, and the
  id from Location is remembered.
* PUT: needs the ODS id (identity map, else GET by natural key); a record that is not in the ODS is
  POSTed instead (the upsert converges); 404 (stale id) -> forget the id and POST; 400
  key-change-not-supported -> DELETE the old item and POST.
* DELETE: by id (identity map if it belongs to the same natural key, else GET by natural key); a record
  that is already gone is a success.

Outcomes: acked, unchanged, parked (409: a reference is missing, try later), dead_letter (rejected), and the
authentication answers the dispatcher pauses on (streams/edfi/auth_pause.py): credentials_refused (the
token endpoint refuses the client), unauthorized (a fresh token refused), forbidden (a 403 that refuses
every write: claim set, namespace) and forbidden_record (a plain 403: per record unless every write gets
one). A retryable failure that outlives the retry policy is raised: the caller waits and tries again, and
never commits past it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from streams.edfi.client import EdfiClient
from streams.edfi.errors import (
    AuthenticationError,
    CredentialsRefused,
    EdfiError,
    EdfiRejected,
    UnresolvedReference,
    forbids_every_write,
)
from streams.edfi.identity import IdentityEntry, IdentityMap
from streams.writes import NaturalKey, WriteCommand

SendOutcome = Literal["acked", "unchanged", "parked", "dead_letter", "credentials_refused", "unauthorized",
                      "forbidden", "forbidden_record"]
KEY_CHANGE = "key-change-not-supported"


@dataclass
class SendResult:
    outcome: SendOutcome
    status: int | None = None
    ods_id: str | None = None
    error: EdfiError | None = None
    request: dict[str, Any] = field(default_factory=dict)


def key_text(key: NaturalKey) -> str:
    return "|".join((key.assessment_identifier, key.namespace.lower(), key.student_assessment_identifier,
                     key.student_unique_id))


class WriteSender:
    def __init__(self, client: EdfiClient, identity: IdentityMap) -> None:
        self.client = client
        self.identity = identity

    async def send(self, cmd: WriteCommand) -> SendResult:
        try:
            if cmd.action == "DELETE":
                return await self._delete(cmd)
            return await self._upsert(cmd)
        except UnresolvedReference as exc:
            return SendResult("parked", exc.status, error=exc.error, request=self._request(cmd))
        except AuthenticationError as exc:
            outcome: SendOutcome = "credentials_refused" if isinstance(exc, CredentialsRefused) else "unauthorized"
            return SendResult(outcome, exc.status, error=exc.error, request=self._request(cmd))
        except EdfiRejected as exc:
            if exc.status == 403:
                outcome = "forbidden" if forbids_every_write(exc.error) else "forbidden_record"
                return SendResult(outcome, exc.status, error=exc.error, request=self._request(cmd))
            return SendResult("dead_letter", exc.status, error=exc.error, request=self._request(cmd))

    def _request(self, cmd: WriteCommand) -> dict[str, Any]:
        return {"method": cmd.action, "resource": cmd.resource, "naturalKey": cmd.natural_key.to_dict(),
                "body": cmd.payload}

    async def _find(self, cmd: WriteCommand) -> str | None:
        found = await self.client.get_by_key(cmd.resource, cmd.natural_key.query_params())
        return str(found[0]["id"]) if found else None

    async def _upsert(self, cmd: WriteCommand) -> SendResult:
        assert cmd.payload is not None
        digest = cmd.payload_hash
        entry = self.identity.get(cmd.key)
        key = key_text(cmd.natural_key)
        # a resync ("force") corrects drift the identity map cannot see: never skip it
        if not cmd.extra.get("force") and entry is not None and entry.payload_hash == digest and entry.key == key:
            return SendResult("unchanged", ods_id=entry.ods_id)
        if cmd.action == "PUT":
            ods_id = entry.ods_id if entry is not None and entry.key == key else await self._find(cmd)
            if ods_id is not None:
                try:
                    status = await self.client.put(cmd.resource, ods_id, cmd.payload)
                    self.identity[cmd.key] = IdentityEntry(ods_id, digest, key)
                    return SendResult("acked", status, ods_id)
                except EdfiRejected as exc:
                    if exc.status == 404:
                        self.identity.pop(cmd.key, None)  # stale id: someone deleted it; POST recreates
                    elif KEY_CHANGE in (exc.error_type or ""):
                        await self.client.delete(cmd.resource, ods_id)
                        self.identity.pop(cmd.key, None)
                    else:
                        raise
        status, ods_id = await self.client.post(cmd.resource, cmd.payload)
        if ods_id:
            self.identity[cmd.key] = IdentityEntry(ods_id, digest, key)
        return SendResult("acked", status, ods_id)

    async def _delete(self, cmd: WriteCommand) -> SendResult:
        entry = self.identity.get(cmd.key)
        key = key_text(cmd.natural_key)
        ods_id = entry.ods_id if entry is not None and entry.key == key else await self._find(cmd)
        if ods_id is None:
            if entry is not None and entry.key == key:
                self.identity.pop(cmd.key, None)
            return SendResult("acked", 404)  # already gone: the goal of a DELETE holds
        try:
            status = await self.client.delete(cmd.resource, ods_id)
        except EdfiRejected as exc:
            if exc.status != 404:
                raise
            status = 404
        current = self.identity.get(cmd.key)
        if current is not None and current.key == key:
            self.identity.pop(cmd.key, None)
        return SendResult("acked", status, ods_id)
