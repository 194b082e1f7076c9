"""The product's exception tree, so that every failure is classified the same way everywhere.

Three families, each handled differently by the agents:

* :class:`PoisonInput`  the input itself is bad (undecodable bytes, unknown op, missing fields, impossible
  dates). Never retried: the event goes to the dead-letter topic with the reason and processing goes on.
* :class:`RetryableError` a transient fault outside us (Ed-Fi 5xx/429, timeouts, connection errors).
  Retried with backoff; never dead-lettered while it is still retryable.
* :class:`RejectedError` the Ed-Fi API refused a well-formed request for a reason that retrying will not
  fix (400 validation, 403). Dead-lettered with the parsed Ed-Fi error.

:class:`ConfigurationError` is raised at start-up for bad settings and stops the process.
"""

from __future__ import annotations


class EdfiStreamError(Exception):
    """Base of every error this product raises on purpose."""


class ConfigurationError(EdfiStreamError):
    """Settings are missing or contradictory; the process must not start."""


class Refused(EdfiStreamError):
    """A command refused on purpose (a safety check: a resync deleting too much, a replay with live workers)."""


class PoisonInput(EdfiStreamError):
    """An input event that can never be processed. ``reason`` is a short machine-friendly cause."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class DecodeError(PoisonInput):
    """Bytes on a topic that are neither valid Confluent-framed Avro nor valid JSON for the topic."""


class RetryableError(EdfiStreamError):
    """A transient failure; the same request may succeed later."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RejectedError(EdfiStreamError):
    """The Ed-Fi API rejected the request; retrying the same request will not help."""

    def __init__(self, message: str, status: int, error_type: str | None = None, body: object = None) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.body = body
