"""The one error type of the service and its rendering into the contract's envelope."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError as PydanticValidationError
from pydantic_core import to_json

from app.domain.fields import MAX_DETAILS, VALIDATION_REASONS


class ApiError(Exception):
    """Raised anywhere in the service; rendered once into `{"error": {...}}`."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: list[dict[str, str]] | None = None,
        *,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers or {}
        self.extra = extra or {}

    def body(self, request_id: str | None) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message, "requestId": request_id}
        if self.details:
            error["details"] = self.details
        return {"error": error, **self.extra}


def unauthorized(message: str = "Missing or invalid API key") -> ApiError:
    return ApiError(401, "UNAUTHORIZED", message)


def forbidden(message: str) -> ApiError:
    return ApiError(403, "FORBIDDEN", message)


def not_found(what: str = "Resource") -> ApiError:
    return ApiError(404, "NOT_FOUND", f"{what} not found")


# A validation error names at most MAX_DETAILS fields (in `details` and in its message) and counts
# the rest in its message: a body of 70,000 unknown fields is answered in a few KB, not 3 MB.
MAX_PATH = 200
"""Longer paths (an unknown field's name is the client's text) are cut to this many characters."""


class Details(list):
    """Validation details capped at MAX_DETAILS; `omitted` counts the failing fields left out."""

    omitted: int = 0


def validation_error(details: list[dict[str, str]], message: str | None = None) -> ApiError:
    omitted = getattr(details, "omitted", 0) + max(0, len(details) - MAX_DETAILS)
    details = [
        detail
        if len(detail["path"]) <= MAX_PATH
        else {**detail, "path": detail["path"][: MAX_PATH - 1] + "…"}
        for detail in details[:MAX_DETAILS]
    ]
    if message is None:
        message = describe(details)
    if omitted:
        message += f"; and {omitted} more fields fail (details name the first {MAX_DETAILS})"
    return ApiError(400, "VALIDATION_ERROR", message, details)


def describe(details: Iterable[dict[str, str]]) -> str:
    by_reason: dict[str, list[str]] = {}
    for detail in details:
        by_reason.setdefault(detail["reason"], []).append(detail["path"] or "body")
    labels = {
        "required": "Missing required fields",
        "unknown_field": "Unknown fields",
        "too_long": "Too long",
        "out_of_range": "Out of range",
        "not_found": "Not found",
        "invalid": "Invalid fields",
    }
    return "; ".join(f"{labels.get(r, r)}: {', '.join(paths)}" for r, paths in by_reason.items())


def details_from_pydantic(
    errors: Iterable[Mapping[str, Any]], *, prefix: str = "", skip_first: tuple[str, ...] = ("body",)
) -> list[dict[str, str]]:
    """Turn pydantic's error list into the contract's `[{"path", "reason"}]`, one per field: the
    first MAX_DETAILS fields, with the number of the others in `omitted` (see `Details`)."""
    seen: dict[str, str] = {}
    others: set[str] = set()
    unnamed = 0
    for error in errors:
        loc = list(error.get("loc", ()))
        if loc and loc[0] in skip_first:
            loc = loc[1:]
        # Union members and function validators add tags such as 'function-after[...]'.
        parts = [
            str(p)
            for p in loc
            if not (isinstance(p, str) and ("[" in p or p in ("str", "float", "int", "bool")))
        ]
        path = ".".join(parts)
        if prefix:
            path = f"{prefix}.{path}" if path else prefix
        if error.get("type") == "too_many_unknown_fields":
            # One error for a model given too many unknown fields (app.domain.fields): the first
            # few by name, the others counted.
            named = [f"{path}.{key}" if path else str(key) for key in error["ctx"]["fields"]]
            for name in named:
                if len(seen) < MAX_DETAILS:
                    seen.setdefault(name, "unknown_field")
                elif name not in seen:
                    others.add(name)
            unnamed += error["ctx"]["count"] - len(named)
            continue
        if len(seen) >= MAX_DETAILS and path not in seen:
            others.add(path)  # only counted: no detail is built for it
            continue
        reason = VALIDATION_REASONS.get(error.get("type", ""), "invalid")
        if error.get("type") == "string_too_short" and error.get("ctx", {}).get("min_length") == 1:
            reason = "required"
        seen.setdefault(path, reason)
    details = Details({"path": path, "reason": reason} for path, reason in seen.items())
    details.omitted = len(others) + unnamed
    return details


def from_pydantic(exc: PydanticValidationError, prefix: str = "") -> ApiError:
    return validation_error(details_from_pydantic(exc.errors(), prefix=prefix, skip_first=()))


def dumps(body: Any) -> bytes:
    """Compact UTF-8 JSON, as `json.dumps(body, ensure_ascii=False, separators=(",", ":"))`
    writes it, by pydantic-core's faster serialiser (tests/benchmarks/test_request_cost.py)."""
    return to_json(body)


def _error_responses() -> dict[int | str, dict[str, Any]]:
    from app.domain.bulk import ErrorEnvelope

    described = {
        400: "VALIDATION_ERROR: a field is missing or invalid (see details)",
        401: "UNAUTHORIZED: missing or unknown API key",
        403: "FORBIDDEN: the key lacks the scope, or the caller's role may not do this",
        404: "NOT_FOUND: no such trip or row in this trip",
        409: "Conflict (IDEMPOTENCY_CONFLICT, IDEMPOTENCY_IN_PROGRESS, STALE_REVISION, ...)",
        413: "PAYLOAD_TOO_LARGE: body over 1 MiB",
        429: "RATE_LIMITED: over the key's (or share token's) requests per minute, or over this client "
        "address's failed attempts per minute (unknown keys, share tokens); retry after Retry-After seconds",
    }
    return {status: {"model": ErrorEnvelope, "description": text} for status, text in described.items()}


ErrorResponses = _error_responses()
