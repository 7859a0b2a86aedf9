"""Pure ASGI middleware: request ids, the body size limit, rate-limit headers, idempotency for
writes, and a last-resort 500, in one pass.

Written against the raw ASGI interface (not BaseHTTPMiddleware) because it runs on every request.
"""

from __future__ import annotations

import logging
import random
import secrets

from app.server.errors import ApiError, dumps
from app.server.idempotency import IdempotencyMiddleware
from app.server.ratelimit import STATE_KEY as RATE_LIMIT_STATE

log = logging.getLogger("app.server")

MAX_BODY = 1024 * 1024


_request_ids = random.Random(secrets.randbits(128))
"""Request ids need to be unique, not unguessable: a seeded generator, not a system call per request."""


def new_request_id() -> str:
    return f"req_{_request_ids.getrandbits(96):024x}"


def rate_limit_headers(state: dict) -> list[tuple[bytes, bytes]]:
    """X-RateLimit-Limit/-Remaining for a request the rate limiter counted (every authenticated
    request and every share-token read), else none."""
    counted = state.get(RATE_LIMIT_STATE)
    if counted is None:
        return []
    limit, remaining = counted
    return [(b"x-ratelimit-limit", str(limit).encode()), (b"x-ratelimit-remaining", str(remaining).encode())]


async def send_error(send, error: ApiError, request_id: str, state: dict | None = None) -> None:
    body = dumps(error.body(request_id))
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-request-id", request_id.encode()),
        *[(k.lower().encode(), v.encode()) for k, v in error.headers.items()],
        *rate_limit_headers(state or {}),
    ]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class RequestContextMiddleware:
    """The one middleware in front of the routes, one pass per request: gives every request an
    id (header `X-Request-Id` on every response), refuses bodies over 1 MiB with 413, puts the
    rate-limit headers on every counted request's response (the 500 below included), turns any
    unhandled exception into a 500 envelope without a trace, and hands POST/PATCH/DELETE to
    `IdempotencyMiddleware`. Reads (GET, HEAD, OPTIONS) skip body buffering and idempotency."""

    def __init__(self, app, store_of=None) -> None:
        self.app = app
        # Writes go through the idempotency layer (stores a claimed key's response); reads never.
        self.writes = IdempotencyMiddleware(app, store_of) if store_of is not None else app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = new_request_id()
        state = scope.get("state")
        if state is None:
            state = scope["state"] = {}
        state["request_id"] = request_id
        raw_id = request_id.encode()

        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    too_big = int(value) > MAX_BODY
                except ValueError:
                    too_big = False
                if too_big:
                    await send_error(send, payload_too_large(), request_id, state)
                    return

        app = self.app
        if scope["method"] in BODY_METHODS:
            app = self.writes
            # Read the (bounded) body up front so a chunked upload over the limit is also a 413.
            chunks, size = [], 0
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > MAX_BODY:
                    await send_error(send, payload_too_large(), request_id, state)
                    return
                chunks.append(chunk)
                if not message.get("more_body"):
                    break
            body = b"".join(chunks)
            state["raw_body"] = body
            # The API speaks only JSON: read every body as JSON whatever Content-Type says
            # (curl -d sends form encoding by default).
            scope["headers"] = [(k, v) for k, v in scope["headers"] if k != b"content-type"] + [
                (b"content-type", b"application/json")
            ]
            delivered = False

            receive_from_client = receive

            async def receive():  # replays the buffered body, then reports the disconnect
                nonlocal delivered
                if not delivered:
                    delivered = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive_from_client()

        started = False

        async def send_with_headers(message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [
                    *message.get("headers", ()),
                    (b"x-request-id", raw_id),
                    *rate_limit_headers(state),
                ]
            await send(message)

        try:
            await app(scope, receive, send_with_headers)
        except Exception:
            log.exception("unhandled error in request %s", request_id)
            if not started:
                await send_error(
                    send,
                    ApiError(500, "INTERNAL_ERROR", "Internal server error; quote the request id"),
                    request_id,
                    state,
                )


def payload_too_large() -> ApiError:
    return ApiError(413, "PAYLOAD_TOO_LARGE", f"Request body over {MAX_BODY} bytes")
