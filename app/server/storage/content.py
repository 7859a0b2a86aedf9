"""Trip content (legs, action items, commitments, map pins): create, clientRef upsert, update,
delete, list. One generic path for all four, so REST, batch, sync and ops behave the same.

Nothing here bumps the revision: each write returns an `Outcome` whose event changes the caller
records with `revisions.record_change`, once per logical operation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from pydantic import BaseModel
from sqlalchemy import Table, case, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

import app.domain.localtime as localtime
from app.domain import events
from app.domain import models as m
from app.domain.localtime import flight_zones
from app.server.clock import new_id, now_ms, plausible_id
from app.server.errors import ApiError, describe, not_found, validation_error
from app.server.storage import converters, pagination
from app.server.storage import tables as t
from app.server.storage.revisions import lock_trip, note_row

Row = dict[str, Any]
Details = list[dict[str, str]]


@dataclass
class Outcome:
    """What one write did: the row as it now stands and the itinerary events it changed."""

    status: str  # created | updated | deleted
    row: Row
    changes: list[tuple[str, str]]
    to_wire: Callable[[Mapping[str, Any]], dict[str, Any]]
    changed: bool = True
    """False for an update that sent only values the row already had: no write, no revision."""

    @property
    def wire(self) -> dict[str, Any]:
        return self.to_wire(self.row)


@dataclass(frozen=True)
class Kind:
    """What differs between the four kinds of trip content."""

    name: str  # leg, action_item, commitment, map_pin
    label: str
    table: Table
    create_model: type[BaseModel]
    update_model: type[BaseModel]
    to_wire: Callable[[Mapping[str, Any]], dict[str, Any]]
    required: frozenset[str]
    has_client_ref: bool

    def sort(self) -> list[Any]:
        c = self.table.c
        if self.name == "leg":
            return [c.order, c.id]
        if self.name == "commitment":
            untimed = case((c.is_all_day == True, ""), else_=func.coalesce(c.start_time, ""))  # noqa: E712
            return [c.start_date, untimed, c.id]
        return [c.created_at, c.id]


LEG = Kind(
    "leg",
    "Leg",
    t.legs,
    m.LegCreate,
    m.LegUpdate,
    converters.leg,
    frozenset({"order", "title", "destination", "start_date", "end_date", "timezone"}),
    True,
)
ACTION_ITEM = Kind(
    "action_item",
    "Action item",
    t.action_items,
    m.ActionItemCreate,
    m.ActionItemUpdate,
    converters.action_item,
    frozenset({"text", "urgency", "done"}),
    True,
)
COMMITMENT = Kind(
    "commitment",
    "Commitment",
    t.commitments,
    m.CommitmentCreate,
    m.CommitmentUpdate,
    converters.commitment,
    frozenset({"title", "start_date", "category", "is_all_day"}),
    False,
)
MAP_PIN = Kind(
    "map_pin",
    "Map pin",
    t.map_pins,
    m.MapPinCreate,
    m.MapPinUpdate,
    converters.map_pin,
    frozenset({"name", "lat", "lng"}),
    True,
)

KINDS = {k.name: k for k in (LEG, ACTION_ITEM, COMMITMENT, MAP_PIN)}

DEFAULTS: dict[str, Row] = {
    "leg": {"stays": [], "flights": [], "rental_car": None, "client_ref": None},
    "action_item": {"owner": None, "done": False, "client_ref": None},
    "commitment": {
        "start_time": None,
        "end_time": None,
        "is_all_day": False,
        "timezone": None,
        "leg_id": None,
        "map_pin_id": None,
        "notes": None,
    },
    "map_pin": {"category": None, "notes": None, "client_ref": None},
}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def _dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(by_alias=True, exclude_unset=True)


# --- events of one row --------------------------------------------------------------------


def row_events(
    kind: Kind, row: Mapping[str, Any] | None, leg_timezones: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """The itinerary events of one row; a commitment without a zone of its own needs its leg's
    zone in `leg_timezones` (see `leg_timezones_of`)."""
    if row is None:
        return []
    if kind is LEG:
        return events.leg_events(row)
    if kind is COMMITMENT:
        return [events.commitment_event(row, leg_timezones)]
    return []


async def leg_timezones_of(
    conn: AsyncConnection, trip_id: str, *rows: Mapping[str, Any] | None
) -> dict[str, str]:
    """{leg id: timezone} of the legs that these commitment rows link to and take their zone from."""
    wanted = {row["leg_id"] for row in rows if row and row.get("leg_id") and not row.get("timezone")}
    if not wanted:
        return {}
    found = await conn.execute(
        select(t.legs.c.id, t.legs.c.timezone).where(t.legs.c.trip_id == trip_id, t.legs.c.id.in_(wanted))
    )
    return {leg_id: zone for leg_id, zone in found}


async def _zoneless_linked(conn: AsyncConnection, trip_id: str, leg_id: str) -> list[Mapping[str, Any]]:
    query = select(t.commitments).where(
        t.commitments.c.trip_id == trip_id,
        t.commitments.c.leg_id == leg_id,
        t.commitments.c.timezone.is_(None),
    )
    return list(cast("Sequence[Mapping[str, Any]]", (await conn.execute(query)).mappings().all()))


GAPS_NAMED = 3
"""Times in a gap that an error message names; it counts the others (a message stays short)."""


def _some(messages: list[str]) -> str:
    named = "; ".join(messages[:GAPS_NAMED])
    return (
        named if len(messages) <= GAPS_NAMED else f"{named}; and {len(messages) - GAPS_NAMED} more in a gap"
    )


def _refuse_gaps(linked: list[Mapping[str, Any]], zone: str | None) -> None:
    gaps = [
        f"“{row['title']}”: {message}"
        for row in linked
        for _, message in times_in_gaps(COMMITMENT, row, zone)
    ]
    if gaps:
        raise validation_error([{"path": "timezone", "reason": "invalid"}], _some(gaps))


async def check_linked_times(conn: AsyncConnection, trip_id: str, leg_id: str, zone: str) -> None:
    """Refuse a leg's new zone in which a time of a commitment that takes the leg's zone does not
    exist (400, path `timezone`, the message naming the commitment and the gap)."""
    _refuse_gaps(await _zoneless_linked(conn, trip_id, leg_id), zone)


async def zone_changes_of_linked(
    conn: AsyncConnection, trip_id: str, leg_id: str, before: str | None, after: str | None
) -> list[tuple[str, str]]:
    """The events of commitments that take their zone from this leg, when its zone changes
    (`after` None: the leg goes, and its commitments float). A new zone in which one of their
    times does not exist (a DST gap) is refused (see `check_linked_times`)."""
    if before == after:
        return []
    linked = await _zoneless_linked(conn, trip_id, leg_id)
    _refuse_gaps(linked, after)
    changes: list[tuple[str, str]] = []
    for row in linked:
        changes += events.event_changes(
            row_events(COMMITMENT, row, {leg_id: before} if before else None),
            row_events(COMMITMENT, row, {leg_id: after} if after else None),
        )
    return changes


# --- merging a request body into a row ----------------------------------------------------


def _merge_leg(existing: Row, data: m.LegCreate | m.LegUpdate, sent: set[str], details: Details) -> Row:
    changes: Row = {}
    stays = list(existing.get("stays") or [])
    if "stays" in sent:
        if "accommodation" in sent:
            details.append({"path": "accommodation", "reason": "invalid"})
        by_ref = {s.get("clientRef"): s for s in stays if s.get("clientRef")}
        merged, refs = [], set()
        for i, stay in enumerate(data.stays or []):
            sent_stay = _dump(stay)
            ref = sent_stay.get("clientRef")
            if ref:  # stays without a clientRef are new every time
                if ref in refs:
                    details.append({"path": f"stays.{i}.clientRef", "reason": "invalid"})
                refs.add(ref)
            merged.append({**by_ref[ref], **sent_stay} if ref in by_ref else sent_stay)
        changes["stays"] = merged
    elif "accommodation" in sent:
        if data.accommodation is None:
            changes["stays"] = stays[1:]
        elif stays:
            changes["stays"] = [{**stays[0], **_dump(data.accommodation)}, *stays[1:]]
        else:
            changes["stays"] = [_dump(data.accommodation)]
    if "flights" in sent:
        changes["flights"] = [_stored_flight(_dump(f)) for f in data.flights or []]
    if "rental_car" in sent:
        car = data.rental_car
        changes["rental_car"] = None if car is None else {**(existing.get("rental_car") or {}), **_dump(car)}
    return changes


def _stored_flight(flight: Row) -> Row:
    """A flight as stored: a zone is kept only when it was given. One sent back as read, with
    its source `airport` or `leg`, was derived, and is derived again from the flight as it is now
    (a changed `from`, a leg moved to another zone)."""
    for end in ("departure", "arrival"):
        source = flight.pop(f"{end}TimezoneSource", None)
        if source in ("airport", "leg"):
            flight.pop(f"{end}Timezone", None)
    return flight


def stay_path(data: BaseModel) -> str:
    """How a body names its first stay: `accommodation` when it sent that, else `stays.0`."""
    return (
        "accommodation"
        if "accommodation" in data.model_fields_set and "stays" not in data.model_fields_set
        else "stays.0"
    )


def merge(kind: Kind, existing: Row, data: BaseModel) -> tuple[Row, Details]:
    """The column values that change when `data` (a create or update body) meets `existing`."""
    sent = set(data.model_fields_set)
    details: Details = []
    changes: Row = {}
    if kind is LEG:
        changes.update(_merge_leg(existing, cast("m.LegCreate | m.LegUpdate", data), sent, details))
        sent -= {"stays", "accommodation", "flights", "rental_car"}
    for name in sent:
        value = getattr(data, name)
        if value is None and name in kind.required:
            details.append({"path": camel(name), "reason": "invalid"})
            continue
        changes[name] = value.value if hasattr(value, "value") else value
    return changes, details


def _local_times(
    kind: Kind, row: Mapping[str, Any], zone: str | None, stay_path: str
) -> list[tuple[str, str | None, str | None]]:
    """(path, local `YYYY-MM-DDTHH:mm`, zone) of every local time of a leg or commitment row."""
    found: list[tuple[str, str | None, str | None]] = []
    if kind is COMMITMENT:
        if not row.get("is_all_day") and row.get("start_date"):
            for column, path in (("start_time", "startTime"), ("end_time", "endTime")):
                if row.get(column):
                    found.append((path, f"{row['start_date']}T{row[column]}", zone))
        return found
    for i, stay in enumerate(row.get("stays") or []):
        where = stay_path if i == 0 else f"stays.{i}"
        found += [(f"{where}.{key}", stay.get(key), zone) for key in ("checkIn", "checkOut")]
    for i, flight in enumerate(row.get("flights") or []):
        zones = flight_zones(flight, zone)
        found += [
            (f"flights.{i}.departureTime", flight.get("departureTime"), zones.departure),
            (f"flights.{i}.arrivalTime", flight.get("arrivalTime"), zones.arrival),
        ]
    car = row.get("rental_car") or {}
    found += [(f"rentalCar.{key}", car.get(key), zone) for key in ("pickupTime", "dropoffTime")]
    return found


def times_in_gaps(
    kind: Kind, row: Mapping[str, Any], zone: str | None, *, stay_path: str = "stays.0"
) -> list[tuple[str, str]]:
    """(path, message) of each local time of the row that does not exist in its zone (a
    spring-forward gap). Ambiguous times (the fall-back hour) are fine: they mean the first one."""
    problems = []
    for path, text, zone_name in _local_times(kind, row, zone, stay_path):
        tz, local = localtime.zone(zone_name), localtime.parse_local(text)
        if (
            tz is not None
            and zone_name is not None
            and local is not None
            and (found := localtime.gap(local, tz)) is not None
        ):
            problems.append((path, localtime.gap_message(local, zone_name, found)))
    return problems


async def check_row(
    conn: AsyncConnection,
    kind: Kind,
    trip: Mapping[str, Any],
    row: Row,
    details: Details,
    *,
    member_ids: set[str] | None = None,
    stay_path: str = "stays.0",
) -> None:
    """Cross-field and cross-row rules that a single field cannot express. Bulk writers pass the
    trip's `member_ids` once instead of one owner lookup per item. `stay_path` names the first
    stay in details (`accommodation` when the body sent that). A local time in a DST gap raises
    at once, with a message naming the gap."""
    if "start_date" in row and "end_date" in row and row["end_date"] < row["start_date"]:
        details.append({"path": "endDate", "reason": "out_of_range"})
    trip_id = trip["id"]
    zone = row.get("timezone")
    if kind is COMMITMENT:
        for column, table, path in (("leg_id", t.legs, "legId"), ("map_pin_id", t.map_pins, "mapPinId")):
            if row.get(column) and not await _exists(conn, table, trip_id, row[column]):
                details.append({"path": path, "reason": "not_found"})
        if (
            row.get("start_time")
            and row.get("end_time")
            and row["end_time"] < row["start_time"]
            and not row.get("is_all_day")
        ):
            details.append({"path": "endTime", "reason": "out_of_range"})
        if not zone and row.get("leg_id") and row.get("start_time"):
            zone = (await leg_timezones_of(conn, trip_id, row)).get(row["leg_id"])
    if kind in (LEG, COMMITMENT) and (gaps := times_in_gaps(kind, row, zone, stay_path=stay_path)):
        others = describe(details)
        details.extend({"path": path, "reason": "invalid"} for path, _ in gaps)
        raise validation_error(
            details, "; ".join([_some([message for _, message in gaps])] + ([others] if others else []))
        )
    if kind is ACTION_ITEM and row.get("owner") and member_ids is not None:
        if row["owner"] not in member_ids:
            details.append({"path": "owner", "reason": "not_found"})
    elif kind is ACTION_ITEM and row.get("owner"):
        owner = await conn.execute(
            select(t.trip_members.c.user_id).where(
                t.trip_members.c.trip_id == trip_id, t.trip_members.c.user_id == row["owner"]
            )
        )
        if owner.first() is None:
            details.append({"path": "owner", "reason": "not_found"})


async def _exists(conn: AsyncConnection, table: Table, trip_id: str, row_id: str) -> bool:
    found = await conn.execute(select(table.c.id).where(table.c.id == row_id, table.c.trip_id == trip_id))
    return found.first() is not None


def parse(kind: Kind, body: Any, *, update_body: bool = False) -> BaseModel:
    """Validate a raw JSON object as this kind's create (or update) body."""
    from pydantic import ValidationError

    from app.server.errors import from_pydantic

    model = kind.update_model if update_body else kind.create_model
    if not isinstance(body, dict):
        raise validation_error([{"path": "", "reason": "invalid"}], "Expected a JSON object")
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise from_pydantic(exc) from None


# --- writes -------------------------------------------------------------------------------


async def get_row(conn: AsyncConnection, kind: Kind, trip_id: str, row_id: str) -> Row:
    if not plausible_id(row_id):
        raise not_found(kind.label)
    row = (
        (
            await conn.execute(
                select(kind.table).where(kind.table.c.id == row_id, kind.table.c.trip_id == trip_id)
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise not_found(kind.label)
    return dict(row)


async def find_by_client_ref(conn: AsyncConnection, kind: Kind, trip_id: str, client_ref: str) -> Row | None:
    row = (
        (
            await conn.execute(
                select(kind.table).where(
                    kind.table.c.trip_id == trip_id, kind.table.c.client_ref == client_ref
                )
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def upsert(
    conn: AsyncConnection, kind: Kind, trip: Mapping[str, Any], data: BaseModel, *, dry_run: bool = False
) -> Outcome:
    """Create a row, or diff-merge into the row with the same clientRef (only sent fields change)."""
    await lock_trip(conn, trip["id"])
    existing = None
    client_ref = getattr(data, "client_ref", None) if kind.has_client_ref else None
    if client_ref:
        existing = await find_by_client_ref(conn, kind, trip["id"], client_ref)
    if existing is not None:
        return await _apply(conn, kind, trip, existing, data, dry_run=dry_run)
    changes, details = merge(kind, DEFAULTS[kind.name], data)
    row = {**DEFAULTS[kind.name], **changes, "id": new_id(), "trip_id": trip["id"], "created_at": now_ms()}
    await check_row(conn, kind, trip, row, details, stay_path=stay_path(data))
    if details:
        raise validation_error(details)
    if not dry_run:
        if client_ref:
            # Two creates with one new clientRef may race (PostgreSQL runs them side by side): the
            # loser's insert hits the unique constraint and merges into the winner's row instead.
            try:
                async with conn.begin_nested():
                    await conn.execute(insert(kind.table).values(**row))
            except IntegrityError:
                existing = await find_by_client_ref(conn, kind, trip["id"], client_ref)
                if existing is None:
                    raise
                return await _apply(conn, kind, trip, existing, data)
        else:
            await conn.execute(insert(kind.table).values(**row))
        note_row(conn, kind.name, None, row)
    zones = await leg_timezones_of(conn, trip["id"], row) if kind is COMMITMENT else None
    return Outcome("created", row, events.event_changes([], row_events(kind, row, zones)), kind.to_wire)


async def update_row(
    conn: AsyncConnection, kind: Kind, trip: Mapping[str, Any], row_id: str, data: BaseModel
) -> Outcome:
    await lock_trip(conn, trip["id"])
    existing = await get_row(conn, kind, trip["id"], row_id)
    return await _apply(conn, kind, trip, existing, data)


async def _apply(
    conn: AsyncConnection,
    kind: Kind,
    trip: Mapping[str, Any],
    existing: Row,
    data: BaseModel,
    *,
    dry_run: bool = False,
) -> Outcome:
    changes, details = merge(kind, existing, data)
    changes = {column: value for column, value in changes.items() if existing.get(column) != value}
    row = {**existing, **changes}
    await check_row(conn, kind, trip, row, details, stay_path=stay_path(data))
    if details:
        raise validation_error(details)
    if (
        "client_ref" in changes
        and changes["client_ref"]
        and changes["client_ref"] != existing.get("client_ref")
    ):
        other = await find_by_client_ref(conn, kind, trip["id"], changes["client_ref"])
        if other is not None:
            raise ApiError(
                409,
                "CONFLICT",
                f"Another {kind.label.lower()} of this trip has that clientRef",
                [{"path": "clientRef", "reason": "invalid"}],
            )
    if changes and not dry_run:
        try:
            await conn.execute(update(kind.table).where(kind.table.c.id == existing["id"]).values(**changes))
        except IntegrityError:  # a concurrent write took the clientRef after the check above
            raise ApiError(
                409,
                "CONFLICT",
                f"Another {kind.label.lower()} of this trip has that clientRef",
                [{"path": "clientRef", "reason": "invalid"}],
            ) from None
        note_row(conn, kind.name, existing, row)
    zones = await leg_timezones_of(conn, trip["id"], existing, row) if kind is COMMITMENT else None
    event_changes = events.event_changes(row_events(kind, existing, zones), row_events(kind, row, zones))
    if kind is LEG and "timezone" in changes:
        event_changes += await zone_changes_of_linked(
            conn, trip["id"], existing["id"], existing["timezone"], row["timezone"]
        )
    return Outcome("updated", row, event_changes, kind.to_wire, changed=bool(changes))


async def delete_row(conn: AsyncConnection, kind: Kind, trip: Mapping[str, Any], row_id: str) -> Outcome:
    await lock_trip(conn, trip["id"])
    existing = await get_row(conn, kind, trip["id"], row_id)
    zones = await leg_timezones_of(conn, trip["id"], existing) if kind is COMMITMENT else None
    changes = events.event_changes(row_events(kind, existing, zones), [])
    # Links to a deleted leg or pin are cleared, so no commitment points at nothing.
    link = {"leg": "leg_id", "map_pin": "map_pin_id"}.get(kind.name)
    if link:
        linked = cast(
            "Sequence[Mapping[str, Any]]",
            (
                await conn.execute(
                    select(t.commitments).where(
                        t.commitments.c.trip_id == trip["id"], t.commitments.c[link] == row_id
                    )
                )
            )
            .mappings()
            .all(),
        )
        # Before: each commitment in its leg's zone (a deleted leg's too); after, unlinked from the
        # leg, one without a zone of its own floats.
        zones = (
            {row_id: existing["timezone"]}
            if kind is LEG
            else await leg_timezones_of(conn, trip["id"], *linked)
        )
        for commitment in linked:
            after = {**commitment, link: None}
            changes += events.event_changes(
                row_events(COMMITMENT, commitment, zones), row_events(COMMITMENT, after, zones)
            )
            note_row(conn, COMMITMENT.name, commitment, after)
        if linked:
            await conn.execute(
                update(t.commitments)
                .where(t.commitments.c.trip_id == trip["id"], t.commitments.c[link] == row_id)
                .values({link: None})
            )
    await conn.execute(delete(kind.table).where(kind.table.c.id == row_id))
    note_row(conn, kind.name, existing, None)
    return Outcome("deleted", existing, changes, kind.to_wire)


# --- reads --------------------------------------------------------------------------------


async def list_page(
    conn: AsyncConnection, kind: Kind, trip_id: str, *, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    query = select(kind.table).where(kind.table.c.trip_id == trip_id)
    rows, next_cursor = await pagination.page(conn, query, kind.sort(), limit=limit, cursor=cursor)
    return [kind.to_wire(r) for r in rows], next_cursor


async def list_all(conn: AsyncConnection, kind: Kind, trip_id: str) -> list[Mapping[str, Any]]:
    query = select(kind.table).where(kind.table.c.trip_id == trip_id).order_by(*kind.sort())
    return [dict(r) for r in (await conn.execute(query)).mappings().all()]
