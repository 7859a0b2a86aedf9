"""`POST /trips/{tripId}/ops`: one compare-and-set timeline operation (see app.server.operations)."""

from typing import Any

from fastapi import APIRouter, Request

from app.domain.bulk import ErrorEnvelope
from app.domain.itinerary import OpRequest, OpResult
from app.server import operations
from app.server.auth import TripEditor
from app.server.errors import ErrorResponses
from app.server.responses import JSON

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
async def apply_op(request: Request, access: TripEditor, body: OpRequest) -> Any:
    async with request.app.state.db.write() as conn:
        result = await operations.apply(conn, access.trip_id, body)
    return JSON(result)
