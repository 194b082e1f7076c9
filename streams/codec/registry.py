"""A Confluent-compatible Schema Registry, read-only: the writer schema of a schema id, fetched once.

Only ``GET /schemas/ids/{id}`` is used (Confluent's documented REST API, also served by Apicurio's
``/apis/ccompat/v7`` and Karapace). Basic auth or a bearer token comes from the environment variables
that the settings name; TLS uses the system's trust store or the configured CA file.

httpx (already a dependency) rather than confluent-kafka's ``SchemaRegistryClient``: that client needs
the ``schemaregistry`` extra (authlib, cachetools, attrs) for one GET.

Errors: a registry that does not answer, or answers 5xx/429, raises :class:`RegistryUnavailable`
(retryable: the caller waits and retries the same record, nothing is lost); an id the registry does not
know (404) or a schema that is not Avro raises :class:`streams.errors.DecodeError` (poison).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from typing import Any

import fastavro
import httpx

from streams.config import SchemaRegistrySettings
from streams.errors import DecodeError, RetryableError


class RegistryUnavailable(RetryableError):
    """The Schema Registry did not answer (or answered 5xx/429); retry the same record later."""


class SchemaRegistry:
    """Writer schemas by id, cached for the life of the process (ids are immutable in a registry)."""

    def __init__(self, settings: SchemaRegistrySettings, environ: Mapping[str, str] | None = None,
                 transport: httpx.BaseTransport | None = None) -> None:
        if not settings.url:
            raise ValueError("schemaRegistry.url is not set")
        env = os.environ if environ is None else environ
        headers: dict[str, str] = {"Accept": "application/vnd.schemaregistry.v1+json, application/json"}
        auth: httpx.BasicAuth | None = None
        token = env.get(settings.token_env)
        user, password = env.get(settings.username_env), env.get(settings.password_env)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        elif user:
            auth = httpx.BasicAuth(user, password or "")
        verify: Any = settings.ca_file if settings.ca_file else settings.verify_tls
        self.url = settings.url.rstrip("/")
        self._client = httpx.Client(base_url=self.url, headers=headers, auth=auth, verify=verify,
                                    timeout=settings.timeout_seconds, transport=transport)
        self._schemas: dict[int, tuple[Any, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def cached(self, schema_id: int) -> tuple[Any, dict[str, Any]] | None:
        """(parsed schema, its JSON) of ``schema_id`` if it was fetched before, else None (no I/O)."""
        return self._schemas.get(schema_id)

    def fetch(self, schema_id: int) -> tuple[Any, dict[str, Any]]:
        """(fastavro-parsed writer schema, the schema's JSON) of ``schema_id``; blocking, cached."""
        found = self._schemas.get(schema_id)
        if found is not None:
            return found
        try:
            response = self._client.get(f"/schemas/ids/{schema_id}")
        except httpx.HTTPError as exc:
            raise RegistryUnavailable(f"schema registry {self.url}: {type(exc).__name__}") from exc
        if response.status_code == 404:
            raise DecodeError("unknown_schema_id", f"schema id {schema_id} is not in the schema registry")
        if response.status_code in (429,) or response.status_code >= 500:
            raise RegistryUnavailable(f"schema registry {self.url}: HTTP {response.status_code}")
        if response.status_code in (401, 403):
            raise RegistryUnavailable(f"schema registry {self.url}: HTTP {response.status_code} (check the "
                                      "credentials of schemaRegistry)")
        try:
            body = response.json()
            if body.get("schemaType", "AVRO") != "AVRO":
                raise DecodeError("bad_schema", f"schema id {schema_id} is {body.get('schemaType')}, not Avro")
            raw = json.loads(body["schema"])
            parsed = fastavro.parse_schema(json.loads(body["schema"]))  # parse_schema may annotate its input
        except DecodeError:
            raise
        except Exception as exc:  # unparseable JSON or an invalid Avro schema
            raise DecodeError("bad_schema", f"schema id {schema_id}: {type(exc).__name__}: {exc}") from exc
        with self._lock:
            self._schemas[schema_id] = (parsed, raw)
        return parsed, raw

    def close(self) -> None:
        self._client.close()


__all__ = ["RegistryUnavailable", "SchemaRegistry"]
