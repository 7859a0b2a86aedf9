"""Itinerary events derived from stored rows: each commitment, flight, stay check-in and rental
car pickup is one event with a stable id (`<legId>.flight.0`)."""

from __future__ import annotations

from typing import Any, Mapping


def _split(local: str | None) -> tuple[str | None, str | None]:
    if not local:
        return None, None
    return local[:10], local[11:16] or None


def commitment_event(row: Mapping[str, Any], leg_timezones: Mapping[str, str] | None = None) -> dict[str, Any]:
    all_day = bool(row["is_all_day"])
    timezone = row["timezone"]
    if timezone is None and leg_timezones and row["leg_id"]:
        timezone = leg_timezones.get(row["leg_id"])
    return {
        "id": row["id"],
        "type": row["category"],
        "title": row["title"],
        "date": row["start_date"],
        "time": None if all_day else row["start_time"],
        "end_date": None if all_day or not row["end_time"] else row["start_date"],
        "end_time": None if all_day else row["end_time"],
        "timezone": timezone,
        "leg_id": row["leg_id"],
        "map_pin_id": row["map_pin_id"],
        "source": "commitment",
    }


def leg_events(row: Mapping[str, Any]) -> list[dict[str, Any]]:
    leg_id, tz = row["id"], row["timezone"]
    events = []
    for i, flight in enumerate(row["flights"] or []):
        date, time = _split(flight.get("departureTime"))
        end_date, end_time = _split(flight.get("arrivalTime"))
        route = " → ".join(p for p in (flight.get("from"), flight.get("to")) if p)
        number = " ".join(p for p in (flight.get("airline"), flight.get("flightNumber")) if p)
        events.append(
            {
                "id": f"{leg_id}.flight.{i}",
                "type": "flight",
                "title": route or number or "Flight",
                "date": date or row["start_date"],
                "time": time,
                "end_date": end_date,
                "end_time": end_time,
                "timezone": tz,
                "leg_id": leg_id,
                "map_pin_id": None,
                "source": "leg",
            }
        )
    for i, stay in enumerate(row["stays"] or []):
        date, time = _split(stay.get("checkIn"))
        end_date, end_time = _split(stay.get("checkOut"))
        events.append(
            {
                "id": f"{leg_id}.accommodation.{i}",
                "type": "accommodation",
                "title": stay.get("name") or "Stay",
                "date": date or row["start_date"],
                "time": time,
                "end_date": end_date or row["end_date"],
                "end_time": end_time,
                "timezone": tz,
                "leg_id": leg_id,
                "map_pin_id": None,
                "source": "leg",
            }
        )
    car = row["rental_car"]
    if car:
        date, time = _split(car.get("pickupTime"))
        end_date, end_time = _split(car.get("dropoffTime"))
        events.append(
            {
                "id": f"{leg_id}.rental_car",
                "type": "rental_car",
                "title": car.get("company") or "Rental car",
                "date": date or row["start_date"],
                "time": time,
                "end_date": end_date,
                "end_time": end_time,
                "timezone": tz,
                "leg_id": leg_id,
                "map_pin_id": None,
                "source": "leg",
            }
        )
    return events


def event_changes(before: list[dict], after: list[dict]) -> list[tuple[str, str]]:
    """Which event ids were added, updated or removed between two event lists."""
    old = {e["id"]: e for e in before}
    new = {e["id"]: e for e in after}
    changes = [(i, "removed") for i in old if i not in new]
    for i, event in new.items():
        if i not in old:
            changes.append((i, "added"))
        elif old[i] != event:
            changes.append((i, "updated"))
    return changes


def sort_key(event: Mapping[str, Any]) -> tuple:
    return (event["date"], event["time"] or "", event["id"])
