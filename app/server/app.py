"""`create_app(settings)`: the trip API as an ASGI application."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic.alias_generators import to_camel
from sqlalchemy.exc import StatementError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import ExceptionHandler

from app.server.auth import HeardCaches, KeyCache, KeyUse, MeCache, MemberCache
from app.server.errors import ApiError, details_from_pydantic, validation_error
from app.server.hot_paths import HotPaths
from app.server.idempotency import IdempotencyStore, IdempotentReplay
from app.server.live import ChangeHub, PollingWaker
from app.server.middleware import RequestContextMiddleware
from app.server.pg_waker import PgNotifyWaker
from app.server.ratelimit import FailedAttempts, FailedAttemptsMiddleware, RateLimiter
from app.server.request_body import RequestBodyMiddleware, unreadable_body
from app.server.responses import JSON
from app.server.routes import (
    action_items,
    batch,
    changes,
    channels,
    commitments,
    itinerary,
    legs,
    map_pins,
    me,
    members,
    ops,
    shared,
    ssh_keys,
    sync,
    trips,
)
from app.server.settings import Settings
from app.server.storage.database import Database

API_PREFIX = "/api/v1"

DESCRIPTION = """
The Tripdeck trip API: trips, legs (stays, flights, rental cars), map pins, a checklist,
commitments and a group chat. Authenticate with `Authorization: Bearer osk_...`.
Errors are `{"error": {"code", "message", "requestId", "details"?}}`.
"""


def error_response(request: Request, error: ApiError) -> JSON:
    request_id = request.scope.get("state", {}).get("request_id")
    return JSON(error.body(request_id), status_code=error.status, headers=error.headers)


async def on_api_error(request: Request, exc: ApiError) -> JSON:
    return error_response(request, exc)


async def on_validation_error(request: Request, exc: RequestValidationError) -> JSON:
    if problem := unreadable_body(request):  # not UTF-8 JSON: see app/server/request_body.py
        return error_response(request, validation_error([{"path": "body", "reason": "invalid"}], problem))
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return error_response(
            request,
            validation_error([{"path": "body", "reason": "invalid"}], "Malformed JSON in the request body"),
        )
    details = details_from_pydantic(errors, skip_first=("body", "query", "path", "header"))
    for detail in details:
        if detail["path"] == "":
            detail["path"] = "body"
    return error_response(request, validation_error(details))


async def on_replay(request: Request, exc: IdempotentReplay) -> Response:
    return exc.response()


async def on_http_error(request: Request, exc: StarletteHTTPException) -> JSON:
    if exc.status_code == 400:
        # FastAPI's own "error parsing the body" (e.g. a JSON number over Python's digit limit).
        return error_response(
            request,
            validation_error([{"path": "body", "reason": "invalid"}], "Malformed JSON in the request body"),
        )
    codes = {
        404: "NOT_FOUND",
        405: "METHOD_NOT_ALLOWED",
        413: "PAYLOAD_TOO_LARGE",
        401: "UNAUTHORIZED",
        403: "FORBIDDEN",
    }
    code = codes.get(exc.status_code, "BAD_REQUEST" if exc.status_code < 500 else "INTERNAL_ERROR")
    message = {404: "No such route", 405: f"Method {request.method} not allowed here"}.get(
        exc.status_code, str(exc.detail)
    )
    headers = dict(exc.headers or {})
    return error_response(request, ApiError(exc.status_code, code, message, headers=headers))


# PostgreSQL refuses some values that SQLite stores or compares: U+0000 in text
# (character_not_in_repertoire), characters a non-UTF-8 database lacks, and integers beyond a
# column's range (asyncpg checks int4/int8 before sending; SQLite overflows past int64). Bodies
# are checked by the models; this answers the rest (ids in paths, query parameters, cursors,
# headers) with 400 instead of 500.
UNSTORABLE_TEXT = {"22021", "22P05"}
OUT_OF_RANGE = {"22003"}


def unstorable_value(exc: StatementError) -> str | None:
    """What kind of unstorable input caused this database error, if that is what it was."""
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if sqlstate in UNSTORABLE_TEXT:
        return "text"
    message = str(orig)
    if (
        sqlstate in OUT_OF_RANGE
        or isinstance(orig, OverflowError)
        or "out of int" in message
        or ("invalid input for query argument" in message and "range" in message)
    ):
        return "number"
    return None


async def on_database_error(request: Request, exc: StatementError) -> JSON:
    kind = unstorable_value(exc)
    if kind is None:
        raise exc
    if kind == "text":
        suspect, message = (lambda value: "\x00" in value), "Text may not contain the NUL character (U+0000)"
    else:
        suspect, message = (
            (lambda value: value.lstrip("-").isdigit() and len(value) > 9),
            "A number is out of range",
        )
    details = [
        {"path": to_camel(name), "reason": "invalid"}
        for name, value in request.path_params.items()
        if suspect(str(value))
    ]
    details += [
        {"path": name, "reason": "invalid"}
        for name, value in request.query_params.multi_items()
        if suspect(value)
    ]
    if not details and kind == "number" and "cursor" in request.query_params:
        details = [{"path": "cursor", "reason": "invalid"}]
    return error_response(
        request, validation_error(details or [{"path": "body", "reason": "invalid"}], message)
    )


def handler(on_error: Callable[[Request, Any], Awaitable[Response]]) -> ExceptionHandler:
    """Starlette types every handler as taking any Exception; each of ours takes the one class it
    is registered for, which is all Starlette ever hands it."""
    return cast(ExceptionHandler, on_error)


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    settings = settings or Settings()
    db = database or Database(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if settings.migrate:
            await db.migrate()
        hub.start()  # its waker also tells the key and member caches about changes
        yield
        await limiter.close()  # the one made here, whatever a test put in its place
        await hub.close()
        await app.state.key_use.close()
        await db.dispose()

    app = FastAPI(
        title="Tripdeck API",
        version="1.0.0",
        description=DESCRIPTION,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        lifespan=lifespan,
        default_response_class=JSON,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.rate_limiter = limiter = RateLimiter(db, settings.rate_limit)
    app.state.failed_attempts = FailedAttempts(
        db, settings.failed_auth_limit, trusted_proxies=settings.trusted_proxies
    )
    app.state.idempotency = IdempotencyStore(db)
    app.state.key_cache = key_cache = KeyCache()
    app.state.member_cache = member_cache = MemberCache()
    app.state.me_cache = me_cache = MeCache()
    app.state.key_use = KeyUse(db)
    # Long polls of the changes feed wake on local commits at once and on other processes'
    # writes through the waker: LISTEN/NOTIFY on PostgreSQL, a shared poll on SQLite. The key,
    # member and `GET /me` caches hear of deleted and changed keys, members and users the same way.
    caches = HeardCaches(key_cache, member_cache, me_cache)
    hub = ChangeHub(PollingWaker(db, keys=caches) if db.is_sqlite else PgNotifyWaker(db, keys=caches))
    db.commit_hooks.append(hub.on_commit)
    app.state.change_hub = hub
    app.add_exception_handler(ApiError, handler(on_api_error))
    app.add_exception_handler(RequestValidationError, handler(on_validation_error))
    app.add_exception_handler(StarletteHTTPException, handler(on_http_error))
    app.add_exception_handler(IdempotentReplay, handler(on_replay))
    app.add_exception_handler(StatementError, handler(on_database_error))
    # Innermost (the last added runs first): `GET /me` and sending a message are answered here,
    # past FastAPI's routing and dependency solving, by the routes' own code (app/server/hot_paths.py).
    app.add_middleware(HotPaths, prefix=API_PREFIX)
    # Inside the one below: a body that is not UTF-8 JSON is answered
    # after the route's authentication, not before it (app/server/request_body.py).
    app.add_middleware(RequestBodyMiddleware)
    # Also inside it: an address over its failed-attempt limit is refused before any routing.
    app.add_middleware(FailedAttemptsMiddleware, shared_prefix=f"{API_PREFIX}/shared/")
    # One middleware pass per request (request id, body limit, rate-limit headers, the 500);
    # it hands writes to the idempotency layer, which sees the route's response first.
    app.add_middleware(RequestContextMiddleware, store_of=lambda: app.state.idempotency)
    for module in (
        me,
        ssh_keys,
        trips,
        batch,
        sync,
        shared,
        legs,
        action_items,
        commitments,
        map_pins,
        channels,
        members,
        itinerary,
        ops,
        changes,
    ):
        app.include_router(module.router, prefix=API_PREFIX)
    document_without_422(app)
    return app


def document_without_422(app: FastAPI) -> None:
    """FastAPI documents a 422 HTTPValidationError on every operation; this API answers 400 with
    the error envelope instead (documented by `ErrorResponses`), so the 422s are dropped."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    operation.get("responses", {}).pop("422", None)
            for name in ("HTTPValidationError", "ValidationError"):
                schema.get("components", {}).get("schemas", {}).pop(name, None)
            return schema  # what FastAPI keeps as app.openapi_schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
