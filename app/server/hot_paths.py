"""The two busiest requests (`GET /me`, `POST .../channels/{id}/messages`) answered without
FastAPI's route matching and dependency solving, by the same code as their routes.

`HotPaths` is the innermost middleware, so the request id, the body limit, the failed-attempt
limit, the body check and the idempotency layer have all run as for any request. It recognises
the two method and path shapes and calls what the routes' dependencies would: `authenticate`
(key, rate limit, Idempotency-Key claim), `load_chat_access`, then the route's own answer
(`routes.me.answer_me`, `routes.channels.answer_send_message`). An error is rendered by the app's
own exception handlers, as FastAPI's exception middleware would. The routes stay registered,
so the OpenAPI document lists them, and they still answer whatever this does not take: a message
body that is not a valid `MessageCreate` goes to FastAPI untouched (validating it first has no
side effect), so every validation answer comes from the one place that words them. FastAPI's
dependency overrides do not reach these two requests.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from app.domain import models as m
from app.domain.models import Scope
from app.server.auth import authenticate, load_chat_access
from app.server.request_body import STATE_KEY as BODY_PROBLEM
from app.server.routes.channels import answer_send_message
from app.server.routes.me import answer_me

MESSAGES_SCOPE = Scope.MESSAGES_WRITE.value


class HotPaths:
    """Pure ASGI: answers `GET {prefix}/me` and `POST {prefix}/trips/{tripId}/channels/{channelId}/messages`
    itself; hands everything else to `app` (the FastAPI stack: exception middleware, router)."""

    def __init__(self, app, prefix: str) -> None:
        self.app = app
        self.me_path = f"{prefix}/me"
        self.trips_prefix = f"{prefix}/trips/"

    async def __call__(self, scope, receive, send) -> None:
        # A root path changes how Starlette reads the path: leave such requests to it.
        if scope["type"] == "http" and not scope.get("root_path"):
            method = scope["method"]
            if method == "GET" and scope["path"] == self.me_path:
                await self._me(scope, receive, send)
                return
            if method == "POST" and (ids := self._message_path(scope["path"])) is not None:
                body = self._message_body(scope)
                if body is not None:
                    await self._send_message(scope, receive, send, *ids, body)
                    return
        await self.app(scope, receive, send)

    def _message_path(self, path: str) -> tuple[str, str] | None:
        """(tripId, channelId) when `path` is a message list's, as Starlette's `{name}` (one or
        more characters other than "/") would match it."""
        if not path.startswith(self.trips_prefix) or not path.endswith("/messages"):
            return None
        parts = path[len(self.trips_prefix) : -len("/messages")].split("/")
        if len(parts) != 3 or parts[1] != "channels" or not parts[0] or not parts[2]:
            return None
        return parts[0], parts[2]

    @staticmethod
    def _message_body(scope) -> m.MessageCreate | None:
        """The body as FastAPI would read it (`json.loads` of the bytes, then the model), or None
        when it is anything but a valid message: FastAPI then answers the request."""
        state = scope.get("state") or {}
        raw = state.get("raw_body")
        if not raw or BODY_PROBLEM in state:
            return None
        try:
            return m.MessageCreate.model_validate(json.loads(raw))
        except (ValueError, ValidationError):  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors
            return None

    async def _me(self, scope, receive, send) -> None:
        async def answer(request: Request) -> Response:
            return await answer_me(request, await authenticate(request))

        await _answer(scope, receive, send, answer)

    async def _send_message(
        self, scope, receive, send, trip_id: str, channel_id: str, body: m.MessageCreate
    ) -> None:
        scope["path_params"] = {"trip_id": trip_id, "channel_id": channel_id}

        async def answer(request: Request) -> Response:
            key = await authenticate(request)
            access = await load_chat_access(request, key, trip_id, MESSAGES_SCOPE)
            return await answer_send_message(request, access, channel_id, body)

        await _answer(scope, receive, send, answer)


async def _answer(scope, receive, send, answer: Callable[[Request], Awaitable[Response]]) -> None:
    """Send `answer(request)`, or what the app's exception handlers answer to its error."""
    request = Request(scope, receive, send)
    try:
        response = await answer(request)
    except Exception as error:
        response = await handled(request, error)
    await response(scope, receive, send)


async def handled(request: Request, error: Exception) -> Response:
    """The answer the app's exception handler for `error` gives (looked up along its classes, as
    Starlette does), or `error` raised again when none is registered (a 500 from the middleware)."""
    handlers = request.app.exception_handlers
    for cls in type(error).__mro__:
        handler = handlers.get(cls)
        if handler is not None:
            return await handler(request, error)
    raise error
