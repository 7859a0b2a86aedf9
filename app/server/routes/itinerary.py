"""The itinerary read endpoints (Travelmode names): the full event list, the diff since a
revision, and the compact summary with scheduling conflicts."""

import asyncio
from typing import Any

from fastapi import APIRouter, Query

from app.domain import timeline
from app.domain.itinerary import Itinerary, ItineraryDiff, ItinerarySummary
from app.server.auth import TripReader
from app.server.deps import Db
from app.server.errors import ErrorResponses, validation_error
from app.server.responses import JSON
from app.server.storage import itinerary as store

router = APIRouter(prefix="/trips/{trip_id}/itinerary", tags=["itinerary"], responses=ErrorResponses)


@router.get(
    "", response_model=Itinerary, summary="The trip's events at its current revision, by date and time"
)
async def get_itinerary(db: Db, access: TripReader) -> Any:
    async with db.read() as conn:
        snap = await store.snapshot(conn, access.trip_id)
    events = timeline.itinerary_events(snap.legs, snap.commitments)
    return JSON(
        {
            "trip_id": snap.trip["id"],
            "revision": snap.trip["revision"],
            "status": snap.trip["status"],
            "event_count": len(events),
            "events": events,
        }
    )


@router.get(
    "/diff",
    response_model=ItineraryDiff,
    summary="Operations since a revision, and the net change of each event",
    description="`since_revision` must be between 1 and the current revision (else 400). Each event "
    "appears once in `event_diffs`: added, updated or removed relative to revision `since_revision`; "
    "an event added and removed again in between does not appear.",
)
async def get_diff(db: Db, access: TripReader, since_revision: int = Query(...)) -> Any:
    async with db.read() as conn:
        current = await store.current_revision(conn, access.trip_id)
        if not 1 <= since_revision <= current:
            raise validation_error(
                [{"path": "since_revision", "reason": "out_of_range"}],
                f"since_revision must be between 1 and the current revision {current}",
            )
        operations = await store.operations_since(conn, access.trip_id, since_revision)
    operations = [op for op in operations if op["result_revision"] <= current]
    return JSON(
        {
            "trip_id": access.trip_id,
            "since_revision": since_revision,
            "current_revision": current,
            "operations": [timeline.operation_wire(op) for op in operations],
            "event_diffs": timeline.net_event_diffs(operations),
        }
    )


# From this many legs, commitments and map pins on, the summary is computed off the event loop.
OFF_LOOP_ROWS = 500


@router.get(
    "/summary",
    response_model=ItinerarySummary,
    summary="Counts by type, bounds, scheduling conflicts and a compact event list",
)
async def get_summary(db: Db, access: TripReader) -> Any:
    async with db.read() as conn:
        snap = await store.snapshot(conn, access.trip_id, map_pins=True)
    rows = len(snap.legs) + len(snap.commitments) + len(snap.map_pins)
    if rows < OFF_LOOP_ROWS:
        return JSON(timeline.summary(snap.trip, snap.legs, snap.commitments, snap.map_pins))
    # A big trip's summary and its JSON take milliseconds of CPU (about 15 ms for 1,000 legs and
    # 1,000 commitments): computed in a worker thread, the event loop keeps serving meanwhile.
    return await asyncio.to_thread(
        lambda: JSON(timeline.summary(snap.trip, snap.legs, snap.commitments, snap.map_pins))
    )
