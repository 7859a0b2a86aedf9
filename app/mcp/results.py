"""What a tool hands back to the agent: the API's JSON on success, and on failure an error
result (`isError: true`) that carries the API's code, message, request id and details.

Nothing a tool raises on purpose may take the server down: every failure the SDK can raise is
turned into an error result here, once, for all tools.
"""

from __future__ import annotations

import json
from typing import Any

from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel

from app.client import (
    APIError,
    NotSupportedError,
    RateLimitedError,
    RevertConflictError,
    StaleRevisionError,
    TripConnectionError,
    TripError,
    UnexpectedResponseError,
)


class ToolInputError(Exception):
    """A tool refuses its arguments before calling the API (say, a trip with no channel to
    post to). Reported like an API error, with `code`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def to_json_text(data: Any) -> str:
    # ensure_ascii=False: user text (names, notes, messages) reaches the agent as written.
    return json.dumps(data, ensure_ascii=False, indent=2)


def wire(value: BaseModel) -> dict[str, Any]:
    """A domain model as the API writes it (camelCase, `_id`, nulls included)."""
    return value.model_dump(mode="json", by_alias=True)


def success(value: BaseModel) -> CallToolResult:
    data = wire(value)
    return CallToolResult(
        content=[TextContent(type="text", text=to_json_text(data))], structured_content=data
    )


def error_body(exc: BaseException) -> dict[str, Any]:
    """`{"status", "code", "message", "requestId", "details", ...}` for any failure a tool expects."""
    if isinstance(exc, APIError):
        body: dict[str, Any] = {
            "status": exc.status,
            "code": exc.code,
            "message": exc.message,
            "requestId": exc.request_id,
            "details": list(exc.details),
        }
        if isinstance(exc, NotSupportedError):
            # Said apart from a missing trip or row: retrying or fixing the id cannot help.
            body["code"] = "NOT_SUPPORTED"
            body["feature"] = exc.feature
        if isinstance(exc, StaleRevisionError):
            body["currentRevision"] = exc.current_revision
            body["baseRevision"] = exc.base_revision
        if isinstance(exc, RateLimitedError):
            body["retryAfter"] = exc.retry_after
        if isinstance(exc, RevertConflictError):
            body["conflictingOperations"] = [wire(op) for op in exc.conflicting_operations]
        return body
    if isinstance(exc, UnexpectedResponseError):
        request_id = exc.response.headers.get("x-request-id") if exc.response is not None else None
        return {
            "status": exc.status,
            "code": "UNEXPECTED_RESPONSE",
            "message": exc.message,
            "requestId": request_id,
            "details": [],
        }
    if isinstance(exc, TripConnectionError):
        code = "TIMEOUT" if isinstance(exc, TimeoutError) else "CONNECTION_ERROR"
        return {"status": None, "code": code, "message": exc.message, "requestId": None, "details": []}
    if isinstance(exc, ToolInputError):
        return {"status": None, "code": exc.code, "message": exc.message, "requestId": None, "details": []}
    if isinstance(exc, TripError):
        return {"status": None, "code": "CLIENT_ERROR", "message": str(exc), "requestId": None, "details": []}
    # ValueError: the SDK refusing an argument (an empty id, a `wait` out of range).
    return {"status": None, "code": "INVALID_ARGUMENT", "message": str(exc), "requestId": None, "details": []}


def summary_line(error: dict[str, Any]) -> str:
    """One line a person (or a model) reads first: `403 FORBIDDEN: ... [request req_...]`."""
    text = f"{error['code']}: {error['message']}"
    if error.get("status"):
        text = f"{error['status']} {text}"
    if error.get("details"):
        text += " (" + ", ".join(f"{d.get('path')}: {d.get('reason')}" for d in error["details"]) + ")"
    if error.get("requestId"):
        text += f" [request {error['requestId']}]"
    return text


def failure(exc: BaseException) -> CallToolResult:
    error = error_body(exc)
    text = summary_line(error) + "\n" + to_json_text({"error": error})
    return CallToolResult(
        content=[TextContent(type="text", text=text)], structured_content={"error": error}, is_error=True
    )


# What a tool catches and reports; anything else is a bug, which the SDK reports as a generic
# tool error (and logs with its traceback) without stopping the server.
EXPECTED = (TripError, ToolInputError, ValueError)
