"""Whole-trip import and export: `POST /trips/{tripId}/sync[?dryRun=true]`, `GET .../export`."""

from typing import Any

from fastapi import APIRouter, Query

from app.domain import bulk as b
from app.server.auth import TripEditor, TripReader
from app.server.deps import Db
from app.server.errors import ErrorResponses
from app.server.responses import JSON
from app.server.storage import bulk, content
from app.server.storage.revisions import record_change
from app.server.storage.snapshots import trip_snapshot

router = APIRouter(prefix="/trips/{trip_id}", tags=["sync"], responses=ErrorResponses)

CATEGORIES = (
    ("legs", "legs", content.LEG),
    ("actionItems", "action_items", content.ACTION_ITEM),
    ("mapPins", "map_pins", content.MAP_PIN),
)


@router.post(
    "/sync",
    response_model=b.SyncResult,
    responses={207: {"model": b.SyncResult, "description": "At least one item failed (see items)"}},
    summary="Import legs, action items and map pins (clientRef diff-merge); dryRun=true writes nothing",
)
async def sync(
    db: Db,
    access: TripEditor,
    body: b.SyncRequest,
    dry_run: bool = Query(False, alias="dryRun", description="Predict the outcome without writing"),
) -> Any:
    # A dry run reads only; a real run is one write transaction, so it lands whole or not at all.
    async with db.read() if dry_run else db.write() as conn:
        trip = (access.trip if dry_run else await bulk.lock_trip(conn, access.trip_id)) or access.trip
        members = await bulk.member_ids(conn, access.trip_id)
        outcomes = {}
        for wire_name, attribute, kind in CATEGORIES:
            items = getattr(body, attribute) or []
            outcomes[wire_name] = await bulk.upsert_many(
                conn, kind, trip, items, dry_run=dry_run, members=members
            )
        if not dry_run and any(o.written for o in outcomes.values()):
            changes = [change for o in outcomes.values() for change in o.changes]
            await record_change(conn, access.trip_id, "sync", changes, actor=access.key)
    answer: dict[str, Any] = {"dryRun": dry_run}
    failed = False
    for wire_name, outcome in outcomes.items():
        errors = outcome.count("error")
        failed = failed or errors > 0
        answer[wire_name] = {
            "created": outcome.count("created"),
            "updated": outcome.count("updated"),
            "errors": errors,
            "items": [r.wire() for r in outcome.results],
        }
    return JSON(answer, status_code=207 if failed else 200)


@router.get("/export", response_model=b.TripExport, summary="The whole trip in one consistent snapshot")
async def export(db: Db, access: TripReader) -> Any:
    async with db.snapshot() as conn:
        return JSON(await trip_snapshot(conn, access.trip_id))
