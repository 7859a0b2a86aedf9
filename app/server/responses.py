"""JSON responses written straight from wire dicts: response models document the API, but the
hot path does not validate what the storage layer already built."""

from __future__ import annotations

from typing import Any

from fastapi import Query
from starlette.responses import JSONResponse

from app.server.errors import dumps

PAGE_DEFAULT, PAGE_MAX = 100, 200
MESSAGE_PAGE_DEFAULT, MESSAGE_PAGE_MAX = 50, 100


class JSON(JSONResponse):
    """A JSONResponse (so FastAPI documents the route's response_model) with compact UTF-8 output."""

    def render(self, content: Any) -> bytes:
        return dumps(content)


class RenderedJSON(JSON):
    """A JSON answer whose body was rendered before (by `JSON.render`, so the same bytes): for
    answers kept in a cache as sent."""

    def render(self, content: Any) -> bytes:
        return content


def page(items: list[Any], next_cursor: str | None) -> JSON:
    return JSON({"items": items, "nextCursor": next_cursor})


def limit_query(default: int, maximum: int):
    return Query(default, ge=1, le=maximum, description=f"Page size (default {default}, max {maximum})")
