"""What the server tests share: checking the error envelope, and valid request bodies to vary."""

from __future__ import annotations

from typing import Any

import httpx


def assert_error(
    response: httpx.Response, status: int, code: str, details: dict[str, str] | None = None
) -> dict[str, Any]:
    """The response is the contract's error envelope with this status and code; with `details`,
    the failing fields are exactly these (`{path: reason}`)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"]
    assert error["requestId"] == response.headers["x-request-id"]
    if details is not None:
        got = {d["path"]: d["reason"] for d in error.get("details", [])}
        assert got == details, error
        assert len(error["details"]) == len(got), "one detail per field"
    return error


def leg_body(**fields: Any) -> dict[str, Any]:
    return {
        "order": 0,
        "title": "Tokyo",
        "destination": "Tokyo",
        "startDate": "2026-07-15",
        "endDate": "2026-07-20",
        "timezone": "Asia/Tokyo",
        **fields,
    }


def pin_body(**fields: Any) -> dict[str, Any]:
    return {"name": "Sensoji", "lat": 35.7148, "lng": 139.7967, **fields}


def item_body(**fields: Any) -> dict[str, Any]:
    return {"text": "Book the ryokan", "urgency": "before_trip", **fields}


def commitment_body(**fields: Any) -> dict[str, Any]:
    return {"title": "Dinner at Kikunoi", "startDate": "2026-07-16", "category": "dinner", **fields}


async def created(http: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await http.post(path, json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def walk(http: httpx.AsyncClient, path: str, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Every item of a list endpoint, following nextCursor; also returns the number of pages."""
    items, cursor, pages = [], None, 0
    while True:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        response = await http.get(path, params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["items"]) <= limit
        items += body["items"]
        pages += 1
        cursor = body["nextCursor"]
        if cursor is None:
            return items, pages
        assert pages < 1000
