"""A trip export built in memory, the shape `GET /trips/{id}/export` answers."""

from __future__ import annotations

from typing import Any

from app.domain import TripExport


def stored(_id: str, **fields: Any) -> dict[str, Any]:
    return {"_id": _id, "_creationTime": 1_700_000_000_000, "tripId": "trip1", **fields}


def export(*, title: str = "Summer", legs=(), commitments=(), pins=(), action_items=()) -> TripExport:
    return TripExport.model_validate(
        {
            "trip": {
                "_id": "trip1",
                "_creationTime": 1,
                "groupId": "g1",
                "title": title,
                "startDate": "2026-07-01",
                "endDate": "2026-07-31",
                "status": "active",
                "revision": 7,
                "createdBy": "u1",
            },
            "legs": list(legs),
            "mapPins": list(pins),
            "actionItems": list(action_items),
            "commitments": list(commitments),
            "members": [],
        }
    )


def leg(_id: str = "leg1", timezone: str = "Europe/London", **fields: Any) -> dict[str, Any]:
    base = dict(
        order=1,
        title="London",
        destination="London",
        startDate="2026-07-10",
        endDate="2026-07-14",
        timezone=timezone,
    )
    base.update(fields)
    return stored(_id, **base)


def commitment(_id: str = "c1", **fields: Any) -> dict[str, Any]:
    base = dict(
        title="Dinner",
        startDate="2026-07-11",
        category="dinner",
        startTime="19:00",
        endTime="21:00",
        isAllDay=False,
        timezone="Europe/London",
    )
    base.update(fields)
    return stored(_id, **base)


def pin(_id: str = "p1", **fields: Any) -> dict[str, Any]:
    base = dict(name="Tower Bridge", lat=51.5055, lng=-0.0754, category="sight", notes=None, clientRef=None)
    base.update(fields)
    return stored(_id, **base)
