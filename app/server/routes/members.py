"""Trip members and their roles (owner, planner, editor, viewer)."""

from typing import Any

from fastapi import APIRouter, Request
from starlette.background import BackgroundTask
from starlette.responses import Response

from app.domain import models as m
from app.server.auth import MemberCache, TripReader, TripWriter, ensure_role
from app.server.deps import Db
from app.server.errors import ApiError, ErrorResponses, validation_error
from app.server.responses import JSON, PAGE_DEFAULT, PAGE_MAX, limit_query, page
from app.server.storage import members as store
from app.server.storage.revisions import lock_trip

router = APIRouter(prefix="/trips/{trip_id}", tags=["members"], responses=ErrorResponses)

MANAGERS_ONLY = "Only an owner or planner may manage members"
ALREADY_MEMBER = "That user is already a member; PATCH their role instead"


def forget_members_when_answered(request: Request) -> BackgroundTask | None:
    """This process's member cache forgets once the answer is sent, so after the change has
    committed (an Idempotency-Key's transaction commits after the route returns): the caller's
    next request is checked against the new membership. Other processes hear it from the
    database's triggers (auth.MemberCache)."""
    cache: MemberCache | None = getattr(request.app.state, "member_cache", None)
    if cache is None:
        return None

    async def forget() -> None:  # async: Starlette would run a plain function on a thread
        cache.forget()

    return BackgroundTask(forget)


@router.get("/members", response_model=m.MemberPage, summary="List members with roles and contact details")
async def list_members(
    db: Db,
    access: TripReader,
    limit: int = limit_query(PAGE_DEFAULT, PAGE_MAX),
    cursor: str | None = None,
) -> Any:
    async with db.read() as conn:
        items, next_cursor = await store.list_members(conn, access.trip_id, limit=limit, cursor=cursor)
    return page(items, next_cursor)


@router.post("/members", response_model=m.Member, status_code=201, summary="Add an existing user as a member")
async def add_member(db: Db, access: TripWriter, body: m.MemberCreate) -> Any:
    ensure_role(access, access.role.may_manage_members, MANAGERS_ONLY)
    if body.role is m.Role.OWNER and access.role is not m.Role.OWNER:
        raise ApiError(403, "FORBIDDEN", "Only an owner may add another owner")
    async with db.write() as conn:
        await lock_trip(conn, access.trip_id)
        user_id = await store.user_of_email(conn, body.email)
        if user_id is None:
            raise validation_error([{"path": "email", "reason": "not_found"}], "No user with that email")
        if await store.is_member(conn, access.trip_id, user_id):
            raise ApiError(409, "CONFLICT", ALREADY_MEMBER)
        if not await store.add_member(conn, access.trip_id, user_id, body.role.value):
            raise ApiError(409, "CONFLICT", ALREADY_MEMBER)
        return JSON(await store.get_member(conn, access.trip_id, user_id), status_code=201)


@router.patch("/members/{user_id}", response_model=m.Member, summary="Change a member's role")
async def change_role(
    request: Request, db: Db, user_id: str, access: TripWriter, body: m.MemberUpdate
) -> Any:
    ensure_role(access, access.role.may_manage_members, MANAGERS_ONLY)
    async with db.write() as conn:
        await lock_trip(conn, access.trip_id)
        current = await store.get_member(conn, access.trip_id, user_id)
        touches_owner = m.Role.OWNER in (body.role, current["role"])
        if touches_owner and access.role is not m.Role.OWNER:
            raise ApiError(403, "FORBIDDEN", "Only an owner may grant or take away the owner role")
        if (
            current["role"] == "owner"
            and body.role is not m.Role.OWNER
            and await store.owner_count(conn, access.trip_id) == 1
        ):
            raise ApiError(409, "CONFLICT", "The last owner cannot be demoted; make someone else owner first")
        await store.set_role(conn, access.trip_id, user_id, body.role.value)
        return JSON(
            await store.get_member(conn, access.trip_id, user_id),
            background=forget_members_when_answered(request),
        )


@router.delete("/members/{user_id}", status_code=204, summary="Remove a member")
async def remove_member(request: Request, db: Db, user_id: str, access: TripWriter) -> Response:
    leaving_alone = user_id == access.key.user_id
    ensure_role(access, leaving_alone or access.role.may_manage_members, MANAGERS_ONLY)
    async with db.write() as conn:
        await lock_trip(conn, access.trip_id)
        current = await store.get_member(conn, access.trip_id, user_id)
        if current["role"] == "owner":
            if access.role is not m.Role.OWNER:
                raise ApiError(403, "FORBIDDEN", "Only an owner may remove an owner")
            if await store.owner_count(conn, access.trip_id) == 1:
                raise ApiError(409, "CONFLICT", "The last owner cannot be removed")
        await store.remove_member(conn, access.trip_id, user_id)
    return Response(status_code=204, background=forget_members_when_answered(request))
