"""`create_app(settings)`: the trip API as an ASGI application."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic.alias_generators import to_camel
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.server.auth import KeyCache
from app.server.errors import ApiError, details_from_pydantic, validation_error
from app.server.middleware import RequestContextMiddleware
from app.server.responses import JSON
from app.server.routes import action_items, channels, commitments, legs, map_pins, me, members, trips
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
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return error_response(
            request, validation_error([{"path": "body", "reason": "invalid"}], "Malformed JSON in the request body")
        )
    details = details_from_pydantic(errors, skip_first=("body", "query", "path", "header"))
    for detail in details:
        if detail["path"] == "":
            detail["path"] = "body"
    return error_response(request, validation_error(details))


async def on_http_error(request: Request, exc: StarletteHTTPException) -> JSON:
    codes = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "PAYLOAD_TOO_LARGE", 401: "UNAUTHORIZED", 403: "FORBIDDEN"}
    code = codes.get(exc.status_code, "BAD_REQUEST" if exc.status_code < 500 else "INTERNAL_ERROR")
    message = {404: "No such route", 405: f"Method {request.method} not allowed here"}.get(exc.status_code, str(exc.detail))
    headers = dict(exc.headers or {})
    return error_response(request, ApiError(exc.status_code, code, message, headers=headers))


# PostgreSQL refuses some text that SQLite stores: U+0000 (character_not_in_repertoire) and,
# in non-UTF-8 databases, characters the encoding lacks. Bodies are checked by the models; this
# answers the rest (ids in paths, query parameters, headers) with 400 instead of 500.
UNSTORABLE_TEXT = {"22021", "22P05"}


async def on_database_error(request: Request, exc: DBAPIError) -> JSON:
    sqlstate = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    if sqlstate not in UNSTORABLE_TEXT:
        raise exc
    details = [
        {"path": to_camel(name), "reason": "invalid"} for name, value in request.path_params.items() if "\x00" in str(value)
    ]
    details += [{"path": name, "reason": "invalid"} for name, value in request.query_params.multi_items() if "\x00" in value]
    return error_response(
        request,
        validation_error(details or [{"path": "body", "reason": "invalid"}], "Text may not contain the NUL character (U+0000)"),
    )


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    settings = settings or Settings()
    db = database or Database(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if settings.migrate:
            await db.migrate()
        yield
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
    app.state.key_cache = KeyCache()
    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(DBAPIError, on_database_error)
    app.add_middleware(RequestContextMiddleware)
    for module in (me, trips, legs, action_items, commitments, map_pins, channels, members):
        app.include_router(module.router, prefix=API_PREFIX)
    return app
