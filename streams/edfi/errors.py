"""Ed-Fi error bodies parsed, and every response classified into the product's exception tree.

* :class:`streams.errors.RetryableError`: 429 (with Retry-After), 500, 502, 503, 504, timeouts and
  connection errors. Retried with backoff; never dead-lettered while retryable.
* :class:`UnresolvedReference` (a :class:`streams.errors.RejectedError`): 409 unresolved-reference, the
  student or assessment is not in the ODS yet: the write is parked and tried again later.
* :class:`AuthenticationError` (rejected): the credentials are refused (:class:`CredentialsRefused`: 400/401/403
  from /oauth/token), or a fresh token is refused (401 on a data request after one re-authentication). The
  egress pauses on these instead of dead-lettering (streams/edfi/auth_pause.py).
* 403: :func:`forbids_every_write` tells a claim-set or namespace refusal (every write of the resource fails
  alike: the egress pauses) from a refusal of one record (relationship-based: a school outside the client's
  education organizations), which is per record.
* :class:`streams.errors.RejectedError`: any other 4xx; dead-lettered with the parsed :class:`EdfiError`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from streams.errors import RejectedError, RetryableError

if TYPE_CHECKING:
    from streams.edfi.direct import Answer

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class EdfiError:
    """An Ed-Fi error body: v7 problem details, or the older ``{"message": ...}`` form."""

    status: int
    type: str | None = None
    title: str | None = None
    detail: str | None = None
    validation_errors: dict[str, list[str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    correlation_id: str | None = None
    body: Any = None

    def summary(self) -> str:
        parts = [self.detail or self.title or f"HTTP {self.status}"]
        for path, msgs in list(self.validation_errors.items())[:3]:
            parts.append(f"{path}: {'; '.join(msgs)}")
        parts.extend(self.errors[:3])
        return " | ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "type": self.type, "title": self.title, "detail": self.detail,
                "validationErrors": self.validation_errors, "errors": self.errors,
                "correlationId": self.correlation_id}


def parse_error(status: int, content: bytes) -> EdfiError:
    try:
        body = json.loads(content) if content else None
    except (ValueError, UnicodeDecodeError):
        return EdfiError(status, detail=content[:500].decode("utf-8", "replace") or None)
    if not isinstance(body, dict):
        return EdfiError(status, body=body)
    if "message" in body and "type" not in body:  # ODS <= 7.1
        return EdfiError(status, detail=str(body["message"]), body=body)
    ve = body.get("validationErrors") or {}
    return EdfiError(
        status=status, type=body.get("type"), title=body.get("title"), detail=body.get("detail"),
        validation_errors={str(k): [str(m) for m in v] for k, v in ve.items()} if isinstance(ve, dict) else {},
        errors=[str(e) for e in body.get("errors") or []], correlation_id=body.get("correlationId"), body=body)


class EdfiRejected(RejectedError):
    def __init__(self, error: EdfiError) -> None:
        super().__init__(error.summary(), error.status, error.type, error.body)
        self.error = error


class UnresolvedReference(EdfiRejected):
    """409: a referenced record (student, assessment, school, staff) is not in the ODS yet."""


class AuthenticationError(EdfiRejected):
    """The Ed-Fi API does not accept our credentials or token."""


class CredentialsRefused(AuthenticationError):
    """The OAuth token endpoint refused the client id/secret."""


# 403 problem types that depend on the client's claim set or namespace, not on the record
# (shared/edfi-reference/API-BEHAVIOUR.md 2.7.5): every write of the resource is refused alike.
FORBIDS_EVERY_WRITE = ("access-denied:action", "access-denied:resource", "namespace-mismatch", "incorrect-usage")


def forbids_every_write(error: EdfiError) -> bool:
    return error.status == 403 and (error.type or "").endswith(FORBIDS_EVERY_WRITE)


class EdfiRetryable(RetryableError):
    def __init__(self, message: str, retry_after: float | None = None, error: EdfiError | None = None) -> None:
        super().__init__(message, retry_after)
        self.error = error


def retry_after_seconds(response: Answer) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def classify(response: Answer) -> Exception | None:
    """None for a success (2xx, 304), else the exception that describes the failure."""
    status = response.status_code
    if status < 300 or status == 304:
        return None
    error = parse_error(status, response.content)
    if status in RETRYABLE_STATUSES:
        return EdfiRetryable(f"HTTP {status}: {error.summary()}", retry_after_seconds(response), error)
    if status == 409 and (error.type or "").endswith("unresolved-reference"):
        return UnresolvedReference(error)
    if status == 409 and "does not exist" in (error.detail or ""):  # the pre-7.2 message form
        return UnresolvedReference(error)
    if status == 401:
        return AuthenticationError(error)
    return EdfiRejected(error)


def transport_error(exc: httpx.HTTPError) -> EdfiRetryable:
    return EdfiRetryable(f"{type(exc).__name__}: {exc}")
