"""Classification of every Ed-Fi answer into the product's error tree (API-BEHAVIOUR.md 2.8)."""

from __future__ import annotations

import json

import httpx
import pytest

from streams.edfi.errors import (
    AuthenticationError,
    EdfiRejected,
    EdfiRetryable,
    UnresolvedReference,
    classify,
    parse_error,
)


def response(status: int, body: object = None, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(body).encode() if body is not None else b"", headers=headers)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retryable(status: int) -> None:
    assert isinstance(classify(response(status, {"detail": "x"})), EdfiRetryable)


def test_429_honours_retry_after() -> None:
    failure = classify(response(429, {"detail": "slow down"}, {"Retry-After": "7"}))
    assert isinstance(failure, EdfiRetryable) and failure.retry_after == 7.0


def test_409_unresolved_reference_is_parked_not_dead() -> None:
    failure = classify(response(409, {"detail": "The referenced 'Student' item does not exist.",
                                      "type": "urn:ed-fi:api:data-conflict:unresolved-reference", "status": 409}))
    assert isinstance(failure, UnresolvedReference)
    old = "The value supplied for the related 'student' resource does not exist."
    legacy = classify(response(409, {"message": old}))
    assert isinstance(legacy, UnresolvedReference)


def test_400_is_rejected_with_the_parsed_problem() -> None:
    body = {"detail": "Data validation failed.", "type": "urn:ed-fi:api:bad-request:data-validation-failed",
            "title": "Data Validation Failed", "status": 400, "correlationId": "c1",
            "validationErrors": {"$.x": ["bad"]}}
    failure = classify(response(400, body))
    assert isinstance(failure, EdfiRejected) and not isinstance(failure, UnresolvedReference)
    assert failure.error.validation_errors == {"$.x": ["bad"]} and failure.error.correlation_id == "c1"
    assert "$.x: bad" in failure.error.summary()


def test_401_is_an_authentication_error_and_2xx_is_fine() -> None:
    assert isinstance(classify(response(401, {"detail": "x"})), AuthenticationError)
    assert classify(response(201)) is None and classify(response(204)) is None


def test_unparseable_bodies_do_not_break_parsing() -> None:
    assert parse_error(500, b"<html>oops</html>").detail == "<html>oops</html>"
    assert parse_error(400, b"").detail is None
    assert parse_error(400, b'{"message": "old form"}').detail == "old form"
