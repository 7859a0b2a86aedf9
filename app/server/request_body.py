"""Request bodies are UTF-8 JSON, and what is wrong with one is told only to a caller who may
send it.

FastAPI parses a route's JSON body before any dependency runs, so a malformed body was answered
400 before authentication could answer 401, and Python's `json.loads(bytes)` also reads UTF-16
and UTF-32. `RequestBodyMiddleware` checks each buffered body first (`RequestContextMiddleware`
read it); one that is not UTF-8 JSON goes on labelled as opaque bytes, which FastAPI does not
parse: the route's dependencies run as for any request (401, 429, an idempotent replay), then the
body fails validation, and `unreadable_body` tells the validation handler why (400
VALIDATION_ERROR). A good body passes untouched.
"""

from __future__ import annotations

from pydantic_core import from_json
from starlette.requests import Request

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
STATE_KEY = "body_problem"
MALFORMED = "Malformed JSON in the request body"
NOT_UTF8 = "The request body must be JSON encoded as UTF-8 (UTF-16 and UTF-32 are refused)"


def body_problem(raw: bytes) -> str | None:
    """Why `raw` is not one JSON text in UTF-8, or None when it is one."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return NOT_UTF8
    if "\x00" in text:
        # UTF-16 or UTF-32 without a byte order mark is valid UTF-8 with NULs in it; a raw NUL
        # has no place in a JSON text anyway.
        return NOT_UTF8
    try:
        from_json(text.removeprefix("\ufeff"))  # a UTF-8 byte order mark may be ignored (RFC 8259)
    except (ValueError, RecursionError):
        return MALFORMED
    return None


def unreadable_body(request: Request) -> str | None:
    """Why this request's body could not be read, when `RequestBodyMiddleware` found it so."""
    return request.scope.get("state", {}).get(STATE_KEY)


class RequestBodyMiddleware:
    """Pure ASGI, inside `RequestContextMiddleware`: a body that is not UTF-8 JSON is handed on as
    `application/octet-stream`, so that FastAPI authenticates before it refuses the body."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["method"] in BODY_METHODS:
            state = scope.setdefault("state", {})
            raw = state.get("raw_body")
            if raw and (problem := body_problem(raw)) is not None:
                state[STATE_KEY] = problem
                scope["headers"] = [(k, v) for k, v in scope["headers"] if k != b"content-type"] + [
                    (b"content-type", b"application/octet-stream")
                ]
        await self.app(scope, receive, send)
