"""Ed-Fi v7 error bodies (RFC 9457 problem details; API-BEHAVIOUR.md 2.7) and the pre-7.2 form."""

from __future__ import annotations

import uuid
from typing import Any

UNSUPPORTED_MEDIA_TYPE = "urn:ed-fi:api:unsupported-media-type"

TITLES = {
    "urn:ed-fi:api:bad-request": "Bad Request",
    "urn:ed-fi:api:bad-request:data-validation-failed": "Data Validation Failed",
    "urn:ed-fi:api:bad-request:data-validation-failed:key-change-not-supported": "Key Change Not Supported",
    "urn:ed-fi:api:bad-request:parameter-validation-failed": "Parameter Validation Failed",
    "urn:ed-fi:api:security:authentication": "Authentication Failed",
    "urn:ed-fi:api:security:authentication:too-many-tokens": "Too Many Tokens",
    "urn:ed-fi:api:security:authorization": "Authorization Denied",
    "urn:ed-fi:api:not-found": "Not Found",
    "urn:ed-fi:api:method-not-allowed": "Method Not Allowed",
    "urn:ed-fi:api:data-conflict:unresolved-reference": "Unresolved Reference",
    "urn:ed-fi:api:optimistic-lock-failed": "Optimistic Lock Failed",
    "urn:ed-fi:api:unsupported-media-type": "Unsupported Media Type",
    "urn:ed-fi:api:system": "System Error",
}


def problem(status: int, type_: str, detail: str, *, errors: list[str] | None = None,
            validation_errors: dict[str, list[str]] | None = None, legacy: bool = False) -> dict[str, Any]:
    if legacy:
        message = detail
        if validation_errors:
            message += " " + " ".join(m for msgs in validation_errors.values() for m in msgs)
        if errors:
            message += " " + " ".join(errors)
        return {"message": message}
    body: dict[str, Any] = {"detail": detail, "type": type_, "title": TITLES.get(type_, "Error"),
                            "status": status, "correlationId": str(uuid.uuid4())}
    if validation_errors:
        body["validationErrors"] = validation_errors
    if errors:
        body["errors"] = errors
    return body


def validation_failed(errors: dict[str, list[str]], legacy: bool = False) -> dict[str, Any]:
    return problem(400, "urn:ed-fi:api:bad-request:data-validation-failed",
                   "Data validation failed. See 'validationErrors' for details.",
                   validation_errors=errors, legacy=legacy)
