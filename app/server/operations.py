"""The timeline engine behind `POST /trips/{tripId}/ops`: one revision-checked operation at a
time (add_event, move_event, update_event, remove_event, reorder), written through the same
storage path as REST so every change lands in the operation log the same way.

Rules an op must fit (else 409 OPERATION_REJECTED, saying why):
- the event it names exists at the current revision;
- an event it adds, moves or re-dates stays within the trip's dates (an event already outside
  may still be edited in place: only a change of date is checked);
- a moved commitment keeps its duration and must still end by midnight;
- reorder names every leg of the trip exactly once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

import app.domain.localtime as localtime
from app.domain import models as m
from app.domain.itinerary import EventRef, MovePayload, OpRequest, ReorderPayload
from app.domain.localtime import flight_zones
from app.server.auth import ApiKey
from app.server.errors import ApiError, from_pydantic, validation_error
from app.server.storage import content
from app.server.storage import tables as t
from app.server.storage.revisions import lock_at_revision, note_row, record_change

Row = dict[str, Any]
Changes = list[tuple[str, str]]

# For each kind of derived event: the leg field holding it, the model of one entry, and the
# keys of its local start and end times.
DERIVED: dict[str, tuple[str, type[BaseModel], str, str]] = {
    "flight": ("flights", m.Flight, "departureTime", "arrivalTime"),
    "accommodation": ("stays", m.Accommodation, "checkIn", "checkOut"),
    "rental_car": ("rental_car", m.RentalCar, "pickupTime", "dropoffTime"),
}
LOCAL = "%Y-%m-%dT%H:%M"


def rejected(message: str, path: str | None = None) -> ApiError:
    details = [{"path": path, "reason": "invalid"}] if path else None
    return ApiError(
        409, "OPERATION_REJECTED", message, details, extra={"code": "OPERATION_REJECTED", "reason": message}
    )


def _validate(model: type[BaseModel], payload: Any, prefix: str = "payload") -> Any:
    if not isinstance(payload, dict):
        raise validation_error([{"path": prefix, "reason": "invalid"}], "payload must be a JSON object")
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise from_pydantic(exc, prefix=prefix) from None


# --- finding the event an op names --------------------------------------------------------


class Target:
    """The stored thing behind an event id: a commitment row, or one entry inside a leg."""

    def __init__(self, event_id: str, kind: str, row: Row, index: int | None = None) -> None:
        self.event_id = event_id
        self.kind = kind  # commitment | flight | accommodation | rental_car
        self.row = row
        self.index = index

    @property
    def entry(self) -> dict[str, Any]:
        field = DERIVED[self.kind][0]
        return dict(self.row[field] if self.index is None else self.row[field][self.index])

    def leg_update(self, entry: dict[str, Any] | None) -> m.LegUpdate:
        """The leg PATCH body that replaces this entry (None removes it)."""
        field = DERIVED[self.kind][0]
        if self.index is None:
            body: dict[str, Any] = {"rentalCar": entry}
        else:
            entries = list(self.row[field])
            if entry is None:
                del entries[self.index]
            else:
                entries[self.index] = entry
            body = {field: entries}
        return _validate(m.LegUpdate, body, prefix="payload")


async def find_target(conn: AsyncConnection, trip: Mapping[str, Any], event_id: str) -> Target:
    """Commitment ids have no dots; derived ids are `<legId>.flight.<n>`,
    `<legId>.accommodation.<n>` and `<legId>.rental_car`."""
    missing = rejected(
        f"No event {event_id!r} in the itinerary at revision {trip['revision']}", "payload.event_id"
    )
    parts = event_id.split(".")
    kind = content.COMMITMENT if len(parts) == 1 else content.LEG
    try:
        row = await content.get_row(conn, kind, trip["id"], parts[0])
    except ApiError:
        raise missing from None
    if len(parts) == 1:
        return Target(event_id, "commitment", row)
    if len(parts) == 2 and parts[1] == "rental_car" and row["rental_car"]:
        return Target(event_id, "rental_car", row)
    if len(parts) == 3 and parts[1] in ("flight", "accommodation") and parts[2].isdigit():
        index = int(parts[2])
        field = DERIVED[parts[1]][0]
        if parts[2] == str(index) and index < len(row[field] or []):
            return Target(event_id, parts[1], row, index)
    raise missing


def _event(kind: content.Kind, row: Mapping[str, Any], event_id: str) -> dict[str, Any] | None:
    return next((e for e in content.row_events(kind, row) if e["id"] == event_id), None)


def _require_within_trip(trip: Mapping[str, Any], event: Mapping[str, Any]) -> None:
    last = max(event["date"], event["end_date"] or event["date"])
    if event["date"] < trip["start_date"] or last > trip["end_date"]:
        when = event["date"] if last == event["date"] else f"{event['date']} to {last}"
        raise rejected(
            f"{event['type']} “{event['title']}” would be on {when}, outside the trip "
            f"({trip['start_date']} to {trip['end_date']})",
            "payload.date",
        )


async def _update(
    conn: AsyncConnection,
    trip: Mapping[str, Any],
    kind: content.Kind,
    existing: Row,
    data: BaseModel,
    event_id: str,
) -> Changes:
    """Write `data` into the row through the REST path, after checking the changed event still
    fits the trip (only when its dates changed)."""
    merged, _ = content.merge(kind, existing, data)
    before, after = _event(kind, existing, event_id), _event(kind, {**existing, **merged}, event_id)
    if before and after and (before["date"], before["end_date"]) != (after["date"], after["end_date"]):
        _require_within_trip(trip, after)
    outcome = await content.update_row(conn, kind, trip, existing["id"], data)
    return outcome.changes


# --- the ops ------------------------------------------------------------------------------


async def add_event(conn: AsyncConnection, trip: Mapping[str, Any], payload: Any) -> Changes:
    data = _validate(m.CommitmentCreate, payload)
    changes, _ = content.merge(content.COMMITMENT, content.DEFAULTS["commitment"], data)
    row = {**content.DEFAULTS["commitment"], **changes, "id": "new"}
    if "start_date" in row and "title" in row:
        _require_within_trip(trip, content.row_events(content.COMMITMENT, row)[0])
    outcome = await content.upsert(conn, content.COMMITMENT, trip, data)
    return outcome.changes


def _minutes(hhmm: str) -> int:
    return int(hhmm[:2]) * 60 + int(hhmm[3:5])


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _flight_arrival(
    flight: Mapping[str, Any], old_departure: str, new_departure: dt.datetime, leg_zone: str
) -> str | None:
    """The local arrival of a flight moved to depart at `new_departure`, the same time in the air
    later; None when a zone or a time is unknown (the caller shifts the local time instead)."""
    zones = flight_zones(flight, leg_zone)
    departs = localtime.utc(localtime.aware(localtime.parse_local(old_departure), zones.departure))
    lands = localtime.utc(localtime.aware(localtime.parse_local(flight.get("arrivalTime")), zones.arrival))
    moved = localtime.utc(localtime.aware(new_departure, zones.departure))
    arrival_zone = localtime.zone(zones.arrival)
    if departs is None or lands is None or moved is None or arrival_zone is None:
        return None
    return (moved + (lands - departs)).astimezone(arrival_zone).strftime(LOCAL)


async def move_event(conn: AsyncConnection, trip: Mapping[str, Any], payload: Any) -> Changes:
    move = _validate(MovePayload, payload)
    target = await find_target(conn, trip, move.event_id)
    if target.kind == "commitment":
        row = target.row
        fields: dict[str, Any] = {"start_date": move.date}
        if move.time is not None:
            if row["is_all_day"] or not row["start_time"]:
                keep_end = not row["is_all_day"] and row["end_time"] and row["end_time"] > move.time
                fields.update(
                    is_all_day=False, start_time=move.time, end_time=row["end_time"] if keep_end else None
                )
            else:
                fields["start_time"] = move.time
                if row["end_time"]:
                    end = _minutes(row["end_time"]) + _minutes(move.time) - _minutes(row["start_time"])
                    if end >= 24 * 60:
                        raise rejected(
                            f"“{row['title']}” lasts {row['start_time']}–{row['end_time']}; starting at "
                            f"{move.time} it would end after midnight",
                            "payload.time",
                        )
                    fields["end_time"] = _hhmm(end)
        return await _update(
            conn, trip, content.COMMITMENT, row, m.CommitmentUpdate(**fields), target.event_id
        )
    _, _, start_key, end_key = DERIVED[target.kind]
    entry = target.entry
    old_start = entry.get(start_key)
    time = move.time or (old_start[11:16] if old_start else None)
    if time is None:
        raise rejected(f"Event {target.event_id!r} has no time yet: give `time` to move it", "payload.time")
    new_start = dt.datetime.strptime(f"{move.date}T{time}", LOCAL)
    entry[start_key] = new_start.strftime(LOCAL)
    if old_start and entry.get(end_key):
        # A move keeps the duration: the arrival, check-out or drop-off shifts with it. A flight
        # keeps its time in the air (instants: its ends are in two zones, whose offsets may change
        # between the dates); a stay or a car keeps its local hours (check-out stays at 11:00).
        shift = new_start - dt.datetime.strptime(old_start, LOCAL)
        try:
            entry[end_key] = (
                _flight_arrival(entry, old_start, new_start, target.row["timezone"])
                if target.kind == "flight"
                else None
            ) or (dt.datetime.strptime(entry[end_key], LOCAL) + shift).strftime(LOCAL)
        except OverflowError:
            raise rejected(
                f"Moving {target.event_id!r} would push its end past the calendar", "payload.date"
            ) from None
    return await _update(conn, trip, content.LEG, target.row, target.leg_update(entry), target.event_id)


async def update_event(conn: AsyncConnection, trip: Mapping[str, Any], payload: Any) -> Changes:
    if not isinstance(payload, dict):
        raise validation_error([{"path": "payload", "reason": "invalid"}], "payload must be a JSON object")
    ref = _validate(EventRef, {"event_id": payload.get("event_id")})
    fields = {k: v for k, v in payload.items() if k != "event_id"}
    target = await find_target(conn, trip, ref.event_id)
    if target.kind == "commitment":
        data = _validate(m.CommitmentUpdate, fields)
        return await _update(conn, trip, content.COMMITMENT, target.row, data, target.event_id)
    model = DERIVED[target.kind][1]
    sent = _validate(model, fields).model_dump(by_alias=True, exclude_unset=True)
    return await _update(
        conn, trip, content.LEG, target.row, target.leg_update({**target.entry, **sent}), target.event_id
    )


async def remove_event(conn: AsyncConnection, trip: Mapping[str, Any], payload: Any) -> Changes:
    ref = _validate(EventRef, payload)
    target = await find_target(conn, trip, ref.event_id)
    if target.kind == "commitment":
        return (await content.delete_row(conn, content.COMMITMENT, trip, target.row["id"])).changes
    return (
        await content.update_row(conn, content.LEG, trip, target.row["id"], target.leg_update(None))
    ).changes


async def reorder(conn: AsyncConnection, trip: Mapping[str, Any], payload: Any) -> Changes:
    order = _validate(ReorderPayload, payload)
    legs = await content.list_all(conn, content.LEG, trip["id"])
    current = {leg["id"]: leg for leg in legs}
    seen: set[str] = set()
    repeated = [i for i in order.leg_ids if i in seen or seen.add(i)]  # type: ignore[func-returns-value]
    unknown = [i for i in order.leg_ids if i not in current]
    missing = [i for i in current if i not in seen]
    if repeated or unknown or missing:
        problems = []
        if repeated:
            problems.append(f"repeats {', '.join(repeated)}")
        if unknown:
            problems.append(f"names legs not in this trip: {', '.join(unknown)}")
        if missing:
            problems.append(f"leaves out {', '.join(missing)}")
        raise rejected(
            "leg_ids must list every leg of the trip exactly once; it " + "; ".join(problems),
            "payload.leg_ids",
        )
    for index, leg_id in enumerate(order.leg_ids):
        if current[leg_id]["order"] != float(index):
            await conn.execute(update(t.legs).where(t.legs.c.id == leg_id).values(order=float(index)))
            note_row(conn, content.LEG.name, current[leg_id], {**current[leg_id], "order": float(index)})
    return []  # leg order is not part of any event


HANDLERS: dict[str, Callable[[AsyncConnection, Mapping[str, Any], Any], Awaitable[Changes]]] = {
    "add_event": add_event,
    "move_event": move_event,
    "update_event": update_event,
    "remove_event": remove_event,
    "reorder": reorder,
}


async def apply(
    conn: AsyncConnection, trip_id: str, request: OpRequest, actor: ApiKey | None = None
) -> dict[str, Any]:
    """Apply one op in the caller's write transaction. The revision check comes first, so a stale
    op fails with STALE_REVISION before it reads or writes anything else."""
    trip = await lock_at_revision(conn, trip_id, request.base_revision)
    changes = await HANDLERS[request.type](conn, trip, request.payload)
    revision = await record_change(
        conn, trip_id, request.type, changes, base_revision=request.base_revision, actor=actor
    )
    return {
        "success": True,
        "trip_id": trip_id,
        "new_revision": revision,
        "operation": request.type,
        "result": {"affected_event_ids": [event_id for event_id, _ in changes]},
    }
