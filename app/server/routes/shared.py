"""Share tokens: create, replace and revoke a trip's token; read the trip through it, no key needed."""

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.domain import bulk as b
from app.server import share
from app.server.auth import TripEditor
from app.server.deps import Db
from app.server.errors import ApiError, ErrorResponses
from app.server.idempotency import replay_with
from app.server.responses import JSON
from app.server.storage import shares
from app.server.storage import trips as trip_store
from app.server.storage.database import Database
from app.server.storage.shares import hash_token
from app.server.storage.snapshots import trip_snapshot

router = APIRouter(tags=["sharing"], responses=ErrorResponses)


@router.post(
    "/trips/{trip_id}/share-token",
    response_model=b.ShareToken,
    status_code=201,
    summary="Create a share token (replaces the previous one)",
)
async def create_share_token(request: Request, db: Db, access: TripEditor) -> Any:
    token = shares.new_token()
    async with db.write() as conn:
        await shares.set_token(conn, access.trip_id, token)
    # The token is shown once and stored only as its hash: a replay cannot show it again.
    replay_with(request, secret_not_replayed())
    base = request.app.state.settings.public_url or str(request.base_url)
    url = f"{base.rstrip('/')}/api/v1/shared/trips/{token}"
    return JSON({"token": token, "url": url}, status_code=201)


def secret_not_replayed() -> ApiError:
    return ApiError(
        409,
        "SECRET_NOT_REPLAYED",
        "This request already made a share token, which is shown only once and not kept; "
        "create a new one with a new Idempotency-Key (it replaces the lost one)",
    )


@router.delete("/trips/{trip_id}/share-token", status_code=204, summary="Revoke the share token")
async def revoke_share_token(db: Db, access: TripEditor) -> Response:
    async with db.write() as conn:
        await shares.set_token(conn, access.trip_id, None)
    return Response(status_code=204)


async def open_shared(request: Request, db: Database, token: str) -> str:
    """Check the token (404 for unknown or revoked) and count the read against its own limit."""
    digest = hash_token(token)
    async with db.read() as conn:
        await shares.trip_of_token(conn, digest)
    limiter = getattr(request.app.state, "rate_limiter", None)
    if limiter is not None:
        await limiter.check(request, f"share:{digest[:40]}")
    return digest


@router.get("/shared/trips/{token}", response_model=b.SharedTrip, summary="The shared trip (no key needed)")
async def shared_trip(request: Request, db: Db, token: str) -> Any:
    digest = await open_shared(request, db, token)
    async with db.read() as conn:
        # Looked up again inside the read: a token revoked meanwhile shows nothing.
        trip_id = await shares.trip_of_token(conn, digest)
        return JSON(share.trip(await trip_store.get_trip(conn, trip_id)))


@router.get(
    "/shared/trips/{token}/export",
    response_model=b.SharedExport,
    summary="The shared snapshot: the export's shape, safe fields only (no key needed)",
)
async def shared_export(request: Request, db: Db, token: str) -> Any:
    digest = await open_shared(request, db, token)
    async with db.snapshot() as conn:
        trip_id = await shares.trip_of_token(conn, digest)
        return JSON(share.snapshot(await trip_snapshot(conn, trip_id)))
