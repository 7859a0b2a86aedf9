"""`POST /trips/{tripId}/ops`: one compare-and-set timeline operation (see app.server.operations);
the activity feed of those operations and their revert (see app.server.activity)."""

from typing import Any

from fastapi import APIRouter

from app.domain.activity import ActivityPage, RevertRequest, RevertResult
from app.domain.bulk import ErrorEnvelope
from app.domain.itinerary import OpRequest, OpResult
from app.server import activity, operations
from app.server.auth import TripEditor, TripReader
from app.server.deps import Db
from app.server.errors import ErrorResponses
from app.server.responses import JSON, PAGE_DEFAULT, PAGE_MAX, limit_query, page

router = APIRouter(prefix="/trips/{trip_id}", tags=["itinerary"], responses=ErrorResponses)


@router.post(
    "/ops",
    response_model=OpResult,
    summary="Apply one timeline operation if the trip is still at base_revision",
    description="Needs trips:write and an owner, planner or editor role. 409 STALE_REVISION "
    "(with top-level `code`, `current_revision`, `base_revision`) when the trip moved on: re-read and "
    "retry. 409 OPERATION_REJECTED when the op does not fit the timeline: an unknown event_id, a date "
    "outside the trip, a move that would end after midnight, a reorder that is not a permutation of "
    "the trip's legs.",
    responses={409: {"model": ErrorEnvelope, "description": "STALE_REVISION or OPERATION_REJECTED"}},
)
async def apply_op(db: Db, access: TripEditor, body: OpRequest) -> Any:
    async with db.write() as conn:
        result = await operations.apply(conn, access.trip_id, body, actor=access.key)
    return JSON(result)


@router.get(
    "/operations",
    response_model=ActivityPage,
    tags=["activity"],
    summary="The trip's activity feed: every change, newest first, with who made it and what changed",
    description="Needs trips:read. Each item: `op_id`, `operation_type`, `result_revision`, `created_at` "
    "(ms), `actor {userId, name, keyName}`, `summary` (one sentence), `changes` (per row: `id`, `kind`, "
    "`change`, `label`, `fields {name: {before, after}}` with only the fields that changed), "
    "`reverted_by` and `reverts`. Messages are not operations.",
)
async def list_operations(
    db: Db,
    access: TripReader,
    limit: int = limit_query(PAGE_DEFAULT, PAGE_MAX),
    cursor: str | None = None,
) -> Any:
    async with db.read() as conn:
        items, next_cursor = await activity.page(conn, access.trip_id, limit=limit, cursor=cursor)
    return page(items, next_cursor)


@router.post(
    "/operations/{op_id}/revert",
    response_model=RevertResult,
    tags=["activity"],
    summary="Undo one operation as a new operation, if the trip is still at base_revision",
    description="Needs trips:write and the role the original change needed. A create is deleted, a "
    "delete re-created with its id, an update set back; the revert is itself an operation (revert it "
    "to redo). 409 STALE_REVISION as for ops; 409 REVERT_CONFLICT when a later operation changed the "
    "same fields of the same rows (nothing is written; `details` and `conflicting_operations` name "
    "those operations); 409 OPERATION_REJECTED for an operation logged before the feed kept its rows.",
    responses={
        409: {"model": ErrorEnvelope, "description": "STALE_REVISION, REVERT_CONFLICT or OPERATION_REJECTED"}
    },
)
async def revert_operation(db: Db, op_id: str, access: TripEditor, body: RevertRequest) -> Any:
    async with db.write() as conn:
        result = await activity.revert(conn, access, op_id, body.base_revision)
    return JSON(result)
