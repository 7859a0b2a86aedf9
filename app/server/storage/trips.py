"""Trips: their rows, the owner, channel and membership a new one starts with, and the lists."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.server.clock import new_id, now_ms
from app.server.storage import converters, pagination
from app.server.storage import tables as t
from app.server.storage.revisions import lock_trip, note_row

TRIP_CONTENT = ("title", "start_date", "end_date", "status", "min_connection_minutes")
"""The trip's own columns that count as trip content (an operation changes them; a revert restores)."""


def member_count():
    return (
        select(func.count())
        .where(t.trip_members.c.trip_id == t.trips.c.id)
        .correlate(t.trips)
        .scalar_subquery()
        .label("member_count")
    )


async def in_group(conn: AsyncConnection, group_id: str, user_id: str) -> bool:
    """Whether the user belongs to the group (a trip is made in one of the creator's groups)."""
    member = await conn.execute(
        select(t.group_members.c.role).where(
            t.group_members.c.group_id == group_id, t.group_members.c.user_id == user_id
        )
    )
    return member.first() is not None


async def create_trip(
    conn: AsyncConnection,
    *,
    group_id: str,
    title: str,
    start_date: str,
    end_date: str,
    created_by: str,
    min_connection_minutes: int | None = None,
) -> dict[str, Any]:
    now = now_ms()
    row = {
        "id": new_id(),
        "group_id": group_id,
        "title": title,
        "start_date": start_date,
        "end_date": end_date,
        "status": "draft",
        "revision": 1,
        "created_by": created_by,
        "share_token_hash": None,
        "created_at": now,
    }
    if min_connection_minutes is not None:
        row["min_connection_minutes"] = min_connection_minutes
    await conn.execute(insert(t.trips).values(**row))
    await conn.execute(
        insert(t.trip_members).values(trip_id=row["id"], user_id=created_by, role="owner", created_at=now)
    )
    await conn.execute(
        insert(t.channels).values(id=new_id(), trip_id=row["id"], name="general", created_at=now)
    )
    return row


async def get_trip(conn: AsyncConnection, trip_id: str) -> dict[str, Any]:
    found = await conn.execute(select(t.trips, member_count()).where(t.trips.c.id == trip_id))
    row = cast("Mapping[str, Any]", found.mappings().one())
    return converters.trip(row, row["member_count"])


async def trip_row(conn: AsyncConnection, trip_id: str) -> dict[str, Any]:
    """The trip's content columns as stored, for a write that is about to change them."""
    await lock_trip(conn, trip_id)
    row = (await conn.execute(select(t.trips).where(t.trips.c.id == trip_id))).mappings().one()
    return {"id": row["id"], **{column: row[column] for column in TRIP_CONTENT}}


async def list_trips(
    conn: AsyncConnection, user_id: str, only: set[str] | None, *, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    query = (
        select(t.trips, member_count())
        .join(t.trip_members, t.trip_members.c.trip_id == t.trips.c.id)
        .where(t.trip_members.c.user_id == user_id)
    )
    if only is not None:
        query = query.where(t.trips.c.id.in_(only))
    rows, next_cursor = await pagination.page(
        conn, query, [t.trips.c.created_at, t.trips.c.id], limit=limit, cursor=cursor
    )
    return [converters.trip(r, r["member_count"]) for r in rows], next_cursor


async def update_trip(conn: AsyncConnection, trip_id: str, changes: Mapping[str, Any]) -> None:
    """Write `changes` to the trip's own columns, noted for the operation that records them."""
    before = await trip_row(conn, trip_id)
    await conn.execute(update(t.trips).where(t.trips.c.id == trip_id).values(**changes))
    note_row(conn, "trip", before, {**before, **changes})
