"""Exceptions raised by the SDK: one class per error code of the API, plus transport failures.

The hierarchy (catch a parent to handle a whole branch):

* TripError                          anything the SDK raises on purpose
  ├── TripConnectionError            no HTTP answer: DNS, refused, reset (a builtin ConnectionError)
  │   └── TripTimeoutError           ... because a timeout ran out (a builtin TimeoutError too)
  ├── UnexpectedResponseError        a 2xx whose body is not what the contract promises
  └── APIError                       the service answered with an error envelope
      ├── ValidationError            400 VALIDATION_ERROR (also raised before sending, when
      │                                  keyword arguments fail the domain model's checks)
      ├── UnauthorizedError          401 UNAUTHORIZED
      ├── ForbiddenError             403 FORBIDDEN
      ├── NotFoundError              404 NOT_FOUND
      │   └── NotSupportedError          ... of a route the service does not have: one of our
      │                                      extensions on a service of the seed's API only
      │                                      (`feature`; see `TripClient.capabilities()`)
      ├── ConflictError              409 CONFLICT (and every other 409)
      │   ├── IdempotencyConflictError    409 IDEMPOTENCY_CONFLICT (same key, different request)
      │   ├── IdempotencyInProgressError  409 IDEMPOTENCY_IN_PROGRESS (retried automatically)
      │   ├── StaleRevisionError          409 STALE_REVISION (current_revision, base_revision)
      │   ├── SecretNotReplayedError      409 SECRET_NOT_REPLAYED (a replay of a call whose answer
      │   │                                   held a secret, shown once: make a new one)
      │   ├── RevertConflictError         409 REVERT_CONFLICT (later changes touched the same
      │   │                                   fields: `conflicting_operations`)
      │   └── OperationRejectedError      409 OPERATION_REJECTED (the op breaks the timeline)
      ├── PayloadTooLargeError       413 PAYLOAD_TOO_LARGE
      ├── RateLimitedError           429 RATE_LIMITED (retry_after, retried automatically)
      └── ServerError                5xx INTERNAL_ERROR and friends (retried automatically)

Every `APIError` carries `status`, `code`, `message`, `request_id` (quote it when reporting a
problem) and `details` (a list of `{"path", "reason"}` for validation errors).
"""

from __future__ import annotations

import email.utils
import json
import time
from typing import Any

import httpx

__all__ = [
    "APIError",
    "ConflictError",
    "ForbiddenError",
    "IdempotencyConflictError",
    "IdempotencyInProgressError",
    "NotFoundError",
    "NotSupportedError",
    "OperationRejectedError",
    "PayloadTooLargeError",
    "RateLimitedError",
    "RevertConflictError",
    "SecretNotReplayedError",
    "ServerError",
    "StaleRevisionError",
    "TripConnectionError",
    "TripError",
    "TripTimeoutError",
    "UnauthorizedError",
    "UnexpectedResponseError",
    "ValidationError",
    "error_from_response",
    "parse_retry_after",
]


class TripError(Exception):
    """Base of every exception the SDK raises on purpose."""


class TripConnectionError(TripError, ConnectionError):
    """The request got no HTTP answer: the host is unreachable, the connection dropped...
    (also a builtin ConnectionError)."""

    def __init__(self, message: str, *, request: httpx.Request | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.request = request


class TripTimeoutError(TripConnectionError, TimeoutError):
    """A connect, read, write or pool timeout (or the call's total deadline) ran out."""


class UnexpectedResponseError(TripError):
    """A success status whose body does not parse as the contract's model."""

    def __init__(self, message: str, *, response: httpx.Response | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.response = response
        self.status = response.status_code if response is not None else None


class APIError(TripError):
    """The service answered with `{"error": {"code", "message", "requestId", "details"?}}`."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str,
        request_id: str | None = None,
        details: list[dict[str, Any]] | None = None,
        body: Any = None,
        response: httpx.Response | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.request_id = request_id
        self.details = details or []
        self.body = body
        self.response = response

    def __str__(self) -> str:
        text = f"{self.status} {self.code}: {self.message}"
        if self.details:
            text += " (" + ", ".join(f"{d.get('path')}: {d.get('reason')}" for d in self.details) + ")"
        if self.request_id:
            text += f" [request {self.request_id}]"
        return text

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status}, code={self.code!r}, message={self.message!r}, request_id={self.request_id!r})"


class ValidationError(APIError):
    """400 VALIDATION_ERROR: `details` names every failing field and why."""


class UnauthorizedError(APIError):
    """401: no API key, or an unknown one."""


class ForbiddenError(APIError):
    """403: the key lacks the scope, the user is not a member, or the role may not write."""


class NotFoundError(APIError):
    """404: the trip, row, route or share token does not exist (or is not yours to see)."""


class NotSupportedError(NotFoundError):
    """The service does not have this route: an extension of ours (the changes feed, the
    itinerary, ops, activity, member or channel writes, share links, SSH keys) on a service of
    the seed's API only. Raised once the SDK has learned it (then without a request); `feature`
    names what is missing, as in `Capabilities`."""

    def __init__(self, feature: str, description: str, *, cause: APIError | None = None) -> None:
        super().__init__(
            f"this service does not support {description}",
            status=cause.status if cause is not None else 404,
            code=cause.code if cause is not None else "NOT_FOUND",
            request_id=cause.request_id if cause is not None else None,
            body=cause.body if cause is not None else None,
            response=cause.response if cause is not None else None,
        )
        self.feature = feature
        self.description = description

    def __str__(self) -> str:
        return self.message


class ConflictError(APIError):
    """409: the request clashes with the current state."""


class IdempotencyConflictError(ConflictError):
    """409 IDEMPOTENCY_CONFLICT: this Idempotency-Key was used for a different request."""


class IdempotencyInProgressError(ConflictError):
    """409 IDEMPOTENCY_IN_PROGRESS: the first request with this key is still running."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class StaleRevisionError(ConflictError):
    """409 STALE_REVISION: the trip moved past `base_revision`; re-read and re-apply."""

    def __init__(
        self,
        message: str,
        *,
        current_revision: int | None = None,
        base_revision: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.current_revision = current_revision
        self.base_revision = base_revision


class SecretNotReplayedError(ConflictError):
    """409 SECRET_NOT_REPLAYED: this Idempotency-Key's call already made a secret (a share
    token) that the service shows only once and does not keep; call again with a new key."""


class OperationRejectedError(ConflictError):
    """409 OPERATION_REJECTED: the op fails against the current timeline; `message` says why."""


class RevertConflictError(ConflictError):
    """409 REVERT_CONFLICT: later operations changed the same fields of the same rows, so the
    revert would undo them too; nothing was written. `conflicting_operations` are those
    operations as the activity feed shows them (`Activity`), newest last."""

    @property
    def conflicting_operations(self) -> list[Any]:
        from app.domain.activity import Activity

        found = self.body.get("conflicting_operations") if isinstance(self.body, dict) else None
        return [Activity.model_validate(op) for op in found or [] if isinstance(op, dict)]


class PayloadTooLargeError(APIError):
    """413: the request body is over the service's limit (1 MiB)."""


class RateLimitedError(APIError):
    """429: too many requests; `retry_after` is the wait in seconds the service asked for."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(APIError):
    """5xx: the service (or a proxy in front of it) failed; `retry_after` if it said when to
    come back (a 503 may)."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


BY_CODE: dict[str, type[APIError]] = {
    "VALIDATION_ERROR": ValidationError,
    "UNAUTHORIZED": UnauthorizedError,
    "FORBIDDEN": ForbiddenError,
    "NOT_FOUND": NotFoundError,
    "CONFLICT": ConflictError,
    "IDEMPOTENCY_CONFLICT": IdempotencyConflictError,
    "IDEMPOTENCY_IN_PROGRESS": IdempotencyInProgressError,
    "STALE_REVISION": StaleRevisionError,
    "OPERATION_REJECTED": OperationRejectedError,
    "REVERT_CONFLICT": RevertConflictError,
    "SECRET_NOT_REPLAYED": SecretNotReplayedError,
    "PAYLOAD_TOO_LARGE": PayloadTooLargeError,
    "RATE_LIMITED": RateLimitedError,
    "INTERNAL_ERROR": ServerError,
}

BY_STATUS: dict[int, type[APIError]] = {
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    429: RateLimitedError,
}

# Codes the service uses that carry no error meaning for the SDK beyond their status.
STATUS_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    429: "RATE_LIMITED",
}


def parse_retry_after(value: str | None) -> float | None:
    """`Retry-After` as seconds: either whole seconds or an HTTP date. None if absent or junk."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - time.time()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, min(seconds, 24 * 3600.0))


def error_class(status: int, code: str | None) -> type[APIError]:
    if code in BY_CODE:
        cls = BY_CODE[code]
        # A code only means what it says with its own status family (a proxy could lie).
        if cls is ServerError or status < 500:
            return cls
    if status >= 500:
        return ServerError
    return BY_STATUS.get(status, APIError)


def error_from_response(response: httpx.Response) -> APIError:
    """Turn a non-2xx response into the matching exception (it is returned, not raised)."""
    status = response.status_code
    body: Any = None
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        body = None
    envelope = body.get("error") if isinstance(body, dict) else None
    if not isinstance(envelope, dict):
        envelope = {}
    code = envelope.get("code")
    if not isinstance(code, str) and isinstance(body, dict) and isinstance(body.get("code"), str):
        code = body["code"]  # the Travelmode ops shape: {"error": "...", "code": "..."}
    if not isinstance(code, str):
        code = STATUS_CODES.get(status, "INTERNAL_ERROR" if status >= 500 else f"HTTP_{status}")
    message = envelope.get("message")
    if not isinstance(message, str):
        raw = body.get("error") if isinstance(body, dict) else None
        message = raw if isinstance(raw, str) else (response.reason_phrase or f"HTTP {status}")
    request_id = envelope.get("requestId")
    if not isinstance(request_id, str):
        request_id = response.headers.get("x-request-id")
    details = envelope.get("details")
    if not isinstance(details, list):
        details = []
    cls = error_class(status, code)
    kwargs: dict[str, Any] = dict(
        status=status, code=code, request_id=request_id, details=details, body=body, response=response
    )
    if cls in (RateLimitedError, IdempotencyInProgressError, ServerError):
        kwargs["retry_after"] = parse_retry_after(response.headers.get("retry-after"))
    if cls is StaleRevisionError and isinstance(body, dict):
        kwargs["current_revision"] = _int_or_none(body.get("current_revision"))
        kwargs["base_revision"] = _int_or_none(body.get("base_revision"))
    return cls(message, **kwargs)


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
