"""Trips and their members."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.server.clock import new_id, now_ms
from app.server.storage import converters, pagination
from app.server.storage import tables as t
from app.server.storage.revisions import lock_trip

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
    row = (
        (await conn.execute(select(t.trips, member_count()).where(t.trips.c.id == trip_id))).mappings().one()
    )
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


async def list_members(
    conn: AsyncConnection, trip_id: str, *, limit: int | None = None, cursor: str | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    query = (
        select(
            t.trip_members.c.user_id, t.trip_members.c.role, t.users.c.name, t.users.c.email, t.users.c.phone
        )
        .join(t.users, t.users.c.id == t.trip_members.c.user_id)
        .where(t.trip_members.c.trip_id == trip_id)
    )
    sort = [t.trip_members.c.created_at, t.trip_members.c.user_id]
    if limit is None:
        rows = (await conn.execute(query.order_by(*sort))).mappings().all()
        return [converters.member(r) for r in rows], None
    rows, next_cursor = await pagination.page(conn, query, sort, limit=limit, cursor=cursor)
    return [converters.member(r) for r in rows], next_cursor
