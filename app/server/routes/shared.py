"""Share tokens: create, replace and revoke a trip's token; read the trip through it, no key needed."""

import hashlib
import secrets
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import select, update
from starlette.responses import Response

from app.domain import bulk as b
from app.server import share
from app.server.auth import TripEditor
from app.server.errors import ApiError, ErrorResponses, not_found
from app.server.idempotency import replay_with
from app.server.responses import JSON
from app.server.routes.sync import trip_snapshot
from app.server.storage import tables as t
from app.server.storage import trips as trip_store

router = APIRouter(tags=["sharing"], responses=ErrorResponses)

TOKEN_PREFIX = "shr_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@router.post(
    "/trips/{trip_id}/share-token",
    response_model=b.ShareToken,
    status_code=201,
    summary="Create a share token (replaces the previous one)",
)
async def create_share_token(request: Request, access: TripEditor) -> Any:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    async with request.app.state.db.write() as conn:
        await conn.execute(
            update(t.trips).where(t.trips.c.id == access.trip_id).values(share_token_hash=hash_token(token))
        )
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
async def revoke_share_token(request: Request, access: TripEditor) -> Response:
    async with request.app.state.db.write() as conn:
        await conn.execute(
            update(t.trips).where(t.trips.c.id == access.trip_id).values(share_token_hash=None)
        )
    return Response(status_code=204)


async def trip_of_token(conn, digest: str) -> str:
    trip_id = (await conn.execute(select(t.trips.c.id).where(t.trips.c.share_token_hash == digest))).scalar()
    if trip_id is None:
        raise not_found("Shared trip")
    return trip_id


async def open_shared(request: Request, token: str) -> str:
    """Check the token (404 for unknown or revoked) and count the read against its own limit."""
    digest = hash_token(token)
    async with request.app.state.db.read() as conn:
        await trip_of_token(conn, digest)
    limiter = getattr(request.app.state, "rate_limiter", None)
    if limiter is not None:
        await limiter.check(request, f"share:{digest[:40]}")
    return digest


@router.get("/shared/trips/{token}", response_model=b.SharedTrip, summary="The shared trip (no key needed)")
async def shared_trip(request: Request, token: str) -> Any:
    digest = await open_shared(request, token)
    async with request.app.state.db.read() as conn:
        # Looked up again inside the read: a token revoked meanwhile shows nothing.
        trip_id = await trip_of_token(conn, digest)
        return JSON(share.trip(await trip_store.get_trip(conn, trip_id)))


@router.get(
    "/shared/trips/{token}/export",
    response_model=b.SharedExport,
    summary="The shared snapshot: the export's shape, safe fields only (no key needed)",
)
async def shared_export(request: Request, token: str) -> Any:
    digest = await open_shared(request, token)
    async with request.app.state.db.snapshot() as conn:
        trip_id = await trip_of_token(conn, digest)
        return JSON(share.snapshot(await trip_snapshot(conn, trip_id)))
