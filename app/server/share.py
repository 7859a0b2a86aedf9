"""The safe projection of a trip that share tokens expose.

Built from an allowlist: a field appears only if it is named here, so a field added to a model
later stays private until someone decides it is safe. Never listed: wifiPassword, doorCode,
hostPhone, confirmationNumber, checkInInstructions, seats, clientRefs, member emails and phones,
messages, and free-text stay notes (hosts write door codes there).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, overload

# Opaque ids (groupId, createdBy) stay: they are no secret, and keep the export's shape, so a
# client parses a shared snapshot with the same model as a full one.
TRIP = (
    "_id",
    "_creationTime",
    "groupId",
    "title",
    "startDate",
    "endDate",
    "status",
    "revision",
    "createdBy",
    "memberCount",
    "minConnectionMinutes",
)
STAY = ("name", "address", "lat", "lng", "checkIn", "checkOut")
FLIGHT = (
    "airline",
    "flightNumber",
    "from",
    "to",
    "departureTime",
    "arrivalTime",
    "departureTimezone",
    "departureTimezoneSource",
    "arrivalTimezone",
    "arrivalTimezoneSource",
)
RENTAL_CAR = ("company", "pickupLocation", "pickupTime", "dropoffLocation", "dropoffTime")
LEG = ("_id", "_creationTime", "tripId", "order", "title", "destination", "startDate", "endDate", "timezone")
MAP_PIN = ("_id", "_creationTime", "tripId", "name", "lat", "lng", "category", "notes")
ACTION_ITEM = ("_id", "_creationTime", "tripId", "text", "urgency", "owner", "done")
COMMITMENT = (
    "_id",
    "_creationTime",
    "tripId",
    "title",
    "startDate",
    "startTime",
    "endTime",
    "isAllDay",
    "timezone",
    "category",
    "legId",
    "mapPinId",
    "notes",
)
MEMBER = ("userId", "name", "role")


@overload
def pick(wire: Mapping[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]: ...
@overload
def pick(wire: Mapping[str, Any] | None, allowed: tuple[str, ...]) -> dict[str, Any] | None: ...
def pick(wire: Mapping[str, Any] | None, allowed: tuple[str, ...]) -> dict[str, Any] | None:
    if wire is None:
        return None
    return {name: wire[name] for name in allowed if name in wire}


def leg(wire: Mapping[str, Any]) -> dict[str, Any]:
    safe = pick(wire, LEG)
    stays = [pick(stay, STAY) for stay in wire.get("stays") or []]
    safe["accommodation"] = stays[0] if stays else None
    safe["stays"] = stays
    safe["flights"] = [pick(flight, FLIGHT) for flight in wire.get("flights") or []]
    safe["rentalCar"] = pick(wire.get("rentalCar"), RENTAL_CAR)
    return safe


def trip(wire: Mapping[str, Any]) -> dict[str, Any]:
    return pick(wire, TRIP)


def snapshot(full: Mapping[str, Any]) -> dict[str, Any]:
    """The export snapshot (`trip_snapshot`) reduced to its safe projection, same shape."""
    return {
        "trip": trip(full["trip"]),
        "legs": [leg(w) for w in full["legs"]],
        "mapPins": [pick(w, MAP_PIN) for w in full["mapPins"]],
        "actionItems": [pick(w, ACTION_ITEM) for w in full["actionItems"]],
        "commitments": [pick(w, COMMITMENT) for w in full["commitments"]],
        "members": [pick(w, MEMBER) for w in full["members"]],
    }
