"""The whole trip read at one moment: the export, and (reduced to its safe fields) what a share
link shows. Call it inside `Database.snapshot()` so every part sees the same revision."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from app.server.storage import content, members
from app.server.storage import trips as trip_store


async def trip_snapshot(conn: AsyncConnection, trip_id: str) -> dict[str, Any]:
    """Trip, legs, map pins, action items, commitments and members, read in one transaction."""
    snapshot: dict[str, Any] = {"trip": await trip_store.get_trip(conn, trip_id)}
    for wire_name, kind in (
        ("legs", content.LEG),
        ("mapPins", content.MAP_PIN),
        ("actionItems", content.ACTION_ITEM),
        ("commitments", content.COMMITMENT),
    ):
        snapshot[wire_name] = [kind.to_wire(row) for row in await content.list_all(conn, kind, trip_id)]
    snapshot["members"], _ = await members.list_members(conn, trip_id)
    return snapshot
