"""Reads and writes of the operation log for the activity feed and revert: a page of it newest
first (keyset on the log's primary key, so every page costs the same however long the log), one
operation by id, the operations after a revision."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.server.storage import pagination
from app.server.storage import tables as t

Row = dict[str, Any]

_ops = t.operations


def _with_actor():
    return select(_ops, t.users.c.name.label("actor_name")).outerjoin(
        t.users, t.users.c.id == _ops.c.actor_id
    )


async def page(
    conn: AsyncConnection, trip_id: str, *, limit: int, cursor: str | None
) -> tuple[list[Row], str | None]:
    """One page of the trip's operations, newest first, each with its actor's current name."""
    query = _with_actor().where(_ops.c.trip_id == trip_id)
    rows, next_cursor = await pagination.page(
        conn, query, [_ops.c.result_revision], limit=limit, cursor=cursor, descending=True
    )
    return [dict(row) for row in rows], next_cursor


async def by_id(conn: AsyncConnection, trip_id: str, op_id: str) -> Row | None:
    row = (
        (await conn.execute(_with_actor().where(_ops.c.trip_id == trip_id, _ops.c.op_id == op_id)))
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def after(conn: AsyncConnection, trip_id: str, revision: int) -> list[Row]:
    """The operations after `revision`, oldest first (only read when a revert finds a conflict)."""
    query = _with_actor().where(_ops.c.trip_id == trip_id, _ops.c.result_revision > revision)
    return [
        dict(row) for row in (await conn.execute(query.order_by(_ops.c.result_revision))).mappings().all()
    ]


async def reverted_ones(conn: AsyncConnection, trip_id: str, op_ids: Iterable[str]) -> dict[str, Row]:
    """{op_id: that operation} for the operations these reverts undid (their actor and whether
    each was itself a revert: the sentence says whose change was undone, or redone)."""
    wanted = sorted(set(op_ids))
    if not wanted:
        return {}
    query = _with_actor().where(_ops.c.trip_id == trip_id, _ops.c.op_id.in_(wanted))
    return {row["op_id"]: dict(row) for row in (await conn.execute(query)).mappings().all()}


async def mark_reverted(conn: AsyncConnection, trip_id: str, op_id: str, revert_op_id: str) -> None:
    await conn.execute(
        update(_ops).where(_ops.c.trip_id == trip_id, _ops.c.op_id == op_id).values(reverted_by=revert_op_id)
    )


async def current_row(conn: AsyncConnection, table, trip_id: str, row_id: str) -> Row | None:
    """The row as it stands now (None: not there), without its trip_id."""
    condition = [table.c.id == row_id]
    if "trip_id" in table.c:
        condition.append(table.c.trip_id == trip_id)
    found = (await conn.execute(select(table).where(*condition))).mappings().first()
    if found is None:
        return None
    return {key: value for key, value in found.items() if key != "trip_id"}
