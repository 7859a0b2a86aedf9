"""How a failure reads to a person: what went wrong, never a traceback."""

from __future__ import annotations

from app.client import APIError, TripConnectionError


def describe(error: BaseException) -> str:
    if isinstance(error, TripConnectionError):
        return "cannot reach the trip service"
    if isinstance(error, APIError):
        request = f" (request {error.request_id})" if getattr(error, "request_id", None) else ""
        return f"{error.code}: {error.message}{request}"
    if isinstance(error, OSError) and error.strerror:
        return f"{error.strerror}: {error.filename}" if error.filename else error.strerror
    return f"{type(error).__name__}: {error}"
