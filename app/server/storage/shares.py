"""A trip's share token: made here, stored only as its hash (one per trip, a new one replaces
it), and the trip it opens. `trip ssh` checks tokens against the same hash."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.server.errors import not_found
from app.server.storage import tables as t

TOKEN_PREFIX = "shr_"


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def set_token(conn: AsyncConnection, trip_id: str, token: str | None) -> None:
    """Keep the hash of `token` as the trip's one share token (None revokes it)."""
    digest = None if token is None else hash_token(token)
    await conn.execute(update(t.trips).where(t.trips.c.id == trip_id).values(share_token_hash=digest))


async def trip_of_token(conn: AsyncConnection, digest: str) -> str:
    """The trip whose token has this hash; 404 for a token unknown or revoked."""
    trip_id: str | None = (
        await conn.execute(select(t.trips.c.id).where(t.trips.c.share_token_hash == digest))
    ).scalar()
    if trip_id is None:
        raise not_found("Shared trip")
    return trip_id
