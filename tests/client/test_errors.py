"""Error responses become the exception class of their code, with everything the service sent."""

from __future__ import annotations

import email.utils
import json
import time

import httpx
import pytest

from app.client import errors
from app.client.errors import error_from_response, parse_retry_after


def response(status: int, body: object, headers: dict[str, str] | None = None) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.Response(
        status,
        headers=headers or {},
        content=content,
        request=httpx.Request("POST", "http://tripdeck.test/api/v1/trips/t/ops"),
    )


def envelope(code: str, **extra: object) -> dict:
    return {"error": {"code": code, "message": f"about {code}", "requestId": "req_1"}, **extra}


@pytest.mark.parametrize(
    "status, code, cls",
    [
        (400, "VALIDATION_ERROR", errors.ValidationError),
        (401, "UNAUTHORIZED", errors.UnauthorizedError),
        (403, "FORBIDDEN", errors.ForbiddenError),
        (404, "NOT_FOUND", errors.NotFoundError),
        (409, "CONFLICT", errors.ConflictError),
        (409, "IDEMPOTENCY_CONFLICT", errors.IdempotencyConflictError),
        (409, "IDEMPOTENCY_IN_PROGRESS", errors.IdempotencyInProgressError),
        (409, "STALE_REVISION", errors.StaleRevisionError),
        (409, "OPERATION_REJECTED", errors.OperationRejectedError),
        (413, "PAYLOAD_TOO_LARGE", errors.PayloadTooLargeError),
        (429, "RATE_LIMITED", errors.RateLimitedError),
        (500, "INTERNAL_ERROR", errors.ServerError),
        (405, "METHOD_NOT_ALLOWED", errors.APIError),
    ],
)
def test_one_class_per_code(status, code, cls):
    error = error_from_response(response(status, envelope(code)))
    assert type(error) is cls
    assert (error.status, error.code, error.message, error.request_id) == (
        status,
        code,
        f"about {code}",
        "req_1",
    )
    assert isinstance(error, errors.APIError) and isinstance(error, errors.TripError)


def test_the_409_family_is_catchable_as_conflict():
    for code in ("IDEMPOTENCY_CONFLICT", "IDEMPOTENCY_IN_PROGRESS", "STALE_REVISION", "OPERATION_REJECTED"):
        assert isinstance(error_from_response(response(409, envelope(code))), errors.ConflictError)


def test_stale_revision_carries_both_revisions():
    body = {**envelope("STALE_REVISION"), "code": "STALE_REVISION", "current_revision": 9, "base_revision": 7}
    error = error_from_response(response(409, body))
    assert isinstance(error, errors.StaleRevisionError)
    assert (error.current_revision, error.base_revision) == (9, 7)


def test_travelmode_shaped_body_is_understood():
    body = {"error": "Revision conflict", "code": "STALE_REVISION", "current_revision": 3, "base_revision": 2}
    error = error_from_response(response(409, body, {"X-Request-Id": "req_h"}))
    assert isinstance(error, errors.StaleRevisionError)
    assert (error.message, error.request_id, error.current_revision) == ("Revision conflict", "req_h", 3)


def test_validation_details_and_rate_limit_wait():
    body = envelope("VALIDATION_ERROR")
    body["error"]["details"] = [{"path": "title", "reason": "required"}]
    error = error_from_response(response(400, body))
    assert error.details == [{"path": "title", "reason": "required"}]
    assert "title: required" in str(error) and "req_1" in str(error)
    limited = error_from_response(response(429, envelope("RATE_LIMITED"), {"Retry-After": "7"}))
    assert limited.retry_after == 7


def test_a_known_code_with_the_wrong_status_does_not_lie():
    # A proxy answering 502 with some JSON: still a server error, so it is retried.
    assert type(error_from_response(response(502, envelope("NOT_FOUND")))) is errors.ServerError
    assert type(error_from_response(response(404, b"not json"))) is errors.NotFoundError


def test_retry_after_forms():
    assert parse_retry_after("3") == 3
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert parse_retry_after("-4") == 0
    later = email.utils.formatdate(time.time() + 20, usegmt=True)
    assert 17 <= parse_retry_after(later) <= 21


def test_the_tree_is_drawn_in_the_module_docstring():
    for name in errors.__all__:
        obj = getattr(errors, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert name in errors.__doc__, name


def test_transport_errors_are_builtin_ones_too():
    assert issubclass(errors.TripConnectionError, ConnectionError)
    assert issubclass(errors.TripTimeoutError, TimeoutError) and issubclass(
        errors.TripTimeoutError, ConnectionError
    )
    error = errors.TripTimeoutError("GET /me: timed out")
    assert str(error) == "GET /me: timed out" and error.message == "GET /me: timed out"
