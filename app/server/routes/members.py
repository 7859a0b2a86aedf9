"""Trip members and their roles (owner, planner, editor, viewer)."""

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from starlette.responses import Response

from app.domain import models as m
from app.server.auth import TripReader, TripWriter, ensure_role
from app.server.clock import now_ms
from app.server.errors import ApiError, ErrorResponses, not_found, validation_error
from app.server.responses import JSON, PAGE_DEFAULT, PAGE_MAX, limit_query, page
from app.server.storage import tables as t
from app.server.storage import trips as trip_store
from app.server.storage.revisions import lock_trip

router = APIRouter(prefix="/trips/{trip_id}", tags=["members"], responses=ErrorResponses)

MANAGERS_ONLY = "Only an owner or planner may manage members"


@router.get("/members", response_model=m.MemberPage, summary="List members with roles and contact details")
async def list_members(
    request: Request,
    access: TripReader,
    limit: int = limit_query(PAGE_DEFAULT, PAGE_MAX),
    cursor: str | None = None,
) -> Any:
    async with request.app.state.db.read() as conn:
        items, next_cursor = await trip_store.list_members(conn, access.trip_id, limit=limit, cursor=cursor)
    return page(items, next_cursor)


async def _member(conn, trip_id: str, user_id: str) -> dict:
    members, _ = await trip_store.list_members(conn, trip_id)
    found = next((x for x in members if x["userId"] == user_id), None)
    if found is None:
        raise not_found("Member")
    return found


async def _owners(conn, trip_id: str) -> int:
    query = select(func.count()).where(t.trip_members.c.trip_id == trip_id, t.trip_members.c.role == "owner")
    return (await conn.execute(query)).scalar_one()


@router.post("/members", response_model=m.Member, status_code=201, summary="Add an existing user as a member")
async def add_member(request: Request, access: TripWriter, body: m.MemberCreate) -> Any:
    ensure_role(access, access.role.may_manage_members, MANAGERS_ONLY)
    if body.role is m.Role.OWNER and access.role is not m.Role.OWNER:
        raise ApiError(403, "FORBIDDEN", "Only an owner may add another owner")
    async with request.app.state.db.write() as conn:
        await lock_trip(conn, access.trip_id)
        user_id = (await conn.execute(select(t.users.c.id).where(t.users.c.email == body.email))).scalar()
        if user_id is None:
            raise validation_error([{"path": "email", "reason": "not_found"}], "No user with that email")
        existing = await conn.execute(
            select(t.trip_members.c.role).where(
                t.trip_members.c.trip_id == access.trip_id, t.trip_members.c.user_id == user_id
            )
        )
        if existing.first() is not None:
            raise ApiError(409, "CONFLICT", "That user is already a member; PATCH their role instead")
        try:
            await conn.execute(
                insert(t.trip_members).values(
                    trip_id=access.trip_id, user_id=user_id, role=body.role.value, created_at=now_ms()
                )
            )
        except IntegrityError:  # a concurrent add of the same user won
            raise ApiError(
                409, "CONFLICT", "That user is already a member; PATCH their role instead"
            ) from None
        return JSON(await _member(conn, access.trip_id, user_id), status_code=201)


@router.patch("/members/{user_id}", response_model=m.Member, summary="Change a member's role")
async def change_role(request: Request, user_id: str, access: TripWriter, body: m.MemberUpdate) -> Any:
    ensure_role(access, access.role.may_manage_members, MANAGERS_ONLY)
    async with request.app.state.db.write() as conn:
        await lock_trip(conn, access.trip_id)
        current = await _member(conn, access.trip_id, user_id)
        touches_owner = m.Role.OWNER in (body.role, current["role"])
        if touches_owner and access.role is not m.Role.OWNER:
            raise ApiError(403, "FORBIDDEN", "Only an owner may grant or take away the owner role")
        if (
            current["role"] == "owner"
            and body.role is not m.Role.OWNER
            and await _owners(conn, access.trip_id) == 1
        ):
            raise ApiError(409, "CONFLICT", "The last owner cannot be demoted; make someone else owner first")
        await conn.execute(
            update(t.trip_members)
            .where(t.trip_members.c.trip_id == access.trip_id, t.trip_members.c.user_id == user_id)
            .values(role=body.role.value)
        )
        return JSON(await _member(conn, access.trip_id, user_id))


@router.delete("/members/{user_id}", status_code=204, summary="Remove a member")
async def remove_member(request: Request, user_id: str, access: TripWriter) -> Response:
    leaving_alone = user_id == access.key.user_id
    ensure_role(access, leaving_alone or access.role.may_manage_members, MANAGERS_ONLY)
    async with request.app.state.db.write() as conn:
        await lock_trip(conn, access.trip_id)
        current = await _member(conn, access.trip_id, user_id)
        if current["role"] == "owner":
            if access.role is not m.Role.OWNER:
                raise ApiError(403, "FORBIDDEN", "Only an owner may remove an owner")
            if await _owners(conn, access.trip_id) == 1:
                raise ApiError(409, "CONFLICT", "The last owner cannot be removed")
        await conn.execute(
            delete(t.trip_members).where(
                t.trip_members.c.trip_id == access.trip_id, t.trip_members.c.user_id == user_id
            )
        )
    return Response(status_code=204)
