"""Rows to wire dicts (camelCase, as the contract returns them): the one place that knows both."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.domain.localtime import flight_zones


def _stored(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"_id": row["id"], "_creationTime": row["created_at"]}


def trip(row: Mapping[str, Any], member_count: int | None = None) -> dict[str, Any]:
    wire = {
        **_stored(row),
        "groupId": row["group_id"],
        "title": row["title"],
        "startDate": row["start_date"],
        "endDate": row["end_date"],
        "status": row["status"],
        "revision": row["revision"],
        "createdBy": row["created_by"],
        "minConnectionMinutes": row["min_connection_minutes"],
    }
    if member_count is not None:
        wire["memberCount"] = member_count
    return wire


def flight(stored: Mapping[str, Any], leg_zone: str | None) -> dict[str, Any]:
    """A stored flight with the zones in use and where they came from (API-CONTRACT section 12)."""
    zones = flight_zones(stored, leg_zone)
    return {
        **stored,
        "departureTimezone": zones.departure,
        "departureTimezoneSource": zones.departure_source,
        "arrivalTimezone": zones.arrival,
        "arrivalTimezoneSource": zones.arrival_source,
    }


def whole(number: float) -> float | int:
    """7.0 as 7: orders are whole numbers (API-CONTRACT), kept in a float column for older data."""
    return int(number) if isinstance(number, float) and number.is_integer() else number


def leg(row: Mapping[str, Any]) -> dict[str, Any]:
    stays = row["stays"] or []
    return {
        **_stored(row),
        "tripId": row["trip_id"],
        "order": whole(row["order"]),
        "title": row["title"],
        "destination": row["destination"],
        "startDate": row["start_date"],
        "endDate": row["end_date"],
        "timezone": row["timezone"],
        "accommodation": stays[0] if stays else None,
        "stays": stays,
        "flights": [flight(f, row["timezone"]) for f in row["flights"] or []],
        "rentalCar": row["rental_car"],
        "clientRef": row["client_ref"],
    }


def action_item(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        **_stored(row),
        "tripId": row["trip_id"],
        "text": row["text"],
        "urgency": row["urgency"],
        "owner": row["owner"],
        "done": bool(row["done"]),
        "clientRef": row["client_ref"],
    }


def commitment(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        **_stored(row),
        "tripId": row["trip_id"],
        "title": row["title"],
        "startDate": row["start_date"],
        "startTime": row["start_time"],
        "endTime": row["end_time"],
        "isAllDay": bool(row["is_all_day"]),
        "timezone": row["timezone"],
        "category": row["category"],
        "legId": row["leg_id"],
        "mapPinId": row["map_pin_id"],
        "notes": row["notes"],
    }


def map_pin(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        **_stored(row),
        "tripId": row["trip_id"],
        "name": row["name"],
        "lat": row["lat"],
        "lng": row["lng"],
        "category": row["category"],
        "notes": row["notes"],
        "clientRef": row["client_ref"],
    }


def channel(row: Mapping[str, Any]) -> dict[str, Any]:
    return {**_stored(row), "tripId": row["trip_id"], "name": row["name"]}


def message(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        **_stored(row),
        "tripId": row["trip_id"],
        "channelId": row["channel_id"],
        "authorId": row["author_id"],
        "authorName": row["author_name"],
        "content": row["content"],
        "parentId": row["parent_id"],
    }


def member(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "userId": row["user_id"],
        "name": row["name"],
        "email": row["email"],
        "phone": row["phone"],
        "role": row["role"],
    }
