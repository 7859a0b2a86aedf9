"""A trip's members and their roles: the list, one member, the owners, and adding, changing and
removing one. The rules (who may, the last owner) are the route's."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import ColumnElement, and_, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from app.server.clock import now_ms
from app.server.errors import not_found
from app.server.storage import converters, pagination
from app.server.storage import tables as t


def _one(trip_id: str, user_id: str) -> ColumnElement[bool]:
    return and_(t.trip_members.c.trip_id == trip_id, t.trip_members.c.user_id == user_id)


async def list_members(
    conn: AsyncConnection, trip_id: str, *, limit: int | None = None, cursor: str | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """Oldest member first; every member when `limit` is None, else one page."""
    query = (
        select(
            t.trip_members.c.user_id, t.trip_members.c.role, t.users.c.name, t.users.c.email, t.users.c.phone
        )
        .join(t.users, t.users.c.id == t.trip_members.c.user_id)
        .where(t.trip_members.c.trip_id == trip_id)
    )
    sort = [t.trip_members.c.created_at, t.trip_members.c.user_id]
    if limit is None:
        found = await conn.execute(query.order_by(*sort))
        rows = cast("Sequence[Mapping[str, Any]]", found.mappings().all())
        return [converters.member(r) for r in rows], None
    rows, next_cursor = await pagination.page(conn, query, sort, limit=limit, cursor=cursor)
    return [converters.member(r) for r in rows], next_cursor


async def get_member(conn: AsyncConnection, trip_id: str, user_id: str) -> dict[str, Any]:
    """The member as the API shows it; 404 when the user is not one."""
    members, _ = await list_members(conn, trip_id)
    found = next((x for x in members if x["userId"] == user_id), None)
    if found is None:
        raise not_found("Member")
    return found


async def owner_count(conn: AsyncConnection, trip_id: str) -> int:
    query = select(func.count()).where(t.trip_members.c.trip_id == trip_id, t.trip_members.c.role == "owner")
    count: int = (await conn.execute(query)).scalar_one()
    return count


async def user_of_email(conn: AsyncConnection, email: str) -> str | None:
    user_id: str | None = (await conn.execute(select(t.users.c.id).where(t.users.c.email == email))).scalar()
    return user_id


async def is_member(conn: AsyncConnection, trip_id: str, user_id: str) -> bool:
    found = await conn.execute(select(t.trip_members.c.role).where(_one(trip_id, user_id)))
    return found.first() is not None


async def add_member(conn: AsyncConnection, trip_id: str, user_id: str, role: str) -> bool:
    """False when the user is a member already (a concurrent add of the same user won)."""
    try:
        await conn.execute(
            insert(t.trip_members).values(trip_id=trip_id, user_id=user_id, role=role, created_at=now_ms())
        )
    except IntegrityError:
        return False
    return True


async def set_role(conn: AsyncConnection, trip_id: str, user_id: str, role: str) -> None:
    await conn.execute(update(t.trip_members).where(_one(trip_id, user_id)).values(role=role))


async def remove_member(conn: AsyncConnection, trip_id: str, user_id: str) -> None:
    await conn.execute(delete(t.trip_members).where(_one(trip_id, user_id)))
