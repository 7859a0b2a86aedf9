"""Itinerary events derived from stored rows: each commitment, flight, stay check-in and rental
car pickup is one event with a stable id (`<legId>.flight.0`), with its instants (`starts_at`,
`ends_at`: RFC 3339 with the offset of the event's zone; API-CONTRACT section 12)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.domain.localtime import aware, combine, flight_zones, parse_local, rfc3339


def _split(local: str | None) -> tuple[str | None, str | None]:
    if not local:
        return None, None
    return local[:10], local[11:16] or None


def _at(local: str | None, zone: str | None, instants: bool = True) -> str | None:
    return rfc3339(aware(parse_local(local), zone)) if instants else None


def commitment_zone(row: Mapping[str, Any], leg_timezones: Mapping[str, str] | None) -> str | None:
    """A commitment's times are in its own `timezone`, else its leg's (else nowhere: floating)."""
    if row["timezone"] is None and leg_timezones and row["leg_id"]:
        return leg_timezones.get(row["leg_id"])
    return row["timezone"]


def commitment_event(
    row: Mapping[str, Any], leg_timezones: Mapping[str, str] | None = None, *, instants: bool = True
) -> dict[str, Any]:
    """`leg_timezones` ({leg id: timezone}) gives a commitment without a zone its leg's.
    `instants=False` leaves `starts_at` / `ends_at` null (the summary has no use for them)."""
    all_day = bool(row["is_all_day"])
    timezone = commitment_zone(row, leg_timezones)
    timed = instants and not all_day and row["start_time"]
    return {
        "id": row["id"],
        "type": row["category"],
        "title": row["title"],
        "date": row["start_date"],
        "time": None if all_day else row["start_time"],
        "end_date": None if all_day or not row["end_time"] else row["start_date"],
        "end_time": None if all_day else row["end_time"],
        "timezone": timezone,
        "starts_at": rfc3339(aware(combine(row["start_date"], row["start_time"]), timezone))
        if timed
        else None,
        "ends_at": (
            rfc3339(aware(combine(row["start_date"], row["end_time"]), timezone))
            if timed and row["end_time"]
            else None
        ),
        "end_timezone": None,
        "leg_id": row["leg_id"],
        "map_pin_id": row["map_pin_id"],
        "source": "commitment",
    }


def leg_events(row: Mapping[str, Any], *, instants: bool = True) -> list[dict[str, Any]]:
    leg_id, tz = row["id"], row["timezone"]
    events = []
    for i, flight in enumerate(row["flights"] or []):
        date, time = _split(flight.get("departureTime"))
        end_date, end_time = _split(flight.get("arrivalTime"))
        route = " → ".join(p for p in (flight.get("from"), flight.get("to")) if p)
        number = " ".join(p for p in (flight.get("airline"), flight.get("flightNumber")) if p)
        zones = flight_zones(flight, tz)
        arrives = flight.get("arrivalTime")
        events.append(
            {
                "id": f"{leg_id}.flight.{i}",
                "type": "flight",
                "title": route or number or "Flight",
                "date": date or row["start_date"],
                "time": time,
                "end_date": end_date,
                "end_time": end_time,
                "timezone": zones.departure,
                "starts_at": _at(flight.get("departureTime"), zones.departure, instants),
                "ends_at": _at(arrives, zones.arrival, instants),
                "end_timezone": zones.arrival if arrives and zones.arrival != zones.departure else None,
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
                "starts_at": _at(stay.get("checkIn"), tz, instants),
                "ends_at": _at(stay.get("checkOut"), tz, instants),
                "end_timezone": None,
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
                "starts_at": _at(car.get("pickupTime"), tz, instants),
                "ends_at": _at(car.get("dropoffTime"), tz, instants),
                "end_timezone": None,
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
