"""Batch upserts: `legs:batch`, `action-items:batch`, `map-pins:batch` (1..50 items, each alone)."""

from typing import Any

from fastapi import APIRouter

from app.domain import bulk as b
from app.server.auth import TripEditor
from app.server.deps import Db
from app.server.errors import ErrorResponses
from app.server.responses import JSON
from app.server.storage import bulk, content
from app.server.storage.database import Database
from app.server.storage.revisions import record_change

router = APIRouter(prefix="/trips/{trip_id}", tags=["batch"], responses=ErrorResponses)

PARTIAL: dict[int | str, dict[str, Any]] = {
    207: {"model": b.BatchResult, "description": "At least one item failed (see results)"}
}


async def run_batch(db: Database, access: TripEditor, kind: content.Kind, items: list[Any]) -> JSON:
    async with db.write() as conn:
        trip = await bulk.lock_trip(conn, access.trip_id) or access.trip
        members = await bulk.member_ids(conn, access.trip_id)
        outcome = await bulk.upsert_many(conn, kind, trip, items, dry_run=False, members=members)
        if outcome.written:
            await record_change(conn, access.trip_id, f"batch_{kind.name}", outcome.changes, actor=access.key)
    errors = outcome.count("error")
    body = {
        "created": outcome.count("created"),
        "updated": outcome.count("updated"),
        "errors": errors,
        "results": [r.wire() for r in outcome.results],
    }
    return JSON(body, status_code=207 if errors else 200)


@router.post("/legs:batch", response_model=b.BatchResult, responses=PARTIAL, summary="Upsert up to 50 legs")
async def legs_batch(db: Db, access: TripEditor, body: b.LegBatch) -> Any:
    return await run_batch(db, access, content.LEG, body.items)


@router.post(
    "/action-items:batch",
    response_model=b.BatchResult,
    responses=PARTIAL,
    summary="Upsert up to 50 action items",
)
async def action_items_batch(db: Db, access: TripEditor, body: b.ActionItemBatch) -> Any:
    return await run_batch(db, access, content.ACTION_ITEM, body.items)


@router.post(
    "/map-pins:batch", response_model=b.BatchResult, responses=PARTIAL, summary="Upsert up to 50 map pins"
)
async def map_pins_batch(db: Db, access: TripEditor, body: b.MapPinBatch) -> Any:
    return await run_batch(db, access, content.MAP_PIN, body.items)
