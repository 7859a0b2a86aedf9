"""Trips: list, create, get, update, archive."""

from typing import Any

from fastapi import APIRouter

from app.domain import models as m
from app.server.auth import CurrentKey, TripEditor, TripReader, TripWriter, ensure_role, require_scope
from app.server.deps import Db
from app.server.errors import ErrorResponses, forbidden, validation_error
from app.server.responses import JSON, PAGE_DEFAULT, PAGE_MAX, limit_query, page
from app.server.storage import trips as trip_store
from app.server.storage.revisions import record_change

router = APIRouter(tags=["trips"], responses=ErrorResponses)


@router.get("/trips", response_model=m.TripPage, summary="List the trips this key may read")
async def list_trips(
    db: Db,
    key: CurrentKey,
    limit: int = limit_query(PAGE_DEFAULT, PAGE_MAX),
    cursor: str | None = None,
) -> Any:
    require_scope(key, "trips:read")
    async with db.read() as conn:
        items, next_cursor = await trip_store.list_trips(
            conn, key.user_id, key.trip_limits("trips:read"), limit=limit, cursor=cursor
        )
    return page(items, next_cursor)


@router.post(
    "/trips", response_model=m.Trip, status_code=201, summary="Create a trip (draft, with a general channel)"
)
async def create_trip(db: Db, key: CurrentKey, body: m.TripCreate) -> Any:
    require_scope(key, "trips:write")
    if key.trip_limits("trips:write") is not None:
        raise forbidden("A key limited to certain trips may not create new ones")
    details = []
    async with db.write() as conn:
        if not await trip_store.in_group(conn, body.group_id, key.user_id):
            details.append({"path": "groupId", "reason": "not_found"})
        if body.end_date < body.start_date:
            details.append({"path": "endDate", "reason": "out_of_range"})
        if details:
            raise validation_error(details)
        row = await trip_store.create_trip(
            conn,
            group_id=body.group_id,
            title=body.title,
            start_date=body.start_date,
            end_date=body.end_date,
            created_by=key.user_id,
            min_connection_minutes=body.min_connection_minutes,
        )
        trip = await trip_store.get_trip(conn, row["id"])
    return JSON(trip, status_code=201)


@router.get("/trips/{trip_id}", response_model=m.Trip, summary="Get a trip")
async def get_trip(db: Db, access: TripReader) -> Any:
    async with db.read() as conn:
        return JSON(await trip_store.get_trip(conn, access.trip_id))


@router.patch("/trips/{trip_id}", response_model=m.Trip, summary="Update a trip's title, dates or status")
async def update_trip(db: Db, access: TripEditor, body: m.TripUpdate) -> Any:
    changes = {}
    details = []
    for name in body.model_fields_set:
        value = getattr(body, name)
        if value is None:
            path = {
                "start_date": "startDate",
                "end_date": "endDate",
                "min_connection_minutes": "minConnectionMinutes",
            }.get(name, name)
            details.append({"path": path, "reason": "invalid"})
        else:
            changes[name] = value.value if isinstance(value, m.TripStatus) else value
    merged = {**access.trip, **changes}
    if (merged["status"] == "completed") != (access.trip["status"] == "completed"):
        # Archiving, or taking a trip out of its archive, by PATCH as by DELETE or a revert.
        ensure_role(
            access, access.role.may_manage_members, "Only an owner or planner may archive or unarchive a trip"
        )
    if merged["end_date"] < merged["start_date"]:
        details.append({"path": "endDate", "reason": "out_of_range"})
    if details:
        raise validation_error(details)
    async with db.write() as conn:
        if changes:
            await trip_store.update_trip(conn, access.trip_id, changes)
            await record_change(conn, access.trip_id, "update_trip", actor=access.key)
        trip = await trip_store.get_trip(conn, access.trip_id)
    return JSON(trip)


@router.delete("/trips/{trip_id}", response_model=m.Trip, summary="Archive a trip (status becomes completed)")
async def archive_trip(db: Db, access: TripWriter) -> Any:
    ensure_role(access, access.role.may_manage_members, "Only an owner or planner may archive a trip")
    async with db.write() as conn:
        if access.trip["status"] != "completed":
            await trip_store.update_trip(conn, access.trip_id, {"status": "completed"})
            await record_change(conn, access.trip_id, "archive_trip", actor=access.key)
        trip = await trip_store.get_trip(conn, access.trip_id)
    return JSON(trip)
