"""Reads for the itinerary, its diff and the live changes feed: one consistent snapshot of a
trip's timeline rows, the operation log, and the trip's newest revision and message."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.server.errors import not_found
from app.server.storage import content
from app.server.storage import tables as t

Row = dict[str, Any]


@dataclass
class Snapshot:
    trip: Row
    legs: list[Mapping[str, Any]]
    commitments: list[Mapping[str, Any]]
    map_pins: list[Mapping[str, Any]]


async def _trip(conn: AsyncConnection, trip_id: str) -> Row:
    row = (await conn.execute(select(t.trips).where(t.trips.c.id == trip_id))).mappings().first()
    if row is None:
        raise not_found("Trip")
    return dict(row)


async def snapshot(conn: AsyncConnection, trip_id: str, *, map_pins: bool = False) -> Snapshot:
    """The trip row and its timeline rows as of one revision.

    SQLite read transactions are snapshots already; PostgreSQL's default READ COMMITTED gives each
    statement its own, so the revision is read before and after and the read repeated if a
    write to this trip committed in between (every such write bumps the revision).
    """
    for _attempt in range(50):
        trip = await _trip(conn, trip_id)
        legs = await content.list_all(conn, content.LEG, trip_id)
        commitments = await content.list_all(conn, content.COMMITMENT, trip_id)
        pins = await content.list_all(conn, content.MAP_PIN, trip_id) if map_pins else []
        again = (await conn.execute(select(t.trips.c.revision).where(t.trips.c.id == trip_id))).scalar()
        if again == trip["revision"]:
            break
    return Snapshot(trip, legs, commitments, pins)


async def current_revision(conn: AsyncConnection, trip_id: str) -> int:
    return (await _trip(conn, trip_id))["revision"]


async def operations_since(
    conn: AsyncConnection, trip_id: str, revision: int, *, limit: int | None = None
) -> list[Row]:
    """Logged operations with result_revision > `revision`, oldest first."""
    query = (
        select(t.operations)
        .where(t.operations.c.trip_id == trip_id, t.operations.c.result_revision > revision)
        .order_by(t.operations.c.result_revision)
    )
    if limit is not None:
        query = query.limit(limit)
    return [dict(r) for r in (await conn.execute(query)).mappings().all()]


async def messages_since(conn: AsyncConnection, trip_id: str, seq: int, *, limit: int) -> list[Row]:
    """The trip's messages (every channel) with seq > `seq`, oldest first."""
    query = (
        select(t.messages)
        .where(t.messages.c.trip_id == trip_id, t.messages.c.seq > seq)
        .order_by(t.messages.c.seq)
        .limit(limit)
    )
    return [dict(r) for r in (await conn.execute(query)).mappings().all()]


def _latest_seq(trip_column):
    return (
        select(func.max(t.messages.c.seq))
        .where(t.messages.c.trip_id == trip_column)
        .correlate(t.trips)
        .scalar_subquery()
    )


async def latest(conn: AsyncConnection, trip_ids: Iterable[str]) -> dict[str, tuple[int, int]]:
    """(revision, newest message seq or 0) of each trip, in one query per 500 trips."""
    ids = list(trip_ids)
    found: dict[str, tuple[int, int]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = await conn.execute(
            select(t.trips.c.id, t.trips.c.revision, _latest_seq(t.trips.c.id)).where(t.trips.c.id.in_(chunk))
        )
        for trip_id, revision, seq in rows:
            found[trip_id] = (revision, seq or 0)
    return found
